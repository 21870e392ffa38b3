"""The tag index: every tag any source ever answered, per image, in one sqlite file in the cache
folder. The tags API answers only the newest 100 tags; the index remembers the rest, so a later
run needs one call per image and no paging.

What the index knows is recorded as coverage: for an image and a name filter ("" for every
tag), the span of push times (`since`..`until`) in which every tag is known. The newest-100
window covers from its oldest tag to now, and joins the previous span when it overlaps it; a
complete list covers all time; a Docker Hub fill covers what it paged through. A decision is
settled when a span with no gap to now reaches back to the current tag's push time.

Concurrent runs (two terminals, a hook during a run) share the file safely: WAL mode and short
transactions. A damaged file, or one of another format, is rebuilt with one warning.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tagbot.sources.model import Tag

FORMAT = 1  # PRAGMA user_version; another number means rebuild
ALL_TIME = -math.inf
log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tags (
    image TEXT NOT NULL, name TEXT NOT NULL, digest TEXT, platforms TEXT NOT NULL, size INTEGER,
    pushed REAL, pushed_at TEXT, described INTEGER NOT NULL, last_seen REAL NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (image, name)
);
CREATE TABLE IF NOT EXISTS sources (
    image TEXT NOT NULL, tag TEXT NOT NULL, url TEXT NOT NULL,
    PRIMARY KEY (image, tag)
);
CREATE TABLE IF NOT EXISTS coverage (
    image TEXT NOT NULL, filter TEXT NOT NULL, since REAL NOT NULL, until REAL NOT NULL,
    PRIMARY KEY (image, filter)
);
"""


@dataclass(frozen=True)
class Span:
    since: float  # push time (epoch seconds) from which every tag is known; ALL_TIME for all
    until: float  # when that was last true


class TagIndex:
    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        self.opened_at = clock()  # tags no source answered since are known from the index alone
        self._lock = threading.Lock()
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return self._connect()
        except sqlite3.DatabaseError as e:
            log.warning("the tag index %s was damaged or of another format (%s); rebuilt", self.path, e)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            return self._connect()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA busy_timeout = 30000")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if version not in (0, FORMAT) or (version == 0 and tables):
                raise sqlite3.DatabaseError(f"format {version}, expected {FORMAT}")
            db.execute("PRAGMA journal_mode = WAL")
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version = {FORMAT}")
            db.execute("SELECT count(*) FROM tags").fetchone()  # a damaged file fails here, not later
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def close(self) -> None:
        self._db.close()

    # --- tags -------------------------------------------------------------------------------

    def tags(self, image: str, *, seen_since: float | None = None) -> tuple[Tag, ...]:
        """Every tag known of `image`, newest push first (unknown push times last); each says
        which source last answered it, or "index" when none has since `seen_since`."""
        with self._lock:
            rows = self._db.execute(
                "SELECT name, digest, platforms, size, pushed_at, described, source, last_seen FROM tags "
                "WHERE image = ? ORDER BY pushed IS NULL, pushed DESC, name DESC", (image,)
            ).fetchall()
        return tuple(_tag(*row[:6], known_from=row[6] if seen_since is None or row[7] >= seen_since else "index")
                     for row in rows)

    def names(self, image: str) -> set[str]:
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT name FROM tags WHERE image = ?", (image,))}

    def get(self, image: str, name: str) -> Tag | None:
        with self._lock:
            row = self._db.execute("SELECT name, digest, platforms, size, pushed_at, described FROM tags "
                                   "WHERE image = ? AND name = ?", (image, name)).fetchone()
        return _tag(*row) if row else None

    def merge(self, image: str, tags: Sequence[Tag], *, source: str) -> None:
        """Add `tags`; a tag already known takes this newer answer (its digest may have moved),
        except that a bare name (a registry's list) never erases details already known."""
        now = self._clock()
        rows = [(image, t.name, t.digest, json.dumps(sorted(t.platforms)), t.size, _epoch(t.last_updated),
                 t.last_updated.isoformat() if t.last_updated else None, int(t.described), now, source) for t in tags]
        with self._lock, _transaction(self._db):
            self._db.executemany(
                "INSERT INTO tags VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (image, name) DO UPDATE SET "
                "digest = CASE WHEN excluded.described THEN excluded.digest ELSE digest END, "
                "platforms = CASE WHEN excluded.described THEN excluded.platforms ELSE platforms END, "
                "size = CASE WHEN excluded.described THEN excluded.size ELSE size END, "
                "pushed = CASE WHEN excluded.described THEN excluded.pushed ELSE pushed END, "
                "pushed_at = CASE WHEN excluded.described THEN excluded.pushed_at ELSE pushed_at END, "
                "described = max(described, excluded.described), "
                "last_seen = excluded.last_seen, source = excluded.source",
                rows,
            )

    # --- sources --------------------------------------------------------------------------------

    def source_url(self, image: str, tag: str) -> str | None:
        """The source a tag's image declares, as read before: "" for none, None when never read."""
        with self._lock:
            row = self._db.execute("SELECT url FROM sources WHERE image = ? AND tag = ?", (image, tag)).fetchone()
        return row[0] if row else None

    def remember_source(self, image: str, tag: str, url: str | None) -> None:
        """What a tag's image declares as its source (None: nothing), read once: a tag's labels
        rarely change, and each read is a pull that Docker Hub counts."""
        with self._lock, _transaction(self._db):
            self._db.execute("INSERT OR REPLACE INTO sources VALUES (?, ?, ?)", (image, tag, url or ""))

    # --- coverage -----------------------------------------------------------------------------

    def span(self, image: str, name_filter: str = "") -> Span | None:
        with self._lock:
            row = self._db.execute("SELECT since, until FROM coverage WHERE image = ? AND filter = ?",
                                   (image, name_filter)).fetchone()
        return Span(*row) if row else None

    def record_window(self, image: str, tags: Sequence[Tag], *, complete: bool, source: str) -> None:
        """Merge a newest-first answer and extend what is known: all time for a complete list;
        for a window, from its oldest tag, reaching back further when it overlaps what was known."""
        known = self.names(image)
        self.merge(image, tags, source=source)
        now = self._clock()
        if complete:
            self._set_span(image, "", ALL_TIME, now)
            return
        oldest = _oldest(tags)
        if oldest is None:
            return  # no push times: nothing can be said about coverage
        previous = self.span(image)
        overlaps = previous is not None and oldest[0] <= previous.until and oldest[1] in known
        self._set_span(image, "", previous.since if overlaps and previous else oldest[0], now)

    def record_fill(self, image: str, name_filter: str, reached: float) -> None:
        """A Docker Hub fill paged (filtered by `name_filter`) from now back to `reached`."""
        if name_filter:
            self._set_span(image, name_filter, reached, self._clock())
            return
        previous = self.span(image)
        since = min(reached, previous.since) if previous and reached <= previous.until else reached
        self._set_span(image, "", since, self._clock())

    def known_since(self, image: str, name_filter: str) -> float | None:
        """How far back every tag matching `name_filter` is known, without a gap to the newest
        answer (None when it is not known at all)."""
        every = self.span(image)
        if every is None:
            return None
        best = every.since
        filtered = self.span(image, name_filter) if name_filter else None
        if filtered is not None and every.since <= filtered.until:
            best = min(best, filtered.since)  # the window joins the fill: nothing was pushed in between unseen
        return best

    def _set_span(self, image: str, name_filter: str, since: float, until: float) -> None:
        with self._lock, _transaction(self._db):
            self._db.execute("INSERT OR REPLACE INTO coverage VALUES (?, ?, ?, ?)", (image, name_filter, since, until))


class _transaction:
    """BEGIN IMMEDIATE .. COMMIT: short, and one writer at a time across processes."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def _epoch(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment else None


def _oldest(tags: Sequence[Tag]) -> tuple[float, str] | None:
    pushed = [(t.last_updated.timestamp(), t.name) for t in tags if t.last_updated is not None]
    return min(pushed) if pushed else None


def _tag(name: str, digest: str | None, platforms: str, size: int | None, pushed_at: str | None,
         described: int, *, known_from: str | None = None) -> Tag:
    moment = datetime.fromisoformat(pushed_at) if pushed_at else None
    return Tag(name, digest, _platforms(platforms), size, moment, bool(described), known_from)


@functools.lru_cache(maxsize=1024)
def _platforms(text: str) -> frozenset[str]:
    """Parsed once per distinct set: the tags of an image share a handful of them."""
    return frozenset(json.loads(text))
