"""The store: everything tagbot keeps between runs, in one sqlite file in the cache folder.

- `answers`: the newest answer per source, image (and tag, for sources that describe tags one
  by one), with the time it came: within `cache_ttl` it answers again, so repeated runs and
  pre-commit checks spend no calls; older, it is what `--offline` and the monthly budget decide from.
- `tags`: every tag any source ever answered, per image. The tags API answers the newest 100;
  the store remembers the rest, so a later run needs one call per image and no paging.
- `coverage`: for an image and a name filter ("" for every tag), the spans of push times
  (`since`..`until`) in which every tag is known: a window's, a Docker Hub walk's, joined where
  they overlap. A walk that stopped (page cap, deadline, quota) left its span, so the next run
  resumes below it; `total` is how many tags Docker Hub counts for the filter.
- `sources`: the source repository each tag's image declares (read once: each read is a pull).
- `ledger`: tags-API calls and runs per calendar month (UTC), for `monthly_calls`.

The file may come back from an Actions cache or an artifact that someone else wrote, so it is
trusted for nothing: every value read passes the same checks as a source's answer (tags,
digests and platforms the reference grammar, every column its type). A row that fails them is
never used: what the store knew of that image is dropped, with one warning, and looked up
again. A damaged file, or one of another format, is rebuilt with one warning. Concurrent runs
(two terminals, a hook during a run) share the file safely: WAL mode and short transactions.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import platformdirs

from tagbot.errors import BadResponse, NotFound
from tagbot.refs import is_digest, is_tag
from tagbot.sources.model import ImageFacts, Tag, TagList, checked, is_platform, is_status_word

FORMAT = 2  # PRAGMA user_version; another number means rebuild
FILE = "store.sqlite3"
# What earlier versions kept in the cache folder: a JSON file per answer, and the tag index.
LEGACY = ("tags", "index.sqlite3", "index.sqlite3-wal", "index.sqlite3-shm")
ALL_TIME = -math.inf
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# The reference grammar's tags and digests (refs.is_tag, refs.is_digest), one a line.
_NAMES = re.compile(r"(?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\n)*")
_DIGESTS = re.compile(r"(?:sha256:[0-9a-f]{64}\n|sha512:[0-9a-f]{128}\n)*")
BUSY_TIMEOUT = 30.0  # seconds another run may hold the file before this one keeps its own in memory
CLOCK_SKEW = 300.0  # seconds an answer may seem to come from the future (clocks differ a little)
SOURCE_LABELS = ("tagsapi", "hub", "registry")  # who answered a tag, for explain
MAX_SPANS = 64  # apart from each other, per image and filter
MAX_TEXT = 4096  # longer than any platform list, message or URL tagbot writes: longer is not its own
log = logging.getLogger(__name__)
Result = TypeVar("Result")

_TABLES = {
    "answers": "source TEXT NOT NULL, image TEXT NOT NULL, tag TEXT NOT NULL, at REAL NOT NULL, "
               "complete INTEGER NOT NULL, not_found TEXT, names TEXT, PRIMARY KEY (source, image, tag)",
    "tags": "image TEXT NOT NULL, name TEXT NOT NULL, digest TEXT, platforms TEXT NOT NULL, size INTEGER, "
            "pushed INTEGER, described INTEGER NOT NULL, seen REAL NOT NULL, source TEXT NOT NULL, "
            "PRIMARY KEY (image, name)",
    "coverage": "image TEXT NOT NULL, filter TEXT NOT NULL, spans TEXT NOT NULL, total INTEGER, "
                "PRIMARY KEY (image, filter)",
    "sources": "image TEXT NOT NULL, tag TEXT NOT NULL, url TEXT NOT NULL, PRIMARY KEY (image, tag)",
    "ledger": "month TEXT NOT NULL PRIMARY KEY, calls INTEGER NOT NULL, runs INTEGER NOT NULL",
    # What the tags API's /v1/image said of an image, and when: read at most once a day.
    "facts": "image TEXT NOT NULL PRIMARY KEY, status TEXT NOT NULL, deprecated INTEGER NOT NULL, at REAL NOT NULL",
}
# What reading a row that fails its checks raises.
_UNREADABLE = (ValueError, TypeError, RecursionError, BadResponse)
_SCHEMA = {("table", table, f"CREATE TABLE {table} ({spec})") for table, spec in _TABLES.items()} | {
    ("index", f"sqlite_autoindex_{table}_1", None) for table in _TABLES}


def default_cache_dir() -> Path:
    """The user cache folder as each OS places it: $XDG_CACHE_HOME/tagbot, ~/Library/Caches/tagbot,
    %LOCALAPPDATA%\\tagbot\\Cache."""
    return Path(platformdirs.user_cache_dir("tagbot", appauthor=False))


@dataclass(frozen=True)
class Answer:
    """A source's answer as it was kept: the tags (or "not found") and when it came."""

    tags: TagList | NotFound
    at: float


@dataclass(frozen=True)
class Span:
    """Every tag pushed from `since` to `until` (epoch seconds) is known; ALL_TIME: since ever."""

    since: float
    until: float


@dataclass(frozen=True)
class Coverage:
    spans: tuple[Span, ...]  # apart from each other, the newest first
    total: int | None = None  # how many tags the filter holds, as Docker Hub last counted

    @property
    def newest(self) -> Span | None:
        """The span that reaches the present, as far as anything does."""
        return self.spans[0] if self.spans else None

    @property
    def complete(self) -> bool:
        return bool(self.spans) and self.spans[0].since == ALL_TIME


@dataclass(frozen=True)
class Month:
    calls: int  # tags-API calls so far
    runs: int  # runs that counted so far


class Store:
    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        self.opened_at = clock()  # tags no source answered since are known from the store alone
        self._lock = threading.Lock()
        self._warned = False
        self._db = self._open()

    # --- opening --------------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _forget_legacy(self.path.parent)
        try:
            if str(self.path) != ":memory:":
                _only_regular_files(self.path)
            return self._connect()
        except sqlite3.OperationalError as e:
            if _busy(e):
                raise  # another run holds it: not damage (the run keeps its own in memory)
            return self._rebuilt(e)
        except sqlite3.DatabaseError as e:
            return self._rebuilt(e)

    def _rebuilt(self, e: sqlite3.DatabaseError) -> sqlite3.Connection:
        self._warn(f"the store {self.path} was damaged or of another format ({e}); rebuilt")
        for suffix in ("", "-wal", "-shm"):
            part = Path(f"{self.path}{suffix}")
            if part.is_dir() and not part.is_symlink():
                shutil.rmtree(part)
            else:
                part.unlink(missing_ok=True)
        return self._connect()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
        try:
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if version not in (0, FORMAT) or (version == 0 and tables):
                raise sqlite3.DatabaseError(f"format {version}, expected {FORMAT}")
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("it fails sqlite's own check")
            db.execute("PRAGMA journal_mode = WAL")
            db.executescript("".join(f"CREATE TABLE IF NOT EXISTS {t} ({spec});\n" for t, spec in _TABLES.items()))
            # Exactly these tables and their keys' own indexes: no trigger, view or constraint
            # that someone else added may run on tagbot's reads and writes.
            found = {(kind, name, sql) for kind, name, sql in db.execute("SELECT type, name, sql FROM sqlite_master")
                     if not name.startswith("sqlite_stat")}  # sqlite's own statistics (ANALYZE) are harmless
            if found != _SCHEMA:
                strange = sorted(name for kind, name, sql in found - _SCHEMA)
                raise sqlite3.DatabaseError(f"its tables are not tagbot's ({', '.join(strange) or 'some are missing'})")
            db.execute(f"PRAGMA user_version = {FORMAT}")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def close(self) -> None:
        self._db.close()

    def now(self) -> float:
        return self._clock()

    # --- answers --------------------------------------------------------------------------------

    def answer(self, source: str, image: str, tag: str = "") -> Answer | None:
        """The kept answer of `source` for `image` (or one tag of it), however old; None when there
        is none, or none that passes its checks."""
        row = self._one("SELECT at, complete, not_found, names FROM answers WHERE source = ? AND image = ? AND tag = ?",
                        (source, image, tag))
        if row is None:
            return None
        try:
            return self._answer(image, tag, *row)
        except _UNREADABLE as e:
            self._drop(image, str(e))
            return None

    def _answer(self, image: str, tag: str, at: Any, complete: Any, not_found: Any, names: Any) -> Answer:
        at = _number(at, "an answer time")
        if at > self._clock() + CLOCK_SKEW:
            raise ValueError("an answer from the future")
        if not_found is not None:
            return Answer(NotFound(f"{_printable(_text(not_found, 'an answer message'))} (cached)"), at)
        if complete not in (0, 1):
            raise ValueError("an answer whose complete is not 0 or 1")
        wanted = [tag] if tag else _names(names)
        known = {t.name: t for t in self._tags_named(image, wanted)}
        if len(known) != len(set(wanted)):
            raise ValueError("an answer naming a tag the store does not hold")
        return Answer(TagList(tuple(known[name] for name in wanted), complete=bool(complete)), at)

    def keep_answer(self, source: str, image: str, answer: TagList | NotFound, *, tag: str = "", label: str) -> None:
        """Keep an answer (a "not found" too, so a typo'd image costs one call per TTL, not per
        run); its tags join what is known of the image, a window's coverage with them."""
        if isinstance(answer, NotFound):
            self._write("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, 0, ?, NULL)",
                        (source, image, tag, self._clock(), _printable(str(answer))))
            return
        if tag:
            self.merge(image, answer.tags, source=label)
        else:
            self.record_window(image, answer.tags, complete=answer.complete, source=label)
        names = None if tag else json.dumps([t.name for t in answer.tags])
        self._write("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, NULL, ?)",
                    (source, image, tag, self._clock(), int(answer.complete), names))

    def answered_at(self, image: str) -> float | None:
        """When any source last answered the list of `image`'s tags."""
        row = self._one("SELECT max(at) FROM answers WHERE image = ? AND tag = ''", (image,))
        value = row[0] if row else None
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    # --- tags -----------------------------------------------------------------------------------

    def tags(self, image: str, *, seen_since: float | None = None) -> tuple[Tag, ...]:
        """Every tag known of `image`, newest push first (unknown push times last); each says
        which source last answered it, or "store" when none has since `seen_since`."""
        rows = self._all("SELECT name, digest, platforms, size, pushed, described, source, seen FROM tags "
                         "WHERE image = ? ORDER BY pushed IS NULL, pushed DESC, name DESC", (image,))
        try:
            return tuple(_tags(rows, [_from(row[6], row[7], seen_since) for row in rows]))
        except _UNREADABLE as e:
            self._drop(image, str(e))
            return ()

    def get(self, image: str, name: str) -> Tag | None:
        try:
            found = self._tags_named(image, [name])
        except _UNREADABLE as e:
            self._drop(image, str(e))
            return None
        return found[0] if found else None

    def described_as(self, image: str, digest: str) -> Tag | None:
        """A tag of `image` known in detail whose manifest is `digest`: a manifest is the same
        whatever tag names it, so an alias or a tag moved onto it needs no second reading."""
        row = self._one("SELECT name, digest, platforms, size, pushed, described FROM tags "
                        "WHERE image = ? AND digest = ? AND described = 1 ORDER BY seen DESC LIMIT 1", (image, digest))
        if row is None:
            return None
        try:
            return _tag(*row)
        except _UNREADABLE as e:
            self._drop(image, str(e))
            return None

    def _tags_named(self, image: str, names: Sequence[str]) -> list[Tag]:
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(names), 500):  # sqlite's limit on parameters
            chunk = list(names[start:start + 500])
            rows += self._all(f"SELECT name, digest, platforms, size, pushed, described FROM tags WHERE image = ? "
                              f"AND name IN ({', '.join('?' * len(chunk))})", (image, *chunk))
        return _tags(rows)

    def count(self, image: str, name_filter: str = "") -> int:
        """How many known tags of `image` hold `name_filter` (Docker Hub's substring filter)."""
        row = self._one("SELECT count(*) FROM tags WHERE image = ? AND instr(name, ?) > 0", (image, name_filter))
        return int(row[0]) if row else 0

    def count_since(self, image: str, name_filter: str, since: float) -> int:
        """How many known tags holding `name_filter` were pushed at or after `since`."""
        floor = -(2**63) if since == ALL_TIME else math.floor(since * 1_000_000)
        row = self._one("SELECT count(*) FROM tags WHERE image = ? AND instr(name, ?) > 0 AND pushed >= ?",
                        (image, name_filter, floor))
        return int(row[0]) if row else 0

    def count_pushed_since(self, image: str, since: float) -> int:
        """How many known tags of `image` were pushed at or after `since`: how busy it is."""
        row = self._one("SELECT count(*) FROM tags WHERE image = ? AND pushed >= ?", (image, math.floor(since * 1_000_000)))
        return int(row[0]) if row else 0

    def merge(self, image: str, tags: Sequence[Tag], *, source: str) -> None:
        """Add `tags`; a tag already known takes this newer answer (its digest may have moved),
        except that a bare name (a registry's list) never erases details already known."""
        now = self._clock()
        rows = [(image, t.name, t.digest, json.dumps(sorted(t.platforms)), t.size, _micros(t.last_updated),
                 int(t.described), now, source) for t in checked(TagList(tuple(tags)), source).tags]
        self._write_many(
            "INSERT INTO tags VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (image, name) DO UPDATE SET "
            "digest = CASE WHEN excluded.described THEN excluded.digest ELSE digest END, "
            "platforms = CASE WHEN excluded.described THEN excluded.platforms ELSE platforms END, "
            "size = CASE WHEN excluded.described THEN excluded.size ELSE size END, "
            "pushed = CASE WHEN excluded.described THEN excluded.pushed ELSE pushed END, "
            "described = max(described, excluded.described), seen = excluded.seen, source = excluded.source",
            rows,
        )

    # --- coverage -------------------------------------------------------------------------------

    def coverage(self, image: str, name_filter: str = "") -> Coverage:
        """What is known of the tags holding `name_filter`: its own spans joined with those of
        every tag (which hold every filter's tags too)."""
        own = self._coverage(image, name_filter)
        if not name_filter:
            return own
        return Coverage(_joined((*own.spans, *self._coverage(image, "").spans)), own.total)

    def _coverage(self, image: str, name_filter: str) -> Coverage:
        row = self._one("SELECT spans, total FROM coverage WHERE image = ? AND filter = ?", (image, name_filter))
        if row is None:
            return Coverage(())
        try:
            spans = _spans(row[0])
            if any(span.until > self._clock() + CLOCK_SKEW for span in spans):
                raise ValueError("coverage from the future")
            return Coverage(spans, _count(row[1], "a coverage total"))
        except (ValueError, TypeError, RecursionError) as e:
            self._drop(image, str(e))
            return Coverage(())

    def cover(self, image: str, name_filter: str, span: Span, *, total: int | None = None) -> Coverage:
        """Add `span` to what is known of `name_filter`'s tags; the joined result."""
        own = self._coverage(image, name_filter)
        span = Span(min(span.since, span.until), span.until)  # a push "after now" is a clock's skew
        spans = _joined((*own.spans, span))[:MAX_SPANS]  # the newest: the oldest are re-read if ever needed
        text = json.dumps([[None if s.since == ALL_TIME else s.since, s.until] for s in spans])
        self._write("INSERT OR REPLACE INTO coverage VALUES (?, ?, ?, ?)",
                    (image, name_filter, text, total if total is not None else own.total))
        return self.coverage(image, name_filter)

    def forget_coverage(self, image: str, name_filter: str) -> None:
        self._write("DELETE FROM coverage WHERE image = ? AND filter = ?", (image, name_filter))

    def record_window(self, image: str, tags: Sequence[Tag], *, complete: bool, source: str) -> None:
        """Merge a newest-first answer and what it covers: all time for a complete list; for a
        window, from its oldest tag to now, joining what was known when they overlap."""
        self.merge(image, tags, source=source)
        now = self._clock()
        if complete:
            self.cover(image, "", Span(ALL_TIME, now))
            return
        pushed = [t.last_updated.timestamp() for t in tags if t.last_updated is not None]
        if pushed:  # without push times nothing can be said about coverage
            self.cover(image, "", Span(min(pushed), now))

    # --- sources --------------------------------------------------------------------------------

    def source_url(self, image: str, tag: str) -> str | None:
        """The source a tag's image declares, as read before: "" for none, None when never read.
        Only ever shown as a link once it passes the link checks (`pr.links`)."""
        row = self._one("SELECT url FROM sources WHERE image = ? AND tag = ?", (image, tag))
        if row is None:
            return None
        if not isinstance(row[0], str) or len(row[0]) > MAX_TEXT or not row[0].isascii() or not row[0].isprintable():
            self._drop(image, "a source that is not a URL")
            return None
        return row[0]

    def remember_source(self, image: str, tag: str, url: str | None) -> None:
        self._write("INSERT OR REPLACE INTO sources VALUES (?, ?, ?)", (image, tag, url or ""))

    # --- image facts ----------------------------------------------------------------------------

    def facts(self, image: str) -> tuple[ImageFacts, float] | None:
        """What /v1/image said of `image`, and when; None when never asked (or the row is bad)."""
        row = self._one("SELECT status, deprecated, at FROM facts WHERE image = ?", (image,))
        if row is None:
            return None
        status, deprecated, at = row
        if (not is_status_word(status) or deprecated not in (0, 1)
                or not isinstance(at, float) or not math.isfinite(at)):
            self._write("DELETE FROM facts WHERE image = ?", (image,))
            return None
        return ImageFacts(status, bool(deprecated)), at

    def keep_facts(self, image: str, facts: ImageFacts) -> None:
        self._write("INSERT OR REPLACE INTO facts VALUES (?, ?, ?, ?)",
                    (image, facts.status, int(facts.deprecated), self.now()))

    # --- the monthly ledger ---------------------------------------------------------------------

    def month(self, month: str) -> Month:
        row = self._one("SELECT calls, runs FROM ledger WHERE month = ?", (month,))
        if row is None:
            return Month(0, 0)
        try:
            return Month(_count(row[0], "a count of calls") or 0, _count(row[1], "a count of runs") or 0)
        except (ValueError, TypeError) as e:
            self._warn(f"the store {self.path} held a monthly count that fails its checks ({e}); counted again from 0")
            self._write("DELETE FROM ledger WHERE month = ?", (month,))
            return Month(0, 0)

    def spend(self, month: str, *, calls: int = 0, runs: int = 0) -> None:
        """Add this run's tags-API calls (and the run itself) to the month's count."""
        self.month(month)  # a damaged count is repaired first, not added to
        self._write("INSERT INTO ledger VALUES (?, ?, ?) ON CONFLICT (month) DO UPDATE SET "
                    "calls = calls + excluded.calls, runs = runs + excluded.runs", (month, calls, runs))

    # --- repair and plumbing --------------------------------------------------------------------

    def _drop(self, image: str, why: str) -> None:
        """Forget all the store knew of `image`: one bad row makes the rest of it doubtful, and
        a lookup rebuilds it."""
        self._warn(f"the store {self.path} held data for {image} that fails its checks ({_printable(why)[:200]}); "
                   "what it knew of the image was dropped and is looked up again")
        def forget() -> None:
            for table in ("answers", "tags", "coverage", "sources"):
                self._db.execute(f"DELETE FROM {table} WHERE image = ?", (image,))

        self._safely(lambda: self._in_transaction(forget))

    def _warn(self, message: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("%s", message)
        else:
            log.debug("%s", message)

    def _one(self, sql: str, parameters: Sequence[Any]) -> tuple[Any, ...] | None:
        rows = self._all(sql, parameters)
        return tuple(rows[0]) if rows else None

    def _all(self, sql: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self._safely(lambda: self._db.execute(sql, parameters).fetchall())

    def _write(self, sql: str, parameters: Sequence[Any]) -> None:
        self._safely(lambda: self._in_transaction(lambda: self._db.execute(sql, parameters)))

    def _write_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._safely(lambda: self._in_transaction(lambda: self._db.executemany(sql, rows)))

    def _in_transaction(self, work: Callable[[], Any]) -> None:
        with self._transaction():
            work()

    def _safely(self, work: Callable[[], Result]) -> Result:
        """`work` on the file; should the file fail it mid-run (damage found late, another run
        holding it past the busy time-out), the rest of the run keeps its store in memory."""
        try:
            with self._lock:
                return work()
        except sqlite3.DatabaseError as e:
            self._warn(f"the store {self.path} failed ({e}); this run keeps what it learns in memory")
            with self._lock:
                self._db.close()
                self.path = Path(":memory:")
                self._db = self._connect()
                return work()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE .. COMMIT: short, and one writer at a time across processes (the
        caller holds the lock)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _busy(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


def _only_regular_files(path: Path) -> None:
    """A restored cache may hold a link (sqlite would write through it, anywhere) or a named
    pipe (sqlite would wait on it forever) where the store's files belong: neither is opened."""
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.is_symlink() or (part.exists() and not part.is_file()):
            raise sqlite3.DatabaseError(f"{part.name} is not a regular file")


def _forget_legacy(folder: Path) -> None:
    """Earlier versions' answer files and tag index: never read (their format is not checked
    here), so removed, once."""
    for name in LEGACY:
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)


def _from(source: Any, seen: Any, seen_since: float | None) -> str:
    if seen_since is not None and (not isinstance(seen, (int, float)) or seen < seen_since):
        return "store"
    return source if source in SOURCE_LABELS else "store"


def _tags(rows: Sequence[tuple[Any, ...]], known_from: Sequence[str] | None = None) -> list[Tag]:
    """Rows as tags, every column of its type and passing the grammar (else ValueError: the
    rows are not used). Names and digests are checked a column at a time, one regular
    expression over them all: a history of 9,000 tags is read on every run."""
    if not (_all_match([row[0] for row in rows], _NAMES) and _all_match([r[1] for r in rows if r[1] is not None], _DIGESTS)):
        for row in rows:
            _tag(*row[:6])  # raises, naming the first that fails
    froms: Sequence[str | None] = known_from or [None] * len(rows)
    return [_tag(*row[:6], known_from=source, grammar=False) for row, source in zip(rows, froms)]


def _all_match(values: list[Any], lines: re.Pattern[str]) -> bool:
    """Every value text, with no line break of its own, and all of them `lines`."""
    if not all(type(value) is str for value in values):
        return False
    joined = "".join(value + "\n" for value in values)
    return joined.count("\n") == len(values) and joined.isascii() and lines.fullmatch(joined) is not None


def _tag(name: Any, digest: Any, platforms: Any, size: Any, pushed: Any, described: Any,
         *, known_from: str | None = None, grammar: bool = True) -> Tag:
    """One row as a tag, every column of its type and (unless checked already, a column at a
    time) passing the grammar; else ValueError: the row is not used."""
    if not isinstance(name, str) or (digest is not None and not isinstance(digest, str)):
        raise ValueError("a tag whose name or digest is not text")
    if size is not None and (not isinstance(size, int) or size < 0):
        raise ValueError(f"a size for tag {_shown(name)} that is not a number of bytes")
    if pushed is not None and not isinstance(pushed, int):
        raise ValueError(f"a push time for tag {_shown(name)} that is not a time")
    if described not in (0, 1):
        raise ValueError(f"a described for tag {_shown(name)} that is not 0 or 1")
    if grammar and not is_tag(name):
        raise ValueError(f"a name that is not a tag: {_shown(name)}")
    if grammar and digest is not None and not is_digest(digest):
        raise ValueError(f"a digest for tag {_shown(name)} that is not a digest")
    return Tag(name, digest, _platforms(_text(platforms, "platforms")), size, _moment(pushed), bool(described), known_from)


def _moment(micros: int | None) -> datetime | None:
    if micros is None:
        return None
    try:
        return EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise ValueError("a push time out of range") from None


def _micros(moment: datetime | None) -> int | None:
    """Push times as whole microseconds: exact, where a float of seconds loses the last digit."""
    if moment is None:
        return None
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@functools.lru_cache(maxsize=1024)
def _platforms(text: str) -> frozenset[str]:
    """Parsed once per distinct set: the tags of an image share a handful of them."""
    value = _json(text, "platforms")
    if not isinstance(value, list) or not all(isinstance(p, str) and is_platform(p) for p in value):
        raise ValueError("platforms that are not a list of platforms")
    return frozenset(value)


def _names(text: Any) -> list[str]:
    value = _json(_text(text, "an answer's names", limit=10_000_000), "an answer's names")
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise ValueError("an answer whose names are not a list of names")
    return value


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise ValueError(f"{what} that is not JSON") from None
    except RecursionError:
        raise ValueError(f"{what} nested too deep") from None


def _shown(name: Any) -> str:
    return repr(_printable(name)[:60])


def _text(value: Any, what: str, *, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError(f"{what} that is not text")
    return value


def _number(value: Any, what: str, *, infinite: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} that is not a number")
    if math.isnan(value) or (math.isinf(value) and not (infinite and value < 0)):
        raise ValueError(f"{what} that is not a time")
    return float(value)


def _count(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} that is not a count")
    return value


def _joined(spans: Sequence[Span]) -> tuple[Span, ...]:
    """Spans that overlap as one; the newest first."""
    joined: list[Span] = []
    for span in sorted(spans, key=lambda s: s.until, reverse=True):
        if joined and span.until >= joined[-1].since:
            joined[-1] = Span(min(span.since, joined[-1].since), joined[-1].until)
        else:
            joined.append(span)
    return tuple(joined)


def _spans(text: Any) -> tuple[Span, ...]:
    value = _json(_text(text, "coverage", limit=MAX_SPANS * 64), "coverage")
    if not isinstance(value, list) or len(value) > MAX_SPANS:
        raise ValueError("coverage that is not a list of spans")
    spans = []
    for pair in value:
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError("coverage whose spans are not pairs")
        since = ALL_TIME if pair[0] is None else _number(pair[0], "a coverage start")
        until = _number(pair[1], "a coverage end")
        if since > until:
            raise ValueError("coverage with a span that ends before it starts")
        spans.append(Span(since, until))
    return _joined(spans)


def _printable(text: Any) -> str:
    return "".join(c for c in str(text) if c.isprintable())[:200]
