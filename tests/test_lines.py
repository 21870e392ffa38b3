"""Release lines: an LTS line is offered LTS lines, a development release is no release, an
ended line is never moved to; each through the fake tags API and Docker Hub, on a fixed day,
with explain's words pinned. And the shipped table: its shape, and the script that rebuilds it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from tagbot.cli import main
from tagbot.lines import LineTable, shipped, table_from
from tagbot.refs import parse_ref
from tagbot.versioning import parse_tag
from tests.fakeapi import FakeTagsAPI
from tests.helpers import RECORDED, new_repository, on_day

ROOT = Path(__file__).resolve().parent.parent


# node's 9,037 tags are 91 pages of Docker Hub: read in one run, so one explain settles it.
WHOLE_HISTORY = "max_tag_pages: 100\nrate_limit: 500\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tags_api: FakeTagsAPI) -> Path:
    return new_repository({"Dockerfile": "FROM scratch\n", "tagbot.yaml": WHOLE_HISTORY}, tmp_path, monkeypatch,
                          tags_api.url)


def explained(image: str, capsys: pytest.CaptureFixture[str], *options: str) -> list[str]:
    assert main(["explain", image, *options]) == 0
    return capsys.readouterr().out.splitlines()


def verdict(lines: list[str], tag: str) -> str:
    """What explain said of one candidate (`lts: line 26: ...`), without where it is known from."""
    said = next(line.split(None, 1)[1] for line in lines if line.startswith(f"  {tag} "))
    return said.split("  [", 1)[0]


def config(repo: Path, text: str) -> None:
    (repo / "tagbot.yaml").write_text(WHOLE_HISTORY + text)


# --- LTS lines ------------------------------------------------------------------------------

def test_java_on_an_lts_line_goes_to_the_newest_lts_not_the_six_month_release(repo, monkeypatch, capsys):
    on_day(monkeypatch)
    said = explained("eclipse-temurin:17.0.17_10-jdk", capsys)
    assert "release line: Eclipse Temurin 17 (LTS, supported to 2027-10-31)" in said
    assert verdict(said, "26.0.2_10-jdk") == "lts: line 26: not an LTS line (LTS: 8, 11, 17, 21, 25)"
    # 24 is no LTS line, and ended: from an LTS line the first is the reason given.
    assert verdict(said, "24.0.2_12-jdk") == "lts: line 24: not an LTS line (LTS: 8, 11, 17, 21, 25)"
    assert said[-3:] == [
        "decision: 17.0.17_10-jdk -> 25.0.4_7-jdk (major)",
        "drops: linux/arm/v7, linux/riscv64 (not required)",
        "held back: newer 26.0.2_10-jdk: line 26: not an LTS line (LTS: 8, 11, 17, 21, 25)",
    ]
    said = explained("eclipse-temurin:25.0.2_10-jdk", capsys)
    assert "decision: 25.0.2_10-jdk -> 25.0.4_7-jdk (patch)" in said


def test_a_non_lts_line_may_move_to_any_newer_release(repo, monkeypatch, capsys):
    on_day(monkeypatch)
    said = explained("eclipse-temurin:26.0.1_8-jdk", capsys)
    assert "release line: Eclipse Temurin 26 (not LTS, supported to 2026-09-15)" in said
    assert "decision: 26.0.1_8-jdk -> 26.0.2_10-jdk (patch)" in said
    said = explained("node:25.1.0", capsys)  # 25 is no LTS line (and ended): any newer release
    assert "decision: 25.1.0 -> 26.7.0 (major)" in said


def test_node_current_is_offered_to_lts_lines_only_once_it_becomes_lts(repo, monkeypatch, capsys):
    on_day(monkeypatch, datetime(2026, 10, 27, 12, tzinfo=timezone.utc))  # the day before 26 is LTS
    said = explained("node:24.1.0", capsys)
    assert verdict(said, "26.7.0") == "lts: line 26: not an LTS line until 2026-10-28 (LTS: 22, 24)"
    # One note for both 26 (LTS later) and 25 (never LTS, and ended): the newest of them.
    assert said[-3:] == [
        "decision: 24.1.0 -> 24.19.0 (minor)",
        "drops: linux/s390x (not required)",
        "held back: newer 26.7.0: line 26: not an LTS line until 2026-10-28 (LTS: 22, 24)",
    ]
    on_day(monkeypatch, datetime(2026, 10, 28, 12, tzinfo=timezone.utc))
    said = explained("node:24.1.0", capsys)
    assert verdict(said, "26.7.0") == "ok: a major update"
    assert "decision: 24.1.0 -> 26.7.0 (major)" in said


def test_lts_false_offers_every_newer_release_globally_and_per_rule(repo, monkeypatch, capsys):
    on_day(monkeypatch)
    config(repo, "lts: false\n")
    assert "decision: 17.0.17_10-jdk -> 26.0.2_10-jdk (major)" in explained("eclipse-temurin:17.0.17_10-jdk", capsys)
    config(repo, "rules:\n  - match: node\n    lts: false\n")
    assert "decision: 24.1.0 -> 26.7.0 (major)" in explained("node:24.1.0", capsys)
    assert "decision: 17.0.17_10-jdk -> 25.0.4_7-jdk (major)" in explained("eclipse-temurin:17.0.17_10-jdk", capsys)


# --- development releases -------------------------------------------------------------------

@pytest.mark.parametrize("current", ["16.04", "18.04", "20.04", "22.04", "24.04", "24.10", "25.04", "25.10"])
def test_ubuntu_goes_to_the_newest_release_never_to_the_devel_one(repo, monkeypatch, capsys, current):
    on_day(monkeypatch)
    said = explained(f"ubuntu:{current}", capsys)
    # 26.10 is the same image as `devel`; 26.04 the newest release, an LTS.
    assert verdict(said, "26.10") == "pre-release: the same image as devel: a development release"
    assert f"decision: {current} -> 26.04 (major)" in said


def test_a_development_release_is_offered_when_pre_releases_are_allowed(repo, monkeypatch, capsys):
    on_day(monkeypatch)
    config(repo, "allow_prerelease: true\nlts: false\n")
    assert "decision: 24.04 -> 26.10 (major)" in explained("ubuntu:24.04", capsys)


def test_rolling_names_a_release_the_data_knows_so_it_is_no_development_build(repo, monkeypatch, capsys):
    on_day(monkeypatch)
    config(repo, "lts: false\n")
    # `rolling` is 26.04 (the same digest), which the table says was released on 2026-04-23.
    said = explained("ubuntu:25.04", capsys)
    assert verdict(said, "26.04") == "ok: a major update"


def test_a_line_the_data_says_is_not_out_yet_is_a_pre_release(repo, monkeypatch, capsys):
    on_day(monkeypatch, datetime(2026, 5, 1, tzinfo=timezone.utc))  # node 26 is released on 2026-05-05
    config(repo, "lts: false\n")
    said = explained("node:25.1.0", capsys)
    assert verdict(said, "26.0.0") == "pre-release: line 26 is not released until 2026-05-05"


# --- ended lines ----------------------------------------------------------------------------

def test_an_ended_line_is_never_proposed_whatever_else_allows_it(repo, monkeypatch, capsys):
    on_day(monkeypatch)
    config(repo, "platforms: current\nlts: false\n")
    # 21 and later lack linux/arm/v7, which 17-jdk has; 18, 19 and 20 ended: no update at all.
    said = explained("eclipse-temurin:17-jdk", capsys)
    assert verdict(said, "19-jdk") == "ended: line 19 ended 2023-03-31"
    assert verdict(said, "20-jdk") == "ended: line 20 ended 2023-09-19"
    assert "decision: no update: newer 26-jdk lacks linux/arm/v7" in said
    assert "held back: newer 24-jdk: line 24 ended 2025-09-16" in said  # the newest an ended line kept out


def test_from_an_ended_line_to_a_supported_one_or_within_it_to_its_last_patch(repo, monkeypatch, capsys):
    on_day(monkeypatch)
    said = explained("postgres:12.1", capsys)  # 12 ended 2024-11-21; PostgreSQL has no LTS lines
    assert "release line: PostgreSQL 12 (ended 2024-11-21)" in said
    assert "decision: 12.1 -> 18.6 (major)" in said
    config(repo, "update_types: [minor, patch]\n")
    said = explained("postgres:12.1", capsys)
    assert verdict(said, "12.22") == "ok: a minor update"  # its own line, ended or not
    assert "decision: 12.1 -> 12.22 (minor)" in said


# --- the shipped table ----------------------------------------------------------------------

def test_the_shipped_table_says_where_its_facts_come_from_and_as_of_when():
    data = json.loads((ROOT / "tagbot" / "data" / "release-lines.json").read_text())
    assert data["source"] == "https://github.com/endoflife-date/endoflife.date"
    assert len(data["commit"]) == 40 and date.fromisoformat(data["date"]) <= date.today()
    assert "scripts/rebuild_release_lines.py" in data["rebuild"]
    images: list[str] = []
    for product in data["products"].values():
        assert product["images"] and product["lines"]
        images += product["images"]
        for line in product["lines"]:
            assert set(line) <= {"line", "released", "lts", "eol", "codename"}
            assert parse_tag(line["line"]) is not None
            for key in ("released", "lts", "eol"):
                assert key not in line or isinstance(line[key], bool) or date.fromisoformat(line[key])
    assert len(images) == len(set(images))  # one product per image
    table = shipped()
    for image in ("node", "python", "postgres", "mysql", "mariadb", "redis", "mongo", "golang", "ruby", "php",
                  "nginx", "httpd", "ubuntu", "debian", "alpine", "eclipse-temurin", "amazoncorretto",
                  "ibm-semeru-runtimes", "sapmachine"):
        assert table.for_image(parse_ref(image)) is not None, image


def test_the_rebuild_script_makes_the_table_from_a_clone_of_the_source(tmp_path: Path):
    clone = tmp_path / "endoflife.date"
    (clone / "products").mkdir(parents=True)
    (clone / "products" / "widget.md").write_text(
        "---\ntitle: Widget\nidentifiers:\n  - purl: pkg:docker/library/widget\n  - purl: pkg:docker/acme/widget\n"
        "releases:\n"
        "  - releaseCycle: \"3\"\n    releaseDate: 2026-01-10\n    lts: 2026-06-01\n    eol: 2029-01-01\n"
        "  - releaseCycle: \"2\"\n    releaseDate: 2025-01-10\n    eol: 2025-12-31\n"
        "  - releaseCycle: \"2-legacy\"\n    eol: true\n"
        "---\n\n> Widget is a made-up product.\n")
    (clone / "products" / "gadget.md").write_text("---\ntitle: Gadget\nreleases:\n  - releaseCycle: \"1\"\n---\n")
    subprocess.run(["git", "init", "-q", str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "add", "."], check=True)
    subprocess.run(["git", "-C", str(clone), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
                   check=True, env={"GIT_COMMITTER_DATE": "2026-07-04T10:00:00Z", "PATH": "/usr/bin:/bin"})
    out = tmp_path / "lines.json"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "rebuild_release_lines.py"), str(clone),
                           "--output", str(out)], capture_output=True, text=True, check=True)
    assert "1 products, 2 release lines, as of 2026-07-04" in done.stdout
    data = json.loads(out.read_text())
    assert data["date"] == "2026-07-04" and len(data["commit"]) == 40
    assert data["products"] == {"widget": {"title": "Widget", "images": ["acme/widget", "widget"], "lines": [
        {"line": "3", "released": "2026-01-10", "lts": "2026-06-01", "eol": "2029-01-01"},
        {"line": "2", "released": "2025-01-10", "eol": "2025-12-31"},
    ]}}  # gadget names no image; `2-legacy` is no version a tag carries
    table: LineTable = table_from(data)
    lines = table.for_image(parse_ref("widget:3.1"))
    assert lines is not None and lines.line_of_tag("3.1").is_lts(date(2026, 6, 1))
    assert not lines.line_of_tag("3.1").is_lts(date(2026, 5, 31))
    assert lines.line_of_tag("2.9-alpine").ended(RECORDED.date())


def test_a_codename_tag_is_on_its_line(repo, monkeypatch, capsys):
    on_day(monkeypatch)
    said = explained("ubuntu:trusty", capsys)
    assert "release line: Ubuntu 14.04 (LTS, ended 2019-04-02)" in said
