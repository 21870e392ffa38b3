from __future__ import annotations

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
