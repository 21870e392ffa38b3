"""The composite GitHub Action: its inputs and steps, and its run script executed as the runner
would, against the fake GitHub and tags APIs."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.githttp import GitHTTP
from tests.githttp import serving as serving_git
from tests.gitworld import WORLD_CONFIG, World, git

ROOT = Path(__file__).parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())


def test_inputs():
    inputs = ACTION["inputs"]
    assert set(inputs) == {"config", "api-key", "github-token", "bot-login", "dry-run", "paths", "monthly-calls"}
    # The plan's limit is the account's: from the workflow, as the environment, like the key.
    assert inputs["monthly-calls"]["default"] == ""
    assert ACTION["runs"]["steps"][-1]["env"]["TAGBOT_MONTHLY_CALLS"] == "${{ inputs.monthly-calls }}"
    assert inputs["github-token"]["default"] == "${{ github.token }}"
    # The login reaches tagbot from the workflow (the environment), never from the repository's config.
    assert inputs["bot-login"]["default"] == ""
    assert ACTION["runs"]["steps"][-1]["env"]["TAGBOT_BOT_LOGIN"] == "${{ inputs.bot-login }}"
    assert inputs["api-key"]["required"] is True
    assert (inputs["dry-run"]["default"], inputs["paths"]["default"]) == ("false", ".")


def test_steps_install_from_the_action_checkout_and_keep_the_cache():
    install, cache, run = ACTION["runs"]["steps"]
    assert ACTION["runs"]["using"] == "composite"
    assert '"$GITHUB_ACTION_PATH"' in install["run"] and "pip install" in install["run"]
    assert cache["uses"].startswith("actions/cache@")
    # Each run restores the newest store saved and saves its own: no run's count of calls is lost.
    assert cache["with"]["key"] == "tagbot-store-${{ runner.os }}-${{ github.run_id }}-${{ github.run_attempt }}"
    assert cache["with"]["restore-keys"] == "tagbot-store-${{ runner.os }}-"
    assert {name: spec["value"] for name, spec in ACTION["outputs"].items()} == {
        name: f"${{{{ steps.tagbot.outputs.{name} }}}}" for name in ("pull-requests", "updates", "errors")}
    assert run["id"] == "tagbot"
    assert cache["with"]["path"] == run["env"]["TAGBOT_CACHE_DIR"] == "${{ runner.temp }}/tagbot-cache"
    assert "tagbot" in run["run"] and "${{" not in run["run"]  # inputs arrive as env, never pasted in


def test_the_workflow_example_is_complete():
    workflow = yaml.safe_load((ROOT / ".github/workflows/tagbot.yml").read_text())
    assert "schedule" in workflow[True] and "workflow_dispatch" in workflow[True]  # `on:` reads as True in YAML 1.1
    assert workflow["permissions"] == {"contents": "write", "pull-requests": "write", "issues": "write"}
    steps = workflow["jobs"]["tagbot"]["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@") and steps[1]["uses"] == "./"
    assert steps[1]["with"]["api-key"] == "${{ secrets.OANOR_API_KEY }}"


def _expand(text: str, values: dict[str, str]) -> str:
    """`${{ x }}` expressions replaced, again and again: an input's default may hold one too."""
    while "${{" in text:
        text = re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}", lambda m: values[m.group(1)], text)
    return text


def run_step(world: World, inputs: dict[str, str], runner_temp: Path) -> subprocess.CompletedProcess[str]:
    """The last step's script, with its env filled in as the runner fills it."""
    step = ACTION["runs"]["steps"][-1]
    values = {f"inputs.{name}": spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    values.update({f"inputs.{k}": v for k, v in inputs.items()})
    values.update({"github.token": world.github.token, "runner.temp": str(runner_temp)})
    env = {name: _expand(value, values) for name, value in step["env"].items()}
    # The install step puts its venv's bin on PATH; this interpreter's bin, with its own entry
    # point, stands in for it (activated or not), ahead of any other tagbot.
    assert (Path(sys.executable).parent / "tagbot").is_file()
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(["bash", "-c", step["run"]], cwd=world.checkout, capture_output=True, text=True,
                          env={**os.environ, **env, "PATH": path})


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


@pytest.mark.parametrize("layout", ["local", "included"])
def test_the_run_script_pushes_with_the_github_token_alone(world: World, tmp_path: Path, layout: str,
                                                           monkeypatch: pytest.MonkeyPatch):
    with serving_git(GitHTTP(world.root)) as server:
        git(world.checkout, "remote", "set-url", "origin", f"{server.url}/remote.git")
        checkout_credentials(world.checkout, server.url, tmp_path, layout)
        monkeypatch.setenv("GITHUB_SERVER_URL", server.url)
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
