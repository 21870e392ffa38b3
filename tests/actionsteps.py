"""The composite Action's steps run as a runner runs them: each `run:` script in bash with its
`env:` expressions filled in from the inputs, earlier steps' outputs and the runner's context,
`$GITHUB_OUTPUT` read back after each step, and `if:` conditions on earlier outputs honoured."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())


def expand(text: str, values: dict[str, str]) -> str:
    """`${{ a || b }}` replaced by the first non-empty value, again and again: an input's default
    may hold an expression too."""
    def one(match: re.Match[str]) -> str:
        return next((values.get(name.strip(), "") for name in match.group(1).split("||")
                     if values.get(name.strip(), "")), "")
    while "${{" in text:
        text = re.sub(r"\$\{\{\s*([\w.\s|-]+?)\s*\}\}", one, text)
    return text


@dataclass
class Runner:
    temp: Path
    env: dict[str, str]
    values: dict[str, str] = field(default_factory=dict)
    path_added: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)

    def run(self, step: dict, cwd: Path) -> subprocess.CompletedProcess[str]:
        outputs, added = self.temp / "github-output", self.temp / "github-path"
        outputs.write_text("")
        added.write_text("")
        env = {**os.environ, **self.env, "RUNNER_TEMP": str(self.temp), "GITHUB_ACTION_PATH": str(ROOT),
               "GITHUB_OUTPUT": str(outputs), "GITHUB_PATH": str(added),
               **{name: expand(str(value), self.values) for name, value in step.get("env", {}).items()}}
        env["PATH"] = os.pathsep.join([*reversed(self.path_added), env.get("PATH", "")])
        # As the runner runs `shell: bash`.
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=cwd, env=env,
                                capture_output=True, text=True)
        self.ran.append(step["name"])
        for line in outputs.read_text().splitlines():
            name, _, value = line.partition("=")
            self.values[f"steps.{step.get('id', '')}.outputs.{name}"] = value
        self.path_added += added.read_text().splitlines()
        return result


def run_steps(runner: Runner, names: list[str], cwd: Path,
              uses: Callable[[dict, Runner], None] = lambda step, runner: None) -> None:
    """The named steps in order; a `uses:` step is `uses(step, runner)`'s to stand in for."""
    for step in ACTION["runs"]["steps"]:
        if step["name"] not in names:
            continue
        condition = step.get("if")
        if condition and not _holds(condition, runner.values):
            continue
        if "uses" in step:
            uses(step, runner)
            continue
        result = runner.run(step, cwd)
        assert result.returncode == 0, f"{step['name']}: {result.stdout}{result.stderr}"


def _holds(condition: str, values: dict[str, str]) -> bool:
    left, operator, right = re.fullmatch(r"\s*([\w.-]+)\s*(==|!=)\s*'([^']*)'\s*", condition).groups()
    return (values.get(left, "") == right) == (operator == "==")
