"""The on-disk lookup cache: one JSON file per source and image, kept for `cache_ttl`, so that
repeated runs and pre-commit checks spend no API calls. A damaged file is simply a miss: every
field is checked on read, tags by the reference grammar, and a time in the future has expired."""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import platformdirs

from tagbot.atomic import read_regular_file, write_atomic
from tagbot.errors import BadResponse, NotFound
from tagbot.sources.model import Tag, TagList, checked

FORMAT = 2  # bump when the file layout changes: old files then read as misses
CLOCK_SKEW = 300.0  # seconds an entry may seem to come from the future (clocks differ a little)


def default_cache_dir() -> Path:
    """The user cache folder as each OS places it: $XDG_CACHE_HOME/tagbot, ~/Library/Caches/tagbot,
    %LOCALAPPDATA%\\tagbot\\Cache."""
    return Path(platformdirs.user_cache_dir("tagbot", appauthor=False))


class TagCache:
    def __init__(self, directory: Path, ttl: timedelta, *, clock: Callable[[], float] = time.time) -> None:
        self.directory = directory
        self.ttl = ttl
        self._clock = clock

    def get(self, key: str, *, allow_stale: bool = False) -> TagList | NotFound | None:
        """The cached answer: the tags, a cached "not found", or None for a miss."""
        try:
            entry = json.loads(read_regular_file(self._path(key)))
            return self._read(entry, key, allow_stale)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError, BadResponse):
            return None

    def _read(self, entry: Any, key: str, allow_stale: bool) -> TagList | NotFound | None:
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key:
            return None
        stored_at, now = entry["stored_at"], self._clock()
        if not isinstance(stored_at, (int, float)) or isinstance(stored_at, bool) or not math.isfinite(stored_at):
            return None
        if stored_at > now + CLOCK_SKEW or (not allow_stale and now - stored_at > self.ttl.total_seconds()):
            return None
        if entry["not_found"] is not None:
            return NotFound(f"{_printable(entry['not_found'])} (cached)")
        if not isinstance(entry["tags"], list) or not isinstance(entry["complete"], bool):
            return None
        return checked(TagList(tuple(_tag(t) for t in entry["tags"]), complete=entry["complete"]), "the cache")

    def put(self, key: str, answer: TagList | NotFound) -> None:
        """Keep an answer; a "not found" too, so a typo'd image costs one call per TTL, not per run."""
        tags = answer if isinstance(answer, TagList) else TagList(())
        entry = {
            "format": FORMAT,
            "key": key,
            "stored_at": self._clock(),
            "not_found": str(answer) if isinstance(answer, NotFound) else None,
            "complete": tags.complete,
            "tags": [_entry(t) for t in tags.tags],
        }
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, json.dumps(entry, separators=(",", ":")).encode())
        except OSError:
            pass  # a cache that cannot be written costs calls next time, nothing else

    def _path(self, key: str) -> Path:
        return self.directory / "tags" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def _entry(tag: Tag) -> dict[str, Any]:
    return {
        "name": tag.name,
        "digest": tag.digest,
        "platforms": sorted(tag.platforms),
        "size": tag.size,
        "last_updated": tag.last_updated.isoformat() if tag.last_updated else None,
        "described": tag.described,
    }


def _tag(entry: Any) -> Tag:
    """One cached tag, every field of the type it must have (else ValueError: a miss)."""
    if not isinstance(entry, dict):
        raise ValueError("not an object")
    name, digest, platforms = entry["name"], entry["digest"], entry["platforms"]
    size, pushed, described = entry["size"], entry["last_updated"], entry["described"]
    if not isinstance(platforms, list) or not all(isinstance(p, str) for p in platforms):
        raise ValueError("platforms")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool)):
        raise ValueError("size")
    if not isinstance(described, bool) or (pushed is not None and not isinstance(pushed, str)):
        raise ValueError("described or last_updated")
    moment = datetime.fromisoformat(pushed) if pushed else None
    if moment is not None and moment.tzinfo is None:
        raise ValueError("last_updated without a zone")
    return Tag(name=name, digest=digest, platforms=frozenset(platforms), size=size, last_updated=moment,
               described=described)


def _printable(text: Any) -> str:
    return "".join(c for c in str(text) if c.isprintable())[:200]
