from __future__ import annotations

import logging
import multiprocessing
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagbot.sources.index import ALL_TIME, TagIndex
from tagbot.sources.model import Tag

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
IMAGE = "docker.io/library/node"


def tag(number: int, digest: str = "a", pushed: int | None = None) -> Tag:
    return Tag(f"1.{number}.0", "sha256:" + digest * 64, frozenset({"linux/amd64"}), 10,
               START + timedelta(hours=number if pushed is None else pushed))


def window(numbers: list[int], digest: str = "a") -> list[Tag]:
    return [tag(n, digest) for n in sorted(numbers, reverse=True)]


@settings(max_examples=60, deadline=None)
@given(answers=st.lists(st.tuples(st.lists(st.integers(0, 40), max_size=10, unique=True), st.sampled_from("abc")),
                        max_size=6))
def test_any_sequence_of_answers_merges_to_their_union_and_the_newest_digest_wins(answers, tmp_path_factory):
    index = TagIndex(tmp_path_factory.mktemp("index") / "index.sqlite3")
    newest_digest: dict[str, str] = {}
    for numbers, digest in answers:
        index.record_window(IMAGE, window(numbers, digest), complete=False, source="tagsapi")
        newest_digest.update({f"1.{n}.0": "sha256:" + digest * 64 for n in numbers})
    known = index.tags(IMAGE)
    assert {t.name: t.digest for t in known} == newest_digest
    assert [t.last_updated for t in known] == sorted((t.last_updated for t in known), reverse=True)
    index.close()


def test_tags_come_back_as_they_went_in(tmp_path: Path):
    index = TagIndex(tmp_path / "index.sqlite3")
    exact = Tag("1.2.3-alpine", "sha256:" + "e" * 64, frozenset({"linux/amd64", "linux/arm64/v8"}), 123,
                datetime(2026, 8, 1, 12, 30, 15, 123456, tzinfo=timezone.utc))
    index.merge(IMAGE, [exact, Tag("latest")], source="hub")
    assert index.tags(IMAGE) == (exact, Tag("latest"))


def test_a_bare_name_never_erases_details(tmp_path: Path):
    index = TagIndex(tmp_path / "index.sqlite3")
    index.merge(IMAGE, [tag(1)], source="registry")
    index.merge(IMAGE, [Tag("1.1.0", described=False)], source="registry")
    assert index.tags(IMAGE) == (tag(1),)


def test_coverage_grows_while_windows_overlap_and_restarts_after_a_gap(tmp_path: Path):
    clock = [(START + timedelta(days=30)).timestamp()]
    index = TagIndex(tmp_path / "index.sqlite3", clock=lambda: clock[0])
    index.record_window(IMAGE, window([1, 2, 3]), complete=False, source="tagsapi")
    assert index.known_since(IMAGE, "") == tag(1).last_updated.timestamp()
    clock[0] += 10
    index.record_window(IMAGE, window([3, 4, 5]), complete=False, source="tagsapi")  # overlaps at 1.3.0
    assert index.known_since(IMAGE, "") == tag(1).last_updated.timestamp()
    index.record_window(IMAGE, window([9, 10]), complete=False, source="tagsapi")  # 1.6-1.8 unseen: a gap
    assert index.known_since(IMAGE, "") == tag(9).last_updated.timestamp()
    index.record_window(IMAGE, window([10]), complete=True, source="hub")
    assert index.known_since(IMAGE, "") == ALL_TIME


def test_a_filtered_fill_counts_while_the_newest_answers_join_it(tmp_path: Path):
    clock = [(START + timedelta(hours=21, minutes=30)).timestamp()]  # just after 1.21.0 was pushed
    index = TagIndex(tmp_path / "index.sqlite3", clock=lambda: clock[0])
    index.record_window(IMAGE, window([20, 21]), complete=False, source="tagsapi")
    index.record_fill(IMAGE, "-alpine", tag(2).last_updated.timestamp())
    assert index.known_since(IMAGE, "-alpine") == tag(2).last_updated.timestamp()
    assert index.known_since(IMAGE, "-slim") == tag(20).last_updated.timestamp()
    clock[0] = (START + timedelta(hours=26)).timestamp()
    index.record_window(IMAGE, window([21, 25]), complete=False, source="tagsapi")  # joins what was known
    assert index.known_since(IMAGE, "-alpine") == tag(2).last_updated.timestamp()
    clock[0] = (START + timedelta(hours=32)).timestamp()
    index.record_window(IMAGE, window([30, 31]), complete=False, source="tagsapi")  # 26-29 never seen: a gap
    assert index.known_since(IMAGE, "-alpine") == tag(30).last_updated.timestamp()


def _writer(path: str, offset: int) -> None:
    index = TagIndex(Path(path))
    for number in range(offset, offset + 200):
        index.record_window(IMAGE, window([number]), complete=False, source="tagsapi")
    index.close()


def test_two_processes_write_one_index(tmp_path: Path):
    path = tmp_path / "index.sqlite3"
    TagIndex(path).close()
    processes = [multiprocessing.get_context("spawn").Process(target=_writer, args=(str(path), o)) for o in (0, 200)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    assert len(TagIndex(path).tags(IMAGE)) == 400


@pytest.mark.parametrize("damage", ["garbage", "other format", "truncated"])
def test_a_damaged_or_foreign_index_is_rebuilt_with_one_warning(tmp_path: Path, caplog, damage: str, monkeypatch):
    # caplog listens at the root; a `main()` run earlier on this worker stops tagbot's logger propagating.
    monkeypatch.setattr(logging.getLogger("tagbot"), "propagate", True)
    path = tmp_path / "index.sqlite3"
    index = TagIndex(path)
    index.merge(IMAGE, [tag(1)], source="tagsapi")
    index.close()
    if damage == "garbage":
        path.write_bytes(b"this is not a database" * 100)
    elif damage == "other format":
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA user_version = 99")
    else:
        path.write_bytes(path.read_bytes()[:200])
    with caplog.at_level(logging.WARNING, logger="tagbot"):
        rebuilt = TagIndex(path)
    # One record, though pytest may hand it to caplog twice (at the root and at `tagbot` itself).
    warnings = {id(r): r for r in caplog.records if r.levelno == logging.WARNING}
    assert len(warnings) == 1
    assert next(iter(warnings.values())).getMessage().startswith(f"the tag index {path}")
    assert rebuilt.tags(IMAGE) == ()
    rebuilt.merge(IMAGE, [tag(2)], source="tagsapi")
    assert rebuilt.tags(IMAGE) == (tag(2),)
