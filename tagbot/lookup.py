"""The lookup stage: one lookup per unique image, from the cache when it can, concurrently but
never faster than the source's rate limit. One image failing never stops the others; a
rejected key stops them all."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tagbot.errors import AuthError, NotFound, SourceError, SourceUnavailable
from tagbot.refs import ImageRef
from tagbot.sources import Source
from tagbot.sources.cache import TagCache
from tagbot.sources.http import Calls
from tagbot.sources.model import TagList

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class Lookups:
    tags: dict[str, TagList] = field(default_factory=dict)  # by normalised image name
    errors: dict[str, SourceError] = field(default_factory=dict)
    uncovered: frozenset[str] = frozenset()  # images no configured source can look up


def look_up(
    images: Iterable[ImageRef],
    *,
    source: Source,
    calls: Calls,
    cache: TagCache | None = None,
    offline: bool = False,
    workers: int = 4,
    progress: Progress | None = None,
) -> Lookups:
    unique = {image.name: image for image in images}
    result = Lookups(uncovered=frozenset(name for name, image in unique.items() if not source.covers(image)))
    wanted = [image for name, image in unique.items() if name not in result.uncovered]
    to_fetch = []
    for image in wanted:
        cached = cache.get(_key(source, image), allow_stale=offline) if cache else None
        if isinstance(cached, NotFound):
            result.errors[image.name] = cached
            calls.count_cached()
        elif cached is not None:
            result.tags[image.name] = cached
            calls.count_cached()
        elif offline:
            result.errors[image.name] = SourceUnavailable("not in the cache, and --offline forbids a lookup")
        else:
            to_fetch.append(image)
    _fetch_all(to_fetch, source, cache, result, workers, _Counter(len(wanted) - len(to_fetch), len(wanted), progress))
    return result


def _fetch_all(
    images: list[ImageRef], source: Source, cache: TagCache | None, result: Lookups, workers: int, counter: _Counter
) -> None:
    stop = threading.Event()
    fatal: list[AuthError] = []

    def fetch(image: ImageRef) -> None:
        if stop.is_set():
            return
        try:
            tags = source.list_tags(image)
        except AuthError as e:
            fatal.append(e)
            stop.set()
            return
        except NotFound as e:
            result.errors[image.name] = e
            if cache is not None:
                cache.put(_key(source, image), e)
        except SourceError as e:
            result.errors[image.name] = e
        else:
            result.tags[image.name] = tags
            if cache is not None:
                cache.put(_key(source, image), tags)
        counter.step()

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(fetch, images))
    if fatal:
        raise fatal[0]


def _key(source: Source, image: ImageRef) -> str:
    return f"{source.cache_id} {image.name}"


class _Counter:
    def __init__(self, done: int, total: int, progress: Progress | None) -> None:
        self.done, self.total, self._progress = done, total, progress
        self._lock = threading.Lock()
        if progress:
            progress(done, total)

    def step(self) -> None:
        with self._lock:
            self.done += 1
            if self._progress:
                self._progress(self.done, self.total)
