"""The composite GitHub Action: its inputs and steps, and its run script executed as the runner
would, against the fake GitHub and tags APIs."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.githttp import GitHTTP
from tests.githttp import serving as serving_git
from tests.actionsteps import ACTION, ROOT, Runner, run_steps
from tests.gitworld import WORLD_CONFIG, World, git


def test_inputs():
    inputs = ACTION["inputs"]
    assert set(inputs) == {"config", "api-key", "github-token", "bot-login", "dry-run", "paths", "monthly-calls"}
    # The plan's limit is the account's: from the workflow, as the environment, like the key.
    assert inputs["monthly-calls"]["default"] == ""
    assert steps_by_name()["Open, update and close pull requests"]["env"]["TAGBOT_MONTHLY_CALLS"] == "${{ inputs.monthly-calls }}"
    assert inputs["github-token"]["default"] == "${{ github.token }}"
    # The login reaches tagbot from the workflow (the environment), never from the repository's config.
    assert inputs["bot-login"]["default"] == ""
    assert steps_by_name()["Open, update and close pull requests"]["env"]["TAGBOT_BOT_LOGIN"] == "${{ inputs.bot-login }}"
    assert inputs["api-key"]["required"] is True
    assert (inputs["dry-run"]["default"], inputs["paths"]["default"]) == ("false", ".")


def steps_by_name() -> dict[str, dict]:
    return {step["name"]: step for step in ACTION["runs"]["steps"]}


def test_steps_install_from_the_action_checkout_and_keep_the_cache():
    steps = steps_by_name()
    assert list(steps) == ["Find Python", "Set up Python", "Plan the install", "Restore the install", "Install tagbot",
                           "Put tagbot on PATH", "Restore the store", "Open, update and close pull requests"]
    install, cache, run = steps["Install tagbot"], steps["Restore the store"], steps["Open, update and close pull requests"]
    assert ACTION["runs"]["using"] == "composite"
    assert '"$GITHUB_ACTION_PATH"' in install["run"] and "pip install" in install["run"]
    assert '--constraint "$GITHUB_ACTION_PATH/action-constraints.txt"' in install["run"]
    assert install["if"] == "steps.install-cache.outputs.cache-hit != 'true'"
    assert steps["Set up Python"]["if"] == "steps.python.outputs.path == ''"
    assert cache["uses"].startswith("actions/cache@")
    # Each run restores the newest store saved and saves its own: no run's count of calls is lost.
    assert cache["with"]["key"] == "tagbot-store-${{ runner.os }}-${{ github.run_id }}-${{ github.run_attempt }}"
    assert cache["with"]["restore-keys"] == "tagbot-store-${{ runner.os }}-"
    assert {name: spec["value"] for name, spec in ACTION["outputs"].items()} == {
        name: f"${{{{ steps.tagbot.outputs.{name} }}}}" for name in ("pull-requests", "updates", "errors")}
    assert run["id"] == "tagbot"
    assert cache["with"]["path"] == run["env"]["TAGBOT_CACHE_DIR"] == "${{ runner.temp }}/tagbot-cache"
    for step in ACTION["runs"]["steps"]:  # inputs and outputs arrive as env, never pasted into a script
        assert "${{" not in step.get("run", ""), step["name"]
        assert step.get("shell", "bash") == "bash"  # bash on every runner, Windows' Git Bash too


def test_the_constraints_pin_every_dependency_the_install_brings():
    pinned = {line.split("==")[0].lower().replace("_", "-") for line in (ROOT / "action-constraints.txt").read_text().splitlines()
              if line and not line.startswith("#")}
    listed = re.search(r"^dependencies = \[(.*?)^\]", (ROOT / "pyproject.toml").read_text(), re.M | re.S).group(1)
    wanted = re.findall(r'^\s*"([A-Za-z0-9_.-]+)', listed, re.M)
    assert len(wanted) >= 5 and {name.lower() for name in wanted} <= pinned
    assert all(re.fullmatch(r"[\w.-]+==[\w.+-]+", line) for line in (ROOT / "action-constraints.txt").read_text().splitlines()
               if line and not line.startswith("#"))


@pytest.mark.parametrize(("runner_os", "bin_folder"), [("Linux", "bin"), ("macOS", "bin"), ("Windows", "Scripts")])
def test_a_warm_run_restores_the_install_and_installs_nothing(tmp_path: Path, runner_os: str, bin_folder: str):
    runner = Runner(tmp_path, {"RUNNER_OS": runner_os, "RUNNER_ARCH": "X64"})

    def restored(step: dict, runner: Runner) -> None:
        if step["name"] == "Set up Python":
            raise AssertionError("a runner with Python 3.10+ needs no setup-python")
        # actions/cache hits: the venv of an earlier run is back where the plan put it.
        assert step["with"]["path"] == "${{ steps.install-plan.outputs.venv }}"
        venv = Path(runner.values["steps.install-plan.outputs.venv"])
        (venv / bin_folder).mkdir(parents=True)
        (venv / bin_folder / "tagbot").symlink_to(Path(sys.executable).parent / "tagbot")
        runner.values["steps.install-cache.outputs.cache-hit"] = "true"

    run_steps(runner, list(steps_by_name())[:6], ROOT, uses=restored)
    assert runner.ran == ["Find Python", "Plan the install", "Put tagbot on PATH"]  # no install
    assert runner.path_added == [str(tmp_path / "tagbot-venv" / bin_folder)]
    key = runner.values["steps.install-plan.outputs.key"]
    assert re.fullmatch(rf"tagbot-install-{runner_os}-X64-py3\.\d+\.\d+-[0-9a-f]{{20}}", key), key


def test_the_install_key_follows_tagbots_files_and_the_python(tmp_path: Path):
    import runpy

    install_key = runpy.run_path(str(ROOT / ".github" / "install-key.py"))["install_key"]
    copy = tmp_path / "action"
    shutil.copytree(ROOT / "tagbot", copy / "tagbot", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "action-constraints.txt"):
        shutil.copy(ROOT / name, copy / name)
    first = install_key(copy, "/usr/bin/python3")
    assert install_key(copy, "/usr/bin/python3") == first
    assert install_key(copy, "/opt/hostedtoolcache/Python/3.12.8/x64/bin/python") != first
    (copy / "action-constraints.txt").write_text((copy / "action-constraints.txt").read_text() + "extra==1\n")
    second = install_key(copy, "/usr/bin/python3")
    (copy / "tagbot" / "refs.py").write_text((copy / "tagbot" / "refs.py").read_text() + "\n")
    assert len({first, second, install_key(copy, "/usr/bin/python3")}) == 3


def test_every_action_used_is_pinned_by_commit():
    """A tag can be moved to other code; a commit cannot. The version is in a comment."""
    files = [ROOT / "action.yml", *sorted((ROOT / ".github" / "workflows").glob("*.yml"))]
    for file in files:
        for line in file.read_text().splitlines():
            used = re.match(r"\s*(?:- )?uses: (\S+)(.*)", line)
            if used and not used.group(1).startswith("./"):
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", used.group(1)), f"{file.name}: {line.strip()}"
                assert re.match(r"\s+# v\d+(\.\d+)*\b", used.group(2)), f"{file.name}: {line.strip()}"


def test_every_job_has_a_time_limit():
    for file in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        for name, job in yaml.safe_load(file.read_text())["jobs"].items():
            assert "uses" in job or isinstance(job.get("timeout-minutes"), int), f"{file.name}: {name}"


def test_the_workflow_example_is_complete():
    workflow = yaml.safe_load((ROOT / ".github/workflows/tagbot.yml").read_text())
    assert "schedule" in workflow[True] and "workflow_dispatch" in workflow[True]  # `on:` reads as True in YAML 1.1
    assert workflow["permissions"] == {"contents": "write", "pull-requests": "write", "issues": "write"}
    steps = workflow["jobs"]["tagbot"]["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@") and steps[1]["uses"] == "./"
    assert steps[1]["with"]["api-key"] == "${{ secrets.OANOR_API_KEY }}"


def run_step(world: World, inputs: dict[str, str], runner_temp: Path) -> subprocess.CompletedProcess[str]:
    """The last step's script, with its env filled in as the runner fills it."""
    step = steps_by_name()["Open, update and close pull requests"]
    values = {f"inputs.{name}": spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    values.update({f"inputs.{k}": v for k, v in inputs.items()})
    values.update({"github.token": world.github.token, "runner.temp": str(runner_temp)})
    # The install step puts its venv's bin on PATH; this interpreter's bin, with its own entry
    # point, stands in for it (activated or not), ahead of any other tagbot.
    assert (Path(sys.executable).parent / "tagbot").is_file()
    runner = Runner(runner_temp, {}, values=values, path_added=[str(Path(sys.executable).parent)])
    return runner.run(step, world.checkout)


def basic(token: str) -> str:
    return "AUTHORIZATION: basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()


def checkout_credentials(checkout: Path, server_url: str, runner_temp: Path, layout: str) -> None:
    """The header actions/checkout leaves for git: in `.git/config` up to v4.2 / v5.0.0, and since
    v6.0.0 (v5.0.1, v4.3.1) in a file under $RUNNER_TEMP that `.git/config` includes by gitdir."""
    key, value = f"http.{server_url}/.extraheader", basic("the-checkout-token")
    if layout == "local":
        git(checkout, "config", "--local", key, value)
        return
    included = runner_temp / "git-credentials-5f1c.config"
    git(checkout, "config", "--file", str(included), key, value)
    git(checkout, "config", "--local", f"includeIf.gitdir:{checkout / '.git'}.path", str(included))
    git(checkout, "config", "--local", f"includeIf.gitdir:{checkout / '.git'}/worktrees/*.path", str(included))


@pytest.mark.parametrize(("layout", "server_url_end"), [("local", ""), ("included", ""), ("included", "/")])
def test_the_run_script_pushes_with_the_github_token_alone(world: World, tmp_path: Path, layout: str, server_url_end: str,
                                                           monkeypatch: pytest.MonkeyPatch):
    with serving_git(GitHTTP(world.root)) as server:
        git(world.checkout, "remote", "set-url", "origin", f"{server.url}/remote.git")
        checkout_credentials(world.checkout, server.url, tmp_path, layout)
        monkeypatch.setenv("GITHUB_SERVER_URL", server.url + server_url_end)
        result = run_step(world, {"api-key": world.tags.key}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert {p["head"] for p in world.github.open_pulls()} == {"tagbot/acme-tiny", "tagbot/acme-other", "tagbot/acme-other-major"}
    assert (tmp_path / "tagbot-cache" / "store.sqlite3").is_file()  # the store actions/cache will save
    assert world.github.token not in result.stdout + result.stderr
    # Every fetch and push carried the github-token input, as the API calls do, and nothing else:
    # two Authorization headers are a 403 on GitHub.
    assert len(server.authorizations) >= 6
    assert all(sent == [basic(world.github.token).split(": ", 1)[1]] for sent in server.authorizations), server.authorizations
    # The token is handed to git for the run, not written where the next step would find it.
    assert world.github.token not in (world.checkout / ".git" / "config").read_text()


def test_the_run_script_honours_dry_run_paths_and_config(world: World, tmp_path: Path):
    (world.checkout / "ci.yaml").write_text(WORLD_CONFIG + "group_by: all\nseparate_major: false\n")
    inputs = {"api-key": world.tags.key, "dry-run": "true", "paths": "compose.yaml", "config": "ci.yaml"}
    result = run_step(world, inputs, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "open    tagbot/all" in result.stdout and "dry run" in result.stdout
    assert world.github.writes == []


def test_a_bad_api_key_fails_the_step_without_showing_it(world: World, tmp_path: Path):
    result = run_step(world, {"api-key": "sk-very-secret"}, tmp_path)
    assert result.returncode == 2
    assert "check the API key in OANOR_API_KEY" in result.stderr
    assert "sk-very-secret" not in result.stdout + result.stderr
