"""Knowledge that is complete and monotonic: decisions made through the tags API's 100-tag window
and a capped Docker Hub walk, over as many runs as the cap needs, equal those made when every
tag is known; no page is read twice; a walk interrupted while tags are pushed loses none."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tagbot.cli import main
from tagbot.config import parse_config
from tagbot.lines import shipped
from tagbot.policy import decide
from tagbot.scan import scan_paths
from tagbot.sources.store import Store
from tests.fakeapi import FakeTagsAPI
from tests.fakehub import FakeHub
from tests.helpers import FIXTURES, age_answers, load_tags

RESUMES = "resumes next run"
# Far older than the newest 100 tags of each, and without a suffix (or with a wide one), so
# that the whole history of the image, or of -jdk, is what a decision needs.
OLD_REFERENCES = ("eclipse-temurin:17-jdk", "node:18.20.4", "python:3.9.18", "golang:1.20", "traefik:v2.10.4",
                  "postgres:13.10", "mysql:8.0.30")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tags_api: FakeTagsAPI) -> Path:
    (tmp_path / "repo").mkdir()
    monkeypatch.chdir(tmp_path / "repo")
    monkeypatch.setenv("OANOR_API_KEY", tags_api.key)
    monkeypatch.setenv("TAGBOT_API_URL", tags_api.url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "repo"


def dry_run(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["update", "--dry-run", "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def decided(out: dict[str, Any]) -> dict[int, str | None]:
    return {u["line"]: u["to"]["tag"] for u in out["updates"]}


def every_tag_known(repo: Path, config: str, fixtures: Path = FIXTURES / "api") -> dict[int, str | None]:
    """What the same rules decide for each line when the whole tag list is served at once."""
    settings = parse_config(config, name="t").defaults
    decisions = {}
    for reference in scan_paths([repo], base=repo).references:
        image = reference.found.image
        assert image is not None
        body = json.loads((fixtures / f"{image.repository.replace('/', '__')}.tags.json").read_text())
        tags = load_tags(image.repository) if fixtures == FIXTURES / "api" else _tags(body)
        decision = decide(image, tags, settings, now=datetime.now(timezone.utc), platform=reference.found.platform,
                          lines=shipped().for_image(image))
        decisions[reference.line] = decision.update.to_tag if decision.update else None
    return {line: tag for line, tag in decisions.items() if tag is not None}


def _tags(body: dict[str, Any]):
    from tagbot.sources.tagsapi import tags_from, unwrap

    return list(tags_from(unwrap(body)))


def served_from_a_copy(tmp_path: Path, image: str, tags_api: FakeTagsAPI, hub: FakeHub,
                       monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder both fakes serve, holding a copy of `image`'s tags for the test to push to."""
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    shutil.copy(FIXTURES / "api" / f"{image}.tags.json", fixtures)
    monkeypatch.setattr(tags_api, "fixtures", fixtures)
    monkeypatch.setattr(hub, "fixtures", fixtures)
    return fixtures


def pages_read(requests: list[str]) -> list[tuple[str, str, int]]:
    """(repository, name filter, page) of each Docker Hub request."""
    read = []
    for request in requests:
        parts = urlsplit(request)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        read.append(("/".join(parts.path.split("/")[3:5]), query.get("name", ""), int(query.get("page", 1))))
    return read


def test_through_the_window_and_a_capped_walk_decisions_equal_every_tag_known(repo: Path, hub: FakeHub, capsys):
    config = "platforms: current\nmax_tag_pages: 10\nrate_limit: 200\n"
    (repo / "tagbot.yaml").write_text(config)
    (repo / "Dockerfile").write_text("".join(f"FROM {reference}\n" for reference in OLD_REFERENCES))
    expected = every_tag_known(repo, config)
    # 21 and later dropped linux/arm/v7, which 17-jdk has, and 18 to 20 ended: the whole -jdk
    # history is needed to be sure nothing else is left.
    assert 1 not in expected
    runs, read, proposed = [], [], []
    while True:
        hub.requests.clear()
        out = dry_run(capsys)
        read += pages_read(hub.requests)
        proposed.append(decided(out))
        runs.append([h for h in out["held_back"] if h["reason"].endswith(RESUMES)])
        if not runs[-1]:
            break
        assert len(runs) < 20
    # node's 9,037 tags are 91 pages; the tags API's window answered the first, and 10 pages a run
    # (the first run's first one finding 18.20.4 by name) read the rest.
    assert len(runs) == 10
    assert proposed[-1] == expected
    assert all(p.items() <= expected.items() for p in proposed)  # nothing proposed it would regret
    assert len(read) == len(set(read))  # no page read twice
    first = {h["line"]: h["reason"] for h in runs[0]}
    assert re.fullmatch(rf"1,0\d\d of 9,037 tags known; {RESUMES}", first[2])  # node: the window and 9 pages
    assert all(h["line"] != 1 for h in runs[1])  # -jdk's 17 pages needed two runs


def test_a_real_size_history_is_read_once_then_only_its_new_tags(repo: Path, tags_api: FakeTagsAPI, hub: FakeHub,
                                                                 tmp_path: Path, monkeypatch, capsys):
    fixtures = served_from_a_copy(tmp_path, "library__node", tags_api, hub, monkeypatch)
    (repo / "tagbot.yaml").write_text("max_tag_pages: 10\nrate_limit: 200\n")
    (repo / "Dockerfile").write_text("FROM node:18.20.4\n")
    pages: list[list[int]] = []
    while not pages or pages[-1]:
        hub.requests.clear()
        out = dry_run(capsys)
        pages.append([page for _, name, page in pages_read(hub.requests) if name == ""])
        age_answers(tmp_path / "cache", 7200)
        assert len(pages) < 12
    # Each run read the pages after the last one's: 2-10 (the first found 18.20.4 by name), 11-20, ..., 91.
    assert pages[:-1] == [list(range(2, 11)), *(list(range(11 + 10 * n, min(21 + 10 * n, 92))) for n in range(9))]
    assert decided(out) == every_tag_known(repo, "max_tag_pages: 10\n", fixtures)
    tags_api.requests.clear()
    hub.requests.clear()
    dry_run(capsys)  # complete, and past the TTL
    assert (len(tags_api.calls), hub.requests) == (1, [])

    body = json.loads((fixtures / "library__node.tags.json").read_text())
    pushed = datetime.now(timezone.utc) - timedelta(minutes=30)  # since the last run, as the store saw it
    new = [dict(body["data"]["tags"][0], name=f"26.8.{n}", last_updated=(pushed - timedelta(seconds=5 * n)).isoformat())
           for n in range(150)]
    body["data"]["tags"] = new + body["data"]["tags"]
    (fixtures / "library__node.tags.json").write_text(json.dumps(body))
    age_answers(tmp_path / "cache", 7200)
    hub.requests.clear()
    out = dry_run(capsys)
    # 150 pushed, the window holds 100: Docker Hub's second page fills the gap, and no more.
    assert [page for _, _, page in pages_read(hub.requests)] == [2]
    assert decided(out) == {1: "26.8.149"}  # the newest version, though the first of them pushed


def test_tags_pushed_between_the_runs_of_an_interrupted_walk_are_never_lost(repo: Path, tags_api: FakeTagsAPI,
                                                                           hub: FakeHub, tmp_path: Path,
                                                                           monkeypatch, capsys):
    fixtures = served_from_a_copy(tmp_path, "library__postgres", tags_api, hub, monkeypatch)
    (repo / "tagbot.yaml").write_text("max_tag_pages: 3\nrate_limit: 200\n")
    (repo / "Dockerfile").write_text("FROM postgres:13.10\n")
    body = json.loads((fixtures / "library__postgres.tags.json").read_text())
    for run in range(12):
        out = dry_run(capsys)
        if not any(h["reason"].endswith(RESUMES) for h in out["held_back"]):
            break
        # Between runs: 40 new tags, and 15 old ones rebuilt (moved to the top), as a day brings.
        tags = body["data"]["tags"]
        start = datetime.now(timezone.utc) - timedelta(minutes=30)  # since the last run, as the store saw it
        rebuilt = [dict(t, last_updated=(start + timedelta(seconds=m)).isoformat())
                   for m, t in enumerate(tags[400 + run * 60: 415 + run * 60])]
        moved = {t["name"] for t in rebuilt}
        fresh = [dict(tags[0], name=f"{90 + run}.{n}", last_updated=(start + timedelta(minutes=1, seconds=n)).isoformat())
                 for n in range(40)]
        body["data"]["tags"] = sorted(fresh + rebuilt, key=lambda t: t["last_updated"], reverse=True) + \
            [t for t in tags if t["name"] not in moved]
        (fixtures / "library__postgres.tags.json").write_text(json.dumps(body))
        age_answers(tmp_path / "cache", 7200)
    else:
        pytest.fail("the walk never finished")
    assert run >= 4  # the walk was interrupted, with pushes between, four times
    store = Store(tmp_path / "cache" / "tagbot" / "store.sqlite3")
    assert {t.name for t in store.tags("docker.io/library/postgres")} >= {t["name"] for t in body["data"]["tags"]}
    assert decided(out) == every_tag_known(repo, "max_tag_pages: 3\n", fixtures)


def test_a_reference_the_pages_did_not_reach_says_it_resumes(repo: Path, hub: FakeHub, capsys):
    (repo / "tagbot.yaml").write_text("max_tag_pages: 3\nrate_limit: 200\n")
    (repo / "Dockerfile").write_text("FROM node:18-slim\nFROM node:8.9-slim\n")
    out = dry_run(capsys)
    reasons = {h["line"]: h["reason"] for h in out["held_back"]}
    assert len(hub.requests) == 3  # the image's pages for the run, all the first reference's
    assert reasons[2] == "8.9-slim not asked for yet: the image's other tags took this run's max_tag_pages; resumes next run"


def test_a_walk_cut_short_by_a_spent_quota_resumes_where_it_stopped(repo: Path, hub: FakeHub, monkeypatch, capsys):
    monkeypatch.setattr("tagbot.sources.http.BACKOFF", 0.0)
    monkeypatch.setattr("tagbot.sources.http.MAX_RETRY_AFTER", 0.0)  # a 429 is reported, not waited out
    (repo / "tagbot.yaml").write_text("rate_limit: 200\n")
    (repo / "Dockerfile").write_text("FROM postgres:13.10\n")
    answer = hub.answer

    def quota_spent_after_page_6(path: str, query: dict[str, str]):
        if int(query.get("page", 1)) > 6:
            hub.requests.append(path + "?page=" + query["page"])
            return 429, {"message": "quota"}
        return answer(path, query)

    monkeypatch.setattr(hub, "answer", quota_spent_after_page_6)
    out = dry_run(capsys)
    (held,) = [h["reason"] for h in out["held_back"]]
    assert held.startswith("Docker Hub could not be asked") and held.endswith(f"of 1,422 tags known; {RESUMES}")
    assert out["updates"] == []
    assert main(["explain", "postgres:13.10"]) == 0
    assert "\ndecision: no update: not yet: Docker Hub could not be asked" in capsys.readouterr().out
    monkeypatch.setattr(hub, "answer", answer)
    hub.requests.clear()
    out = dry_run(capsys)
    assert [page for _, _, page in pages_read(hub.requests)] == list(range(7, 16))  # from where it stopped
    assert out["held_back"] == [] and decided(out) == every_tag_known(repo, "rate_limit: 200\n")
