"""The lookup stage: one lookup per unique image, from the cache when it can, concurrently but
never faster than the source's rate limit. One image failing never stops the others; a
rejected key stops them all."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tagbot.errors import AuthError, NotFound, SourceError, SourceUnavailable
from tagbot.refs import ImageRef
from tagbot.sources import Source
from tagbot.sources.cache import TagCache
from tagbot.sources.http import Calls
from tagbot.sources.model import TagList

Progress = Callable[[int, int], None]  # (done, total)
Answer = TagList | SourceError


@dataclass(frozen=True)
class Lookups:
    tags: dict[str, TagList]  # by normalised image name
    errors: dict[str, SourceError]
    uncovered: frozenset[str]  # images no configured source can look up


def look_up(
    images: Iterable[ImageRef],
    *,
    source_for: Callable[[ImageRef], Source | None],
    calls: Calls,
    cache: TagCache | None = None,
    offline: bool = False,
    workers: int = 4,
    progress: Progress | None = None,
) -> Lookups:
    unique = {image.name: image for image in images}
    sources = {name: source for name, source in ((n, source_for(i)) for n, i in unique.items()) if source is not None}
    covered = [image for image in unique.values() if image.name in sources]
    answers: dict[str, Answer] = {}
    to_fetch = []
    for image in covered:
        cached = cache.get(_key(sources[image.name], image), allow_stale=offline) if cache else None
        if cached is not None:
            calls.count_cached()
            answers[image.name] = cached
        elif offline:
            answers[image.name] = SourceUnavailable("not in the cache, and --offline forbids a lookup")
        else:
            to_fetch.append(image)
    counter = _Counter(len(covered) - len(to_fetch), len(covered), progress)
    answers.update(_fetch_all(to_fetch, sources, cache, workers, counter))
    return Lookups(
        tags={name: a for name, a in answers.items() if isinstance(a, TagList)},
        errors={name: a for name, a in answers.items() if isinstance(a, SourceError)},
        uncovered=frozenset(unique) - {image.name for image in covered},
    )


def _fetch_all(
    images: list[ImageRef], sources: dict[str, Source], cache: TagCache | None, workers: int, counter: _Counter
) -> dict[str, Answer]:
    """Each image's answer; the first AuthError is raised once every worker has stopped."""
    stop = threading.Event()
    fatal: list[AuthError] = []

    def fetch(image: ImageRef) -> Answer | None:
        if stop.is_set():
            return None
        source = sources[image.name]
        try:
            answer: Answer = source.list_tags(image)
        except AuthError as e:
            fatal.append(e)
            stop.set()
            return None
        except SourceError as e:
            answer = e
        if cache is not None and isinstance(answer, (TagList, NotFound)):
            cache.put(_key(source, image), answer)
        counter.step()
        return answer

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        answers = dict(zip((image.name for image in images), pool.map(fetch, images)))
    if fatal:
        raise fatal[0]
    return {name: answer for name, answer in answers.items() if answer is not None}


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
