"""The pre-commit hook: `tagbot check --hook`, and the real pre-commit running it offline."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tagbot.cli import main
from tagbot.scan import kind_of
from tests.loopback import closed_port_url
from tests.fakeapi import FakeTagsAPI

ROOT = Path(__file__).parent.parent


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OANOR_API_KEY", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "Dockerfile").write_text("FROM nginx:latest\nFROM redis\nFROM acme/tiny:1.1.0@sha256:" + "a" * 64 + "\n")
    return tmp_path


def test_without_a_key_only_the_offline_rules_count(repo: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["check", "--hook"]) == 0
    err = capsys.readouterr().err
    assert "OANOR_API_KEY is not set: freshness checked from the cache only" in err
    assert "freshness not checked for 3 images" in err
    # Outside a hook, a check that could check nothing it was asked to fails.
    assert main(["check", "--offline"]) == 2
    assert capsys.readouterr().err.count("not in the cache, and --offline forbids a lookup") == 3


def test_forbidden_tags_fail_offline(repo: Path, capsys: pytest.CaptureFixture[str]):
    (repo / "tagbot.yaml").write_text("forbid_tags: [latest]\n")
    assert main(["check", "--hook"]) == 1
    assert capsys.readouterr().out == (
        "Dockerfile:1:6: nginx: tag latest is forbidden (forbid_tags)\n"
        "Dockerfile:2:6: redis: tag latest is forbidden (forbid_tags)\n"
    )


def test_required_digests_fail_offline(repo: Path, capsys: pytest.CaptureFixture[str]):
    (repo / "tagbot.yaml").write_text("rules:\n  - match: redis\n    require_digest: true\n")
    assert main(["check", "--hook"]) == 1
    assert capsys.readouterr().out == "Dockerfile:2:6: redis: no @sha256 digest (require_digest)\n"


def test_an_unreachable_api_does_not_fail_the_hook(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("OANOR_API_KEY", "k")
    monkeypatch.setenv("TAGBOT_API_URL", closed_port_url())
    monkeypatch.setattr("tagbot.sources.http.BACKOFF", 0.0)
    (repo / "tagbot.yaml").write_text("rate_limit: 100\n")
    assert main(["check", "--hook"]) == 0
    err = capsys.readouterr().err
    # One try per image at most (they run side by side), no retries, no more knocks on a closed door.
    assert re.search(r"; [123] API calls?, 0 from cache", err)
    assert "freshness not checked for 3 images" in err
    assert main(["check"]) == 2  # outside a hook, an unreachable API is an error
    assert "13 API calls" not in capsys.readouterr().err


def test_an_empty_key_is_said_once_and_docker_hub_asked_instead(repo: Path, hub, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("OANOR_API_KEY", "  ")  # a secret that is not set in this repository's settings
    (repo / "tagbot.yaml").write_text(f"registries: {{docker.io: {{url: '{hub.url}'}}}}\nrate_limit: 100\n")
    (repo / "Dockerfile").write_text("FROM acme/tiny:1.1.0\n")
    assert main(["check"]) == 1
    err = capsys.readouterr().err
    assert err.count("OANOR_API_KEY is set but empty") == 1
    assert hub.requests and all(r.startswith("/v2/repositories/acme/tiny/tags") for r in hub.requests)


def test_cached_answers_still_count_without_a_key(repo: Path, tags_api: FakeTagsAPI, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("OANOR_API_KEY", tags_api.key)
    monkeypatch.setenv("TAGBOT_API_URL", tags_api.url)
    main(["check", "Dockerfile"])  # fills the cache
    monkeypatch.delenv("OANOR_API_KEY")
    capsys.readouterr()
    assert main(["check", "--hook"]) == 1
    assert "Dockerfile:3:6: acme/tiny: 1.1.0@sha256:aaaaaaaaaaaa -> 1.2.1@sha256:cccccccccccc" in capsys.readouterr().out


def hook_repository(tmp_path: Path) -> Path:
    """This repository as pre-commit wants it, a git repository: the checkout itself, or, run from
    the sdist, a copy of the sdist committed in one go."""
    if (ROOT / ".git").exists():
        return ROOT
    copy = tmp_path / "tagbot-repository"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    subprocess.run(["git", "init", "-q"], cwd=copy, check=True)
    subprocess.run(["git", "add", "."], cwd=copy, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "sdist"],
                   cwd=copy, check=True)
    return copy


def test_the_real_pre_commit_runs_the_hook_offline(repo: Path, tmp_path_factory: pytest.TempPathFactory):
    """pre-commit installs tagbot from this repository into its own environment and runs the hook."""
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / "tagbot.yaml").write_text("forbid_tags: [latest]\n")
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    env = {k: v for k, v in os.environ.items() if k != "OANOR_API_KEY"}
    env["PRE_COMMIT_HOME"] = str(repo / ".pre-commit-home")
    pre_commit = shutil.which("pre-commit") or f"{sys.executable} -m pre_commit"
    hooks = str(hook_repository(tmp_path_factory.mktemp("hook")))

    def commit_check() -> subprocess.CompletedProcess[str]:
        return subprocess.run([*pre_commit.split(), "try-repo", hooks, "tagbot-check", "--files", "Dockerfile", "compose.yaml"],
                              cwd=repo, env=env, capture_output=True, text=True, timeout=600)

    result = commit_check()
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    # file:line:column: message, the form editors and pre-commit users read.
    assert "Dockerfile:1:6: nginx: tag latest is forbidden (forbid_tags)" in output
    assert "freshness checked from the cache only" in output
    # A passing hook's output shows too (verbose: true in the hook's definition): a commit that
    # checked no freshness says so, instead of a bare "Passed".
    (repo / "tagbot.yaml").write_text("")
    result = commit_check()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Passed" in output and "freshness not checked for 3 images" in output


@pytest.mark.parametrize(
    "path",
    ["Dockerfile", "app/Dockerfile", "Dockerfile.dev", "dockerfile", "DOCKERFILE", "Containerfile", "api.Dockerfile",
     "Dockerfile-dev", "Dockerfile.dockerignore", "compose.yaml", "compose.prod.yml", "docker-compose.yml",
     "docker-compose-dev.yaml", "deploy/compose.yaml", "composer.yaml", "my-compose.yml", "Compose.yaml",
     "compose.json", "README.md", ".github/workflows/ci.yml", "deploy/app.yaml", "chart/values.yml", "Kustomization",
     "base/kustomization.yaml", ".gitlab-ci.yml", ".devcontainer.json", ".devcontainer/devcontainer.json",
     ".devcontainer/py/devcontainer.json", ".devcontainer/a/b/devcontainer.json", "devcontainer.json", "app.json",
     "docker-bake.hcl", "action.yml", "values.yaml.bak", "tagbot/scan/dockerfile.py", "Dockerfile.md", "Dockerfile.Orig",
     "Containerfile.sh", "Dockerfile.alpine", "dockerfile.arm64", "Jenkinsfile", "ci/Jenkinsfile.release",
     "deploy.jenkinsfile", "Jenkinsfile.md", "jenkinsfile", ".buildkite/pipeline.yml", "web.container", "db.image",
     "data.volume", "main.tf", "main.tofu", "main.tf.json", "job.nomad", "job.nomad.hcl", "config.hcl",
     "roles/db/tasks/main.yml", "site.yml", "Makefile", "logo.image.png"],
)
def test_the_hook_runs_on_the_files_tagbot_reads_images_from(path: str):
    """pre-commit decides by `files:` which commits run the hook; tagbot by kind_of which files
    it reads. They must agree, or a commit skips the check (or runs it for nothing)."""
    hook = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())[0]
    assert bool(re.search(hook["files"], path)) == (kind_of(path) not in (None, "bake")), path


def test_a_server_that_never_answers_holds_the_hook_seconds_not_minutes(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                                        capsys: pytest.CaptureFixture[str]):
    # Issue 20: a server that accepts but never answers held the hook 18.9 s.
    import socket
    import time

    monkeypatch.setattr("tagbot.run.HOOK_READ_TIMEOUT", 1.0)  # the mechanism, not its 5 s, is under test
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        monkeypatch.setenv("OANOR_API_KEY", "k")
        monkeypatch.setenv("TAGBOT_API_URL", f"http://127.0.0.1:{silent.getsockname()[1]}")
        (repo / "tagbot.yaml").write_text("rate_limit: 100\n")
        started = time.monotonic()
        assert main(["check", "--hook"]) == 0
        took = time.monotonic() - started
    err = capsys.readouterr().err
    assert "freshness not checked for 3 images" in err
    assert took < 6, took  # one short read time-out for the host, then it is let go (18.9 s before)
