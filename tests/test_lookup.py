from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tagbot.errors import AuthError, NotFound, SourceUnavailable
from tagbot.lookup import look_up
from tagbot.refs import parse_ref
from tagbot.sources.store import Store
from tests.fakeapi import FakeTagsAPI
from tests.helpers import FakeClock, paced, tags_source

def memory() -> Store:
    return Store(Path(":memory:"))


def only(source):
    return lambda image: source if source.covers(image) else None


IMAGES = [parse_ref(t) for t in ("nginx:1.27", "library/nginx:1.26", "docker.io/library/nginx", "redis:7", "acme/tiny:1.1.0")]


def test_one_call_per_unique_image(tags_api: FakeTagsAPI):
    source, calls = tags_source(tags_api.url)
    result = look_up(IMAGES, source_for=only(source), calls=calls, store=memory())
    assert sorted(tags_api.calls) == [
        "/v1/tags?name=acme/tiny&limit=100", "/v1/tags?name=nginx&limit=100", "/v1/tags?name=redis&limit=100",
    ]
    assert set(result.tags) == {"docker.io/library/nginx", "docker.io/library/redis", "docker.io/acme/tiny"}
    assert (calls.network, calls.cached) == (3, 0)


def test_a_cached_rerun_makes_no_call(tags_api: FakeTagsAPI, tmp_path: Path):
    store = Store(tmp_path / "store.sqlite3")
    source, calls = tags_source(tags_api.url)
    first = look_up(IMAGES, source_for=only(source), calls=calls, store=store)
    source, calls = tags_source(tags_api.url)
    second = look_up(IMAGES, source_for=only(source), calls=calls, store=store)
    assert second.tags == first.tags
    assert (calls.network, calls.cached) == (0, 3)
    assert len(tags_api.calls) == 3


def test_not_found_is_cached(tags_api: FakeTagsAPI, tmp_path: Path):
    store = Store(tmp_path / "store.sqlite3")
    for _ in range(2):
        source, calls = tags_source(tags_api.url)
        result = look_up([parse_ref("acme/gone:1")], source_for=only(source), calls=calls, store=store)
        assert isinstance(result.errors["docker.io/acme/gone"], NotFound)
    assert len(tags_api.calls) == 1


def test_offline_uses_only_the_cache_and_says_what_is_missing(tags_api: FakeTagsAPI, tmp_path: Path):
    store = Store(tmp_path / "store.sqlite3")
    source, calls = tags_source(tags_api.url)
    look_up([parse_ref("redis")], source_for=only(source), calls=calls, store=store)
    source, calls = tags_source(tags_api.url)
    result = look_up([parse_ref("redis"), parse_ref("nginx")], source_for=only(source), calls=calls, store=store, ttl=timedelta(0), offline=True)
    assert "docker.io/library/redis" in result.tags  # stale, but offline takes it
    assert str(result.errors["docker.io/library/nginx"]) == "not in the cache, and --offline forbids a lookup"
    assert isinstance(result.errors["docker.io/library/nginx"], SourceUnavailable)
    assert len(tags_api.calls) == 1


def test_one_failing_image_never_stops_the_others(tags_api: FakeTagsAPI):
    tags_api.script["redis"] = ["500"] * 4
    source, calls = tags_source(tags_api.url)
    result = look_up(IMAGES, source_for=only(source), calls=calls, store=memory())
    assert "server error 500" in str(result.errors["docker.io/library/redis"])
    assert set(result.tags) == {"docker.io/library/nginx", "docker.io/acme/tiny"}


def test_a_rejected_key_stops_the_run(tags_api: FakeTagsAPI):
    source, calls = tags_source(tags_api.url, key="wrong")
    images = [parse_ref(f"acme/image{i}") for i in range(20)]
    with pytest.raises(AuthError):
        look_up(images, source_for=only(source), calls=calls, store=memory(), workers=2)
    assert len(tags_api.calls) < 20  # the rest were never asked


def test_images_no_source_covers_are_set_aside(tags_api: FakeTagsAPI):
    source, calls = tags_source(tags_api.url)
    result = look_up([parse_ref("ghcr.io/org/app:1"), parse_ref("redis")], source_for=only(source), calls=calls, store=memory())
    assert result.uncovered == {"ghcr.io/org/app"}
    assert tags_api.calls == ["/v1/tags?name=redis&limit=100"]


def test_concurrent_lookups_never_exceed_the_rate(tags_api: FakeTagsAPI):
    tags_api.latency = 0.05
    clock = FakeClock()
    source, calls = tags_source(tags_api.url, rate=5, clock=clock)
    images = [parse_ref(f"acme/image{i}") for i in range(12)]
    look_up(images, source_for=only(source), calls=calls, store=memory(), workers=8)
    assert len(tags_api.calls) == 12
    assert sorted(clock.slept) == paced(12, rate=5)  # each request waits its turn at 5/s
    assert tags_api.most_in_flight > 1  # and the lookups run side by side, not one after another


def test_progress_is_reported(tags_api: FakeTagsAPI):
    seen: list[tuple[int, int]] = []
    source, calls = tags_source(tags_api.url)
    look_up(IMAGES, source_for=only(source), calls=calls, store=memory(), workers=1, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]
