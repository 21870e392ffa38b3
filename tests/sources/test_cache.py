from __future__ import annotations

import json
import sys

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tagbot.errors import NotFound
from tagbot.sources.cache import TagCache, default_cache_dir
from tagbot.sources.model import Tag, TagList

TAGS = TagList(
    (
        Tag("1.2", "sha256:" + "a" * 64, frozenset({"linux/amd64", "linux/arm64/v8"}), 123,
            datetime(2026, 8, 1, 12, 30, 15, 123456, tzinfo=timezone.utc)),
        Tag("latest"),
    ),
    complete=False,
)


class Clock:
    now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_round_trip_keeps_every_field(tmp_path: Path):
    cache = TagCache(tmp_path, timedelta(hours=1))
    cache.put("tagsapi x docker.io/library/nginx", TAGS)
    assert cache.get("tagsapi x docker.io/library/nginx") == TAGS
    assert cache.get("tagsapi x docker.io/library/redis") is None


def test_entries_expire_after_the_ttl_but_serve_offline(tmp_path: Path):
    clock = Clock()
    cache = TagCache(tmp_path, timedelta(hours=1), clock=clock)
    cache.put("k", TAGS)
    clock.now += 3599
    assert cache.get("k") == TAGS
    clock.now += 2
    assert cache.get("k") is None
    assert cache.get("k", allow_stale=True) == TAGS


def test_not_found_is_cached_too(tmp_path: Path):
    cache = TagCache(tmp_path, timedelta(hours=1))
    cache.put("k", NotFound("not found at api"))
    answer = cache.get("k")
    assert isinstance(answer, NotFound) and str(answer) == "not found at api (cached)"


def test_a_damaged_file_is_a_miss_and_is_replaced(tmp_path: Path):
    cache = TagCache(tmp_path, timedelta(hours=1))
    cache.put("k", TAGS)
    (entry,) = (tmp_path / "tags").iterdir()
    entry.write_text('{"format": 1, "key": "k", "tags": [{"nam')
    assert cache.get("k") is None
    cache.put("k", TAGS)
    assert cache.get("k") == TAGS
    assert [p.name for p in (tmp_path / "tags").iterdir()] == [entry.name]  # no temporary files left


def test_an_unwritable_cache_costs_calls_not_the_run(tmp_path: Path):
    (tmp_path / "tags").write_text("a file where the folder should be")
    cache = TagCache(tmp_path, timedelta(hours=1))
    cache.put("k", TAGS)
    assert cache.get("k") is None


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG rules are Linux's")
def test_default_dir_follows_xdg(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "tagbot"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "tagbot"


def _damaged(entry: dict, change: str) -> dict:
    """The entry with one field replaced by something a cache file should never hold."""
    tag = entry["tags"][0]
    if change == "name is a number":
        tag["name"] = 7
    elif change == "name is null":
        tag["name"] = None
    elif change == "name is not a tag":
        tag["name"] = "1.0 AS x\nRUN evil"
    elif change == "platforms are numbers":
        tag["platforms"] = [1, 2]
    elif change == "digest is upper case":
        tag["digest"] = "sha256:" + "A" * 64
    elif change == "size is text":
        tag["size"] = "big"
    elif change == "time has no zone":
        tag["last_updated"] = "2026-08-01T12:00:00"
    elif change == "tags is an object":
        entry["tags"] = {"a": 1}
    elif change == "stored_at is text":
        entry["stored_at"] = "yesterday"
    elif change == "stored_at is infinite":
        entry["stored_at"] = float("inf")
    return entry


@pytest.mark.parametrize(
    "change",
    ["name is a number", "name is null", "name is not a tag", "platforms are numbers", "digest is upper case",
     "size is text", "time has no zone", "tags is an object", "stored_at is text", "stored_at is infinite"],
)
def test_a_damaged_entry_of_any_shape_is_a_miss(tmp_path: Path, change: str):
    cache = TagCache(tmp_path, timedelta(hours=1))
    cache.put("k", TAGS)
    (path,) = (tmp_path / "tags").glob("*.json")
    path.write_text(json.dumps(_damaged(json.loads(path.read_text()), change)))
    assert cache.get("k") is None
    assert cache.get("k", allow_stale=True) is None


@pytest.mark.parametrize("text", ["[" * 100_000, "{}", "[]", "null", "\x00\xff", ""])
def test_a_file_that_is_not_an_entry_is_a_miss(tmp_path: Path, text: str):
    cache = TagCache(tmp_path, timedelta(hours=1))
    cache.put("k", TAGS)
    (path,) = (tmp_path / "tags").glob("*.json")
    path.write_text(text)
    assert cache.get("k") is None


def test_an_entry_from_the_future_has_expired(tmp_path: Path):
    clock = Clock()
    cache = TagCache(tmp_path, timedelta(hours=1), clock=clock)
    clock.now += 10 * 365 * 86400  # written by a machine whose clock was ten years ahead
    cache.put("k", TAGS)
    clock.now -= 10 * 365 * 86400
    assert cache.get("k") is None
    assert cache.get("k", allow_stale=True) is None  # not even offline: its age is unknowable
