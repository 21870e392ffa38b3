"""A repository world for `tagbot pr`: a real bare git remote, a clone as the user's checkout,
the fake GitHub API that PyGithub talks to, and the fake tags API, all on this machine."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tagbot.cli import main
from tests.fakeapi import FakeTagsAPI
from tests.fakeapi import serving as serving_tags
from tests.fakegithub import FakeGitHub, serving


DOCKERFILE = "FROM acme/tiny:1.1.0 AS tool\nFROM acme/other:2.0.0\nCOPY --from=tool /t /t\n"
COMPOSE = "services:\n  tool:\n    image: acme/tiny:1.1.0  # the tool\n"
# Docker Hub's registry, which links read image labels from, is not on this machine.
WORLD_CONFIG = "rate_limit: 100\nlinks: false\n"


def tags_file(folder: Path, name: str, versions: list[str]) -> None:
    tags = [{"name": v, "size": 1000 + i, "digest": "sha256:" + f"{i:x}" * 64, "platforms": ["linux/amd64", "linux/arm64"],
             "last_updated": f"2026-08-{10 - i:02d}T00:00:00Z"} for i, v in enumerate(versions)]
    body = {"data": {"tags": tags}, "meta": {}, "status": "ok", "message": "ok", "success": True}
    (folder / f"{name.replace('/', '__')}.tags.json").write_text(json.dumps(body))


def git(cwd: Path, *args: str, email: str = "dev@example.com") -> str:
    env_args = ["-c", "user.name=Dev", "-c", f"user.email={email}", "-c", "init.defaultBranch=main"]
    return subprocess.run(["git", "-C", str(cwd), *env_args, *args], check=True, capture_output=True, text=True).stdout.strip()


class World:
    def __init__(self, root: Path, github: FakeGitHub, tags: FakeTagsAPI) -> None:
        self.root, self.github, self.tags = root, github, tags
        self.remote, self.checkout, self.fixtures = root / "remote.git", root / "checkout", root / "fixtures"

    def remote_file(self, branch: str, path: str) -> str:
        return git(self.remote, "show", f"{branch}:{path}")

    def push_to_main(self, path: str, text: str) -> None:
        work = self.root / "other-clone"
        if not work.exists():
            git(self.root, "clone", "-q", str(self.remote), str(work))
        git(work, "pull", "-q")
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
        git(work, "add", "--", f"./{path}")  # `./`: a name starting with `:` is no pathspec magic
        git(work, "commit", "-qm", f"Edit {path} by hand")
        git(work, "push", "-q")

    def pr(self, *args: str) -> int:
        return main(["pr", "--no-cache", *args])


def make_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    remote, seed, checkout, fixtures = tmp_path / "remote.git", tmp_path / "seed", tmp_path / "checkout", tmp_path / "fixtures"
    fixtures.mkdir()
    tags_file(fixtures, "acme/tiny", ["1.2.1", "1.2.0", "1.1.0"])
    tags_file(fixtures, "acme/other", ["3.0.0", "2.1.0", "2.0.0"])
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(tmp_path, "init", "-q", str(seed))
    (seed / "Dockerfile").write_text(DOCKERFILE)
    (seed / "compose.yaml").write_text(COMPOSE)
    (seed / "tagbot.yaml").write_text(WORLD_CONFIG)
    git(seed, "add", ".")
    git(seed, "commit", "-qm", "Initial")
    git(seed, "push", "-q", str(remote), "HEAD:main")
    git(tmp_path, "clone", "-q", str(remote), str(checkout))
    with serving(FakeGitHub(remote)) as github, serving_tags(FakeTagsAPI(fixtures)) as tags:
        monkeypatch.chdir(checkout)
        # The fake GitHub has no secondary rate limit to respect: no second between writes.
        monkeypatch.setattr("tagbot.pr.github.SECONDS_BETWEEN_WRITES", 0.0)
        monkeypatch.setattr("tagbot.pr.github.SECONDS_BETWEEN_REQUESTS", 0.0)
        monkeypatch.setenv("GITHUB_TOKEN", github.token)
        monkeypatch.setenv("GITHUB_REPOSITORY", github.repository)
        monkeypatch.setenv("GITHUB_API_URL", github.url)
        monkeypatch.setenv("OANOR_API_KEY", tags.key)
        monkeypatch.setenv("TAGBOT_API_URL", tags.url)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        yield World(tmp_path, github, tags)
