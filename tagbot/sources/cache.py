"""The on-disk lookup cache: one JSON file per source and image, kept for `cache_ttl`, so that
repeated runs and pre-commit checks spend no API calls. A damaged file is simply a miss."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import platformdirs

from tagbot.atomic import write_atomic
from tagbot.errors import NotFound
from tagbot.sources.model import Tag, TagList

FORMAT = 2  # bump when the file layout changes: old files then read as misses


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
            entry = json.loads(self._path(key).read_text(encoding="utf-8"))
            if entry["format"] != FORMAT or entry["key"] != key:
                return None
            if not allow_stale and self._clock() - entry["stored_at"] > self.ttl.total_seconds():
                return None
            if entry["not_found"]:
                return NotFound(f"{entry['not_found']} (cached)")
            return TagList(tuple(_tag(t) for t in entry["tags"]), complete=entry["complete"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

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


def _tag(entry: dict[str, Any]) -> Tag:
    pushed = entry["last_updated"]
    return Tag(
        name=entry["name"],
        digest=entry["digest"],
        platforms=frozenset(entry["platforms"]),
        size=entry["size"],
        last_updated=datetime.fromisoformat(pushed) if pushed else None,
        described=entry["described"],
    )
