"""End to end: decisions that do not depend on the tags API's 100-tag window. The fake tags API
answers the newest 100 tags of the recorded lists; the fake Docker Hub knows them all."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tagbot.cli import main
from tagbot.config import parse_config
from tagbot.policy import decide
from tagbot.scan import scan_paths
from tests.fakeapi import FakeTagsAPI
from tests.fakehub import FakeHub
from tests.helpers import FIXTURES, age_answers, load_tags
from tests.loopback import closed_port_url

CONFIG = "registries: {ghcr.io: {source: off}}\nrate_limit: 200\n"
HUB_IMAGES = 7  # node, python, acme/tiny, alpine, nginx, postgres, redis


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tags_api: FakeTagsAPI) -> Path:
    shutil.copytree(FIXTURES / "repos" / "app", tmp_path / "repo")
    monkeypatch.chdir(tmp_path / "repo")
    monkeypatch.setenv("OANOR_API_KEY", tags_api.key)
    monkeypatch.setenv("TAGBOT_API_URL", tags_api.url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "repo" / "tagbot.yaml").write_text(CONFIG)
    return tmp_path / "repo"


def dry_run(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["update", "--dry-run", "--format", "json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def with_every_tag_known(repo: Path) -> dict[tuple[str, int], str | None]:
    """What the same rules decide for each reference when the whole tag list is known."""
    settings = parse_config(CONFIG, name="t").defaults
    decisions = {}
    for reference in scan_paths([repo], base=repo).references:
        image = reference.found.image
        if image is None or not image.is_docker_hub:
            continue
        decision = decide(image, load_tags(image.repository), settings, now=datetime.now(timezone.utc),
                          platform=reference.found.platform)
        decisions[(reference.file, reference.line)] = decision.update.to_tag if decision.update else None
    return decisions


def hub_pages_in_full(images: set[str]) -> int:
    return sum(-(-len(load_tags(name)) // 100) for name in images)


def test_a_cold_run_decides_as_if_every_tag_were_known(repo: Path, tags_api: FakeTagsAPI, hub: FakeHub, capsys):
    out = dry_run(capsys, "--no-cache")
    decided = {(u["file"], u["line"]): u["to"]["tag"] for u in out["updates"]}
    expected = {where: tag for where, tag in with_every_tag_known(repo).items() if tag is not None}
    assert decided == expected
    assert decided[("Dockerfile", 1)] == "22.2.0-alpine3.18"  # node 20.10.0-alpine3.18 is the 2,614th newest tag
    assert not any(h["reason"].endswith("resumes next run") for h in out["held_back"])
    # One tags-API call per image, and /v1/image for acme/tiny (not official; once a week).
    assert len(tags_api.calls) == HUB_IMAGES + 1
    needed = {"library/node", "library/python", "library/postgres", "library/redis", "library/alpine", "library/nginx"}
    assert 0 < len(hub.requests) < hub_pages_in_full(needed) / 4  # filtered pages, not whole histories (19 of 174)
    assert out["calls"] == {"api": HUB_IMAGES + 1 + len(hub.requests), "cached": 0, "docker_hub": len(hub.requests)}


def test_after_the_ttl_one_call_per_image_and_no_docker_hub_request(repo: Path, tags_api: FakeTagsAPI, hub: FakeHub,
                                                                   capsys, tmp_path: Path):
    first = dry_run(capsys)
    age_answers(tmp_path / "cache", 2 * 3600)  # the answers expired; the tags stay known
    tags_api.requests.clear()
    hub.requests.clear()
    second = dry_run(capsys)
    assert len(tags_api.calls) == HUB_IMAGES  # what /v1/image said is kept for a week
    assert hub.requests == []
    assert second["updates"] == first["updates"]


def test_a_hub_that_ignores_the_name_filter_still_gives_the_right_answer(repo: Path, hub: FakeHub, capsys, monkeypatch):
    # Unfiltered, a variant's whole history is the image's (node's is 91 pages), and finding the
    # current tag by name reads the list too: allow them all.
    (repo / "tagbot.yaml").write_text(CONFIG + "max_tag_pages: 200\n")
    filtered = dry_run(capsys, "--no-cache")
    pages = len(hub.requests)
    monkeypatch.setattr(hub, "ignores_name", True)
    hub.requests.clear()
    assert dry_run(capsys, "--no-cache")["updates"] == filtered["updates"]
    assert len(hub.requests) > pages  # correct, only dearer


def test_without_docker_hub_nothing_risks_a_platform(repo: Path, monkeypatch, capsys):
    monkeypatch.setenv("TAGBOT_HUB_URL", closed_port_url())
    monkeypatch.setattr("tagbot.sources.http.BACKOFF", 0.0)
    out = dry_run(capsys, "--no-cache")
    assert "Dockerfile" not in {u["file"] for u in out["updates"] if u["line"] == 1}  # node's current tag is unknown
    node = [h["reason"] for h in out["held_back"] if h["line"] == 1 and h["file"] == "Dockerfile"]
    assert any(r.startswith("Docker Hub could not be asked") and r.endswith("; resumes next run") for r in node)


def test_the_fill_can_be_turned_off(repo: Path, hub: FakeHub, capsys):
    (repo / "tagbot.yaml").write_text(CONFIG + "deep_search: false\n")
    out = dry_run(capsys, "--no-cache")
    assert hub.requests == []
    assert ("Dockerfile", 1) not in {(u["file"], u["line"]) for u in out["updates"]}
    assert any("is not among the newest 100 tags" in h["reason"] for h in out["held_back"])


def test_a_tags_api_not_found_is_checked_against_docker_hub(repo: Path, tags_api: FakeTagsAPI, hub: FakeHub, capsys):
    (repo / "Dockerfile").write_text("FROM acme/tiny:1.1.0\n")
    (repo / "compose.yaml").unlink()
    tags_api.script["acme/tiny"] = ["404"]
    out = dry_run(capsys, "--no-cache")
    assert [(u["image"], u["to"]["tag"]) for u in out["updates"]] == [("acme/tiny:1.1.0", "1.2.1")]
    assert out["errors"] == []
    assert hub.requests[0].startswith("/v2/repositories/acme/tiny/tags?name=1.1.0")


def test_an_image_neither_knows_costs_no_request_within_the_ttl(repo: Path, tags_api: FakeTagsAPI, hub: FakeHub, capsys):
    (repo / "Dockerfile").write_text("FROM acme/gone:1.0\nFROM acme/gone:2.0\n")
    (repo / "compose.yaml").unlink()
    assert main(["update", "--dry-run", "--format", "json"]) == 2
    assert [r.split("?")[1].split("&")[0] for r in hub.requests] == ["name=1.0"]  # asked once, by its first tag
    capsys.readouterr()
    tags_api.requests.clear()
    hub.requests.clear()
    assert main(["update", "--dry-run", "--format", "json"]) == 2
    assert (tags_api.calls, hub.requests) == ([], [])
    assert "acme/gone" in capsys.readouterr().err


def test_explain_says_where_candidates_are_known_from_and_what_they_cost(repo: Path, hub: FakeHub, capsys,
                                                                       tmp_path: Path):
    assert main(["explain", "node:20.10.0-alpine3.18"]) == 0
    out = capsys.readouterr().out
    assert f"docker hub: {len(hub.requests)} pages read for this decision" in out
    assert "decision: 20.10.0-alpine3.18 -> 22.2.0-alpine3.18 (major)" in out
    assert re.search(r"\n  22\.2\.0-alpine3\.18 +ok: a major update  \[Docker Hub\]\n", out)
    age_answers(tmp_path / "cache", 2 * 3600)  # a later run: the answers expired, the tags stay known
    hub.requests.clear()
    assert main(["explain", "node:20.10.0-alpine3.18"]) == 0
    out = capsys.readouterr().out
    assert hub.requests == [] and "docker hub:" not in out
    assert re.search(r"\n  22\.2\.0-alpine3\.18 +ok: a major update  \[store\]\n", out)


@pytest.mark.parametrize("fault", ["429", "500", "garbage"])
def test_a_docker_hub_fault_is_said_and_the_run_goes_on(repo: Path, hub: FakeHub, monkeypatch, capsys, fault: str):
    monkeypatch.setattr("tagbot.sources.http.BACKOFF", 0.0)
    monkeypatch.setattr("tagbot.sources.http.MAX_RETRY_AFTER", 0.0)  # a 429 is reported, not waited out

    def broken(path: str, query: dict[str, str]):
        hub.requests.append(path)
        return (int(fault), {"message": "no"}) if fault.isdigit() else (200, {"results": "not a list"})

    monkeypatch.setattr(hub, "answer", broken)
    assert main(["update", "--dry-run", "--format", "json", "--no-cache"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert ("compose.yaml", 13) in {(u["file"], u["line"]) for u in out["updates"]}  # acme/tiny: all in the window
    node = [h["reason"] for h in out["held_back"] if (h["file"], h["line"]) == ("Dockerfile", 1)]
    assert any(r.startswith("Docker Hub could not be asked") and r.endswith("; resumes next run") for r in node)
    assert ("Dockerfile", 1) not in {(u["file"], u["line"]) for u in out["updates"]}

