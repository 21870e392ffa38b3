"""End to end: which platforms an update must keep (`platforms: auto`, `current`, a list), where
that requirement comes from, and that whatever an update drops is always shown."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tagbot.cli import main
from tests.fakeapi import FakeTagsAPI, serving
from tests.helpers import new_repository

WORKFLOW = """\
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64
"""
# acme/multi: each newer version runs on fewer platforms.
VERSIONS = {
    "1.2.0": ["linux/amd64"],
    "1.1.0": ["linux/amd64", "linux/arm64", "linux/arm/v7"],
    "1.0.0": ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/s390x"],
}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[FakeTagsAPI]:
    folder = tmp_path / "api"
    folder.mkdir()
    tags = [{"name": name, "size": 1000, "digest": "sha256:" + f"{i:x}" * 64, "platforms": platforms,
             "last_updated": f"2026-08-{10 - i:02d}T00:00:00Z"} for i, (name, platforms) in enumerate(VERSIONS.items())]
    body = {"data": {"tags": tags}, "meta": {}, "status": "ok", "message": "ok", "success": True}
    (folder / "acme__multi.tags.json").write_text(json.dumps(body))
    with serving(FakeTagsAPI(folder)) as fake:
        yield fake


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: FakeTagsAPI) -> Path:
    return new_repository({"Dockerfile": "FROM acme/multi:1.0.0\n", "tagbot.yaml": "rate_limit: 100\n"},
                          tmp_path, monkeypatch, api.url)


def dry_run(capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["update", "--dry-run", "--format", "json", "--no-cache"]) == 0
    return json.loads(capsys.readouterr().out)


def test_by_default_amd64_and_arm64_are_kept_and_the_rest_is_shown_dropped(repo: Path, capsys):
    out = dry_run(capsys)
    (update,) = out["updates"]
    assert (update["to"]["tag"], update["platforms_dropped"]) == ("1.1.0", ["linux/s390x"])
    assert [h["reason"] for h in out["held_back"]] == ["newer 1.2.0 lacks linux/arm64"]
    assert main(["update", "--dry-run", "--no-cache"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["FILE", "IMAGE", "FROM", "TO", "TYPE", "NOTE"]
    assert table[1].split() == ["Dockerfile:1", "acme/multi", "1.0.0", "1.1.0", "minor", "drops", "linux/s390x"]


def test_what_a_workflow_builds_for_is_what_is_kept(repo: Path, capsys):
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "release.yml").write_text(WORKFLOW)
    (update,) = dry_run(capsys)["updates"]
    assert (update["to"]["tag"], update["platforms_dropped"]) == ("1.2.0", ["linux/arm/v7", "linux/arm64", "linux/s390x"])
    assert main(["explain", "acme/multi:1.0.0", "--no-cache"]) == 0
    assert capsys.readouterr().out.splitlines()[3:] == [
        "platforms required: linux/amd64",
        "  from: the repository builds for linux/amd64 (.github/workflows/release.yml:7)",
        "newer candidates: 2",
        "  1.2.0                            ok: a minor update",
        "  1.1.0                            ok: a minor update",
        "decision: 1.0.0 -> 1.2.0 (minor)",
        "drops: linux/arm/v7, linux/arm64, linux/s390x (not required)",
    ]


def test_explain_says_where_the_default_comes_from(repo: Path, capsys):
    assert main(["explain", "acme/multi:1.0.0", "--no-cache"]) == 0
    assert capsys.readouterr().out.splitlines()[3:] == [
        "platforms required: linux/amd64, linux/arm64",
        "  from: default: amd64 and arm64 of the current tag 1.0.0",
        "newer candidates: 2",
        "  1.2.0                            platforms: lacks linux/arm64",
        "  1.1.0                            ok: a minor update",
        "decision: 1.0.0 -> 1.1.0 (minor)",
        "drops: linux/s390x (not required)",
        "held back: newer 1.2.0 lacks linux/arm64",
    ]


def test_a_bake_file_and_a_literal_from_platform_declare_platforms_too(repo: Path, capsys):
    (repo / "docker-bake.hcl").write_text('target "app" {\n  platforms = ["linux/amd64", "linux/arm/v7"]\n}\n')
    (repo / "Dockerfile").write_text("FROM acme/multi:1.0.0\nFROM --platform=linux/s390x acme/multi:1.0.0 AS s\n")
    out = dry_run(capsys)
    # The first reference keeps what the repository builds for: amd64, arm/v7 (bake) and s390x (the FROM):
    # nothing newer has all three. The second asks for s390x itself, which wins for it.
    assert out["updates"] == []
    assert [(h["line"], h["reason"]) for h in out["held_back"]] == [
        (1, "newer 1.2.0 lacks linux/arm/v7, linux/s390x"), (2, "newer 1.2.0 lacks linux/s390x"),
    ]


def test_a_compose_services_platform_wins_for_that_service(repo: Path, capsys):
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "release.yml").write_text(WORKFLOW)
    (repo / "compose.yaml").write_text("services:\n  a:\n    image: acme/multi:1.0.0\n    platform: linux/arm64\n")
    updates = dry_run(capsys)["updates"]
    assert [(u["file"], u["to"]["tag"]) for u in updates] == [("Dockerfile", "1.2.0"), ("compose.yaml", "1.1.0")]


@pytest.mark.parametrize(
    ("config", "to_tag", "held_back"),
    [
        ("platforms: current\n", None, ["newer 1.2.0 lacks linux/arm/v7, linux/arm64, linux/s390x"]),
        ("platforms: [linux/amd64, linux/arm/v7]\n", "1.1.0", ["newer 1.2.0 lacks linux/arm/v7"]),
    ],
)
def test_current_and_an_explicit_list(repo: Path, capsys, config, to_tag, held_back):
    (repo / "tagbot.yaml").write_text("rate_limit: 100\n" + config)
    out = dry_run(capsys)
    assert [u["to"]["tag"] for u in out["updates"]] == ([to_tag] if to_tag else [])
    assert [h["reason"] for h in out["held_back"]] == held_back


def test_a_run_over_one_file_still_reads_what_the_repository_builds_for(repo: Path, capsys):
    """A pre-commit hook passes only the files that changed; the workflow still counts."""
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "release.yml").write_text(WORKFLOW)
    assert main(["check", "--no-cache", "Dockerfile"]) == 1
    assert capsys.readouterr().out == "Dockerfile:1:6: acme/multi: 1.0.0 -> 1.2.0\n"
