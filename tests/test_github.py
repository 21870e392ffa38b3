"""`tagbot pr` end to end: a real bare git remote, the fake GitHub API that PyGithub talks to,
and the fake tags API, all on this machine."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tagbot.cli import main
from tagbot.git import BOT_EMAIL, redact
from tests.fakeapi import FakeTagsAPI
from tests.fakeapi import serving as serving_tags
from tests.fakegithub import FakeGitHub, serving

DOCKERFILE = "FROM acme/tiny:1.1.0 AS tool\nFROM acme/other:2.0.0\nCOPY --from=tool /t /t\n"
COMPOSE = "services:\n  tool:\n    image: acme/tiny:1.1.0  # the tool\n"


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
        (work / path).write_text(text)
        git(work, "commit", "-qam", f"Edit {path} by hand")
        git(work, "push", "-q")

    def pr(self, *args: str) -> int:
        return main(["pr", "--no-cache", *args])


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    remote, seed, checkout, fixtures = tmp_path / "remote.git", tmp_path / "seed", tmp_path / "checkout", tmp_path / "fixtures"
    fixtures.mkdir()
    tags_file(fixtures, "acme/tiny", ["1.2.1", "1.2.0", "1.1.0"])
    tags_file(fixtures, "acme/other", ["3.0.0", "2.1.0", "2.0.0"])
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(tmp_path, "init", "-q", str(seed))
    (seed / "Dockerfile").write_text(DOCKERFILE)
    (seed / "compose.yaml").write_text(COMPOSE)
    (seed / "tagbot.yaml").write_text("rate_limit: 100\n")
    git(seed, "add", ".")
    git(seed, "commit", "-qm", "Initial")
    git(seed, "push", "-q", str(remote), "HEAD:main")
    git(tmp_path, "clone", "-q", str(remote), str(checkout))
    with serving(FakeGitHub(remote)) as github, serving_tags(FakeTagsAPI(fixtures)) as tags:
        monkeypatch.chdir(checkout)
        monkeypatch.setenv("GITHUB_TOKEN", github.token)
        monkeypatch.setenv("GITHUB_REPOSITORY", github.repository)
        monkeypatch.setenv("GITHUB_API_URL", github.url)
        monkeypatch.setenv("OANOR_API_KEY", tags.key)
        monkeypatch.setenv("TAGBOT_API_URL", tags.url)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        yield World(tmp_path, github, tags)


def test_first_run_opens_one_pull_request_per_image(world: World, capsys: pytest.CaptureFixture[str]):
    assert world.pr() == 0
    out = capsys.readouterr().out
    assert "open" in out and "tagbot/acme-tiny" in out
    pulls = {p["head"]: p for p in world.github.open_pulls()}
    assert set(pulls) == {"tagbot/acme-tiny", "tagbot/acme-other-major"}
    tiny = pulls["tagbot/acme-tiny"]
    assert tiny["title"] == "Update acme/tiny to 1.2.1" and tiny["base"] == "main"
    assert "| [acme/tiny](https://hub.docker.com/r/acme/tiny) | `Dockerfile:1`, `compose.yaml:3` | `1.1.0` → `1.2.1` | minor |" in tiny["body"]
    assert "0.0 MB (+0.0 MB)" not in tiny["body"] and "| 2026-08-10 |" in tiny["body"]
    assert 'ignore: ["1.2.1"]' in tiny["body"]
    assert pulls["tagbot/acme-other-major"]["title"] == "Update acme/other to 3.0.0"
    # The branch holds exactly the edit, committed by tagbot on top of main.
    assert world.remote_file("tagbot/acme-tiny", "Dockerfile") == DOCKERFILE.replace("tiny:1.1.0", "tiny:1.2.1").rstrip("\n")
    assert world.remote_file("tagbot/acme-tiny", "compose.yaml") == COMPOSE.replace("1.1.0", "1.2.1").rstrip("\n")
    assert git(world.remote, "log", "-1", "--format=%ae %s", "tagbot/acme-tiny") == f"{BOT_EMAIL} Update acme/tiny to 1.2.1"
    assert git(world.remote, "rev-parse", "tagbot/acme-tiny^") == git(world.remote, "rev-parse", "main")
    # The user's checkout is untouched.
    assert (world.checkout / "Dockerfile").read_text() == DOCKERFILE
    assert git(world.checkout, "status", "--porcelain") == ""


def test_second_run_with_nothing_new_writes_nothing(world: World, capsys: pytest.CaptureFixture[str]):
    assert world.pr() == 0
    branches = git(world.remote, "for-each-ref", "--format=%(refname) %(objectname)")
    writes = list(world.github.writes)
    assert world.pr() == 0
    assert world.github.writes == writes  # no API write at all
    assert git(world.remote, "for-each-ref", "--format=%(refname) %(objectname)") == branches
    assert "unchanged" in capsys.readouterr().out


def test_a_newer_tag_updates_the_same_pull_request(world: World):
    assert world.pr() == 0
    before = world.github.branch_sha("tagbot/acme-tiny")
    tags_file(world.fixtures, "acme/tiny", ["1.3.0", "1.2.1", "1.2.0", "1.1.0"])
    assert world.pr() == 0
    pulls = [p for p in world.github.pulls if p["head"] == "tagbot/acme-tiny"]
    assert len(pulls) == 1 and pulls[0]["title"] == "Update acme/tiny to 1.3.0"
    assert world.github.branch_sha("tagbot/acme-tiny") != before
    assert "tiny:1.3.0" in world.remote_file("tagbot/acme-tiny", "Dockerfile")
    assert ("PATCH", f"/repos/acme/app/pulls/{pulls[0]['number']}") in world.github.writes


def test_a_base_that_caught_up_closes_the_pull_request(world: World):
    assert world.pr() == 0
    world.push_to_main("Dockerfile", DOCKERFILE.replace("tiny:1.1.0", "tiny:1.2.1"))
    world.push_to_main("compose.yaml", COMPOSE.replace("1.1.0", "1.2.1"))
    assert world.pr() == 0
    tiny = next(p for p in world.github.pulls if p["head"] == "tagbot/acme-tiny")
    assert tiny["state"] == "closed"
    assert tiny["comments"] == ["The base branch already has these image versions (or needs them no more), so tagbot closes this pull request."]
    assert world.github.branch_sha("tagbot/acme-tiny") is None  # branch deleted
    assert [p["head"] for p in world.github.open_pulls()] == ["tagbot/acme-other-major"]


def test_a_hand_edited_pull_request_is_never_force_pushed(world: World, capsys: pytest.CaptureFixture[str]):
    assert world.pr() == 0
    work = world.root / "hand"
    git(world.root, "clone", "-q", "--branch", "tagbot/acme-tiny", str(world.remote), str(work))
    (work / "NOTES").write_text("keep this\n")
    git(work, "add", "NOTES")
    git(work, "commit", "-qm", "Add notes", email="jane@example.com")
    git(work, "push", "-q")
    edited = world.github.branch_sha("tagbot/acme-tiny")
    tags_file(world.fixtures, "acme/tiny", ["1.3.0", "1.2.1", "1.1.0"])
    capsys.readouterr()
    assert world.pr() == 0
    assert world.github.branch_sha("tagbot/acme-tiny") == edited
    assert "edited by hand (jane@example.com); left alone" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("config", "branches"),
    [
        ("group_by: all\n", {"tagbot/all", "tagbot/all-major"}),
        ("group_by: all\nseparate_major: false\n", {"tagbot/all"}),
        ("group_by: update_type\n", {"tagbot/minor", "tagbot/major"}),
        ("groups: {tools: [acme/*]}\nseparate_major: false\n", {"tagbot/tools"}),
        ("groups: {tiny: [acme/tiny]}\n", {"tagbot/tiny", "tagbot/acme-other-major"}),
    ],
)
def test_grouping(world: World, config: str, branches: set[str]):
    (world.checkout / "tagbot.yaml").write_text("rate_limit: 100\n" + config)
    assert world.pr() == 0
    assert {p["head"] for p in world.github.open_pulls()} == branches


def test_one_pull_request_for_two_images_names_both(world: World):
    (world.checkout / "tagbot.yaml").write_text("rate_limit: 100\ngroup_by: all\nseparate_major: false\n")
    assert world.pr() == 0
    (pull,) = world.github.open_pulls()
    assert pull["title"] == "Update acme/other, acme/tiny"
    assert "`2.0.0` → `3.0.0` | major" in pull["body"] and "`1.1.0` → `1.2.1` | minor" in pull["body"]


def test_limits(world: World, capsys: pytest.CaptureFixture[str]):
    (world.checkout / "tagbot.yaml").write_text("rate_limit: 100\nmax_prs_per_run: 1\n")
    assert world.pr() == 0
    assert len(world.github.open_pulls()) == 1
    assert "max_open_prs or max_prs_per_run reached" in capsys.readouterr().out
    (world.checkout / "tagbot.yaml").write_text("rate_limit: 100\nmax_open_prs: 1\n")
    assert world.pr() == 0
    assert len(world.github.open_pulls()) == 1


def test_labels_reviewers_assignees_and_draft(world: World):
    (world.checkout / "tagbot.yaml").write_text(
        "rate_limit: 100\nlabels: [dependencies, docker]\nreviewers: [jane]\nassignees: [joe]\ndraft: true\n")
    assert world.pr() == 0
    pull = world.github.open_pulls()[0]
    assert (pull["labels"], pull["reviewers"], pull["assignees"], pull["draft"]) == (
        ["dependencies", "docker"], ["jane"], ["joe"], True)


def test_dry_run_reads_but_never_writes(world: World, capsys: pytest.CaptureFixture[str]):
    assert world.pr("--dry-run") == 0
    out = capsys.readouterr().out
    assert "open    tagbot/acme-tiny" in out and "dry run" in out
    assert world.github.writes == [] and world.github.pulls == []
    assert world.github.branch_sha("tagbot/acme-tiny") is None


def test_the_token_never_shows(world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-wrong-secret")
    assert world.pr() == 2
    captured = capsys.readouterr()
    assert captured.err == "tagbot: error: GitHub API: 401 Bad credentials\n"
    assert "ghp-wrong-secret" not in captured.out + captured.err


def test_missing_settings_are_one_line(world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.delenv("GITHUB_REPOSITORY")
    assert world.pr() == 2
    assert capsys.readouterr().err == "tagbot: error: name the repository with --repository owner/name or $GITHUB_REPOSITORY\n"


def test_redact():
    assert redact("fatal: https://x-access-token:ghs_abc@github.com/o/r.git denied", ["ghs_abc"]) == (
        "fatal: https://***@github.com/o/r.git denied")
    assert redact("token ghs_abc leaked", ["ghs_abc"]) == "token *** leaked"
