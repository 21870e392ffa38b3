"""The lookup stage: one lookup per unique image, from the cache when it can, concurrently but
never faster than the source's rate limit. One image failing never stops the others; a
rejected key stops them all. For sources that list names only, `describe_tags` then fetches
the details of just the tags a decision needs.

What the first answers lack is filled here too: `fill_from_history` (the tag index, and
Docker Hub for what the tags API's newest 100 hide) and `tags_to_describe` (registries that
list names only).
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TypeVar

from tagbot.config import Config, Settings
from tagbot.errors import AuthError, BadResponse, NotFound, SourceError, SourceUnavailable
from tagbot.policy import judge_name
from tagbot.refs import ImageRef
from tagbot.sources import DescribingSource, Source
from tagbot.sources.cache import TagCache
from tagbot.sources.http import Calls
from tagbot.sources.fill import Filled, fill
from tagbot.sources.hub import DockerHub
from tagbot.sources.index import TagIndex
from tagbot.sources.model import Tag, TagList, checked
from tagbot.versioning import newer_than, parse_tag

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total)
Answer = TagList | SourceError
Key = TypeVar("Key", bound=Hashable)
Job = TypeVar("Job")
Out = TypeVar("Out")


@dataclass(frozen=True)
class Lookups:
    tags: dict[str, TagList]  # by normalised image name
    errors: dict[str, SourceError]
    uncovered: frozenset[str]  # images whose registry has lookups turned off
    # What the Docker Hub fill did: pages read per image, and why a reference's decision is
    # not settled, by (image, tag).
    hub_pages: dict[str, int] = field(default_factory=dict)
    unsettled: dict[tuple[str, str], str] = field(default_factory=dict)
    answered_by: dict[str, str] = field(default_factory=dict)  # which source answered, by image


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
    from_cache: set[str] = set()
    for image in covered:
        cached = cache.get(_key(sources[image.name], image), allow_stale=offline) if cache else None
        if cached is not None:
            log.debug("%s: from the cache", image.name)
            calls.count_cached()
            answers[image.name] = cached
            from_cache.add(image.name)
        elif offline:
            answers[image.name] = SourceUnavailable("not in the cache, and --offline forbids a lookup")
        else:
            to_fetch.append(image)

    def fetch(image: ImageRef) -> Answer:
        source = sources[image.name]
        try:
            answer: Answer = checked(_guarded(source.list_tags, image), source.cache_id)
        except AuthError:
            raise
        except SourceError as e:
            e.image = e.image or image.name
            answer = e
        if isinstance(answer, TagList):
            log.debug("%s: %d tags from %s%s", image.name, len(answer.tags), source.cache_id,
                      "" if answer.complete else " (not all)")
        else:
            log.debug("%s: %s failed: %s", image.name, source.cache_id, answer)
        if cache is not None and isinstance(answer, (TagList, NotFound)):
            cache.put(_key(source, image), answer)
        return answer

    counter = _Counter(len(covered) - len(to_fetch), len(covered), progress)
    answers.update(_concurrently({image.name: image for image in to_fetch}, fetch, workers, counter))
    return Lookups(
        tags={name: a for name, a in answers.items() if isinstance(a, TagList)},
        errors={name: a for name, a in answers.items() if isinstance(a, SourceError)},
        uncovered=frozenset(unique) - {image.name for image in covered},
        answered_by={name: "cache" if name in from_cache else sources[name].cache_id.split()[0] for name in answers},
    )


def describe_tags(
    wanted: Sequence[tuple[ImageRef, str]],
    *,
    source_for: Callable[[ImageRef], Source | None],
    calls: Calls,
    cache: TagCache | None = None,
    offline: bool = False,
    workers: int = 4,
) -> tuple[dict[tuple[str, str], Tag], dict[str, SourceError]]:
    """Details of the (image, tag) pairs asked for, from sources that describe tags one by one
    (cached like lists); the failures by image."""
    described: dict[tuple[str, str], Tag] = {}
    to_fetch: dict[tuple[str, str], tuple[ImageRef, str, DescribingSource]] = {}
    for image, tag in wanted:
        source = source_for(image)
        if not isinstance(source, DescribingSource):
            continue
        cached = cache.get(_key(source, image, tag), allow_stale=offline) if cache else None
        if isinstance(cached, TagList) and len(cached.tags) == 1:
            calls.count_cached()
            described[(image.name, tag)] = cached.tags[0]
        elif not offline:
            to_fetch[(image.name, tag)] = (image, tag, source)

    def fetch(job: tuple[ImageRef, str, DescribingSource]) -> Tag | SourceError:
        image, tag, source = job
        try:
            details = checked(TagList((_guarded(source.describe, image, tag),)), source.cache_id).tags[0]
        except AuthError:
            raise
        except SourceError as e:
            e.image = e.image or image.name
            return e
        if cache is not None:
            cache.put(_key(source, image, tag), TagList((details,)))
        return details

    errors: dict[str, SourceError] = {}
    for (name, tag), answer in _concurrently(to_fetch, fetch, workers, _Counter(0, len(to_fetch), None)).items():
        if isinstance(answer, SourceError):
            errors.setdefault(name, answer)
        else:
            described[(name, tag)] = answer
    return described, errors


def _guarded(ask: Callable[..., Out], *args: object) -> Out:
    """A source's answer; what it breaks on (a 5,000-digit number, JSON nested 100,000 deep)
    is that image's bad answer, not the end of the run."""
    try:
        return ask(*args)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as e:
        raise BadResponse(f"an answer tagbot cannot read ({type(e).__name__})") from e


def _concurrently(jobs: dict[Key, Job], work: Callable[[Job], Out], workers: int, counter: _Counter) -> dict[Key, Out]:
    """`work` on every job on a thread pool; the first AuthError is raised once all stopped."""
    stop = threading.Event()
    fatal: list[AuthError] = []

    def run(job: Job) -> Out | None:
        if stop.is_set():
            return None
        try:
            answer = work(job)
        except AuthError as e:
            fatal.append(e)
            stop.set()
            return None
        counter.step()
        return answer

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        answers = dict(zip(jobs, pool.map(run, jobs.values())))
    if fatal:
        raise fatal[0]
    return {key: answer for key, answer in answers.items() if answer is not None}


def _key(source: Source, image: ImageRef, tag: str | None = None) -> str:
    return f"{source.cache_id} {image.name}" + (f":{tag}" if tag else "")


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


# --- what to ask for beyond the first answer --------------------------------------------------

def fill_from_history(images: Sequence[ImageRef], lookups: Lookups, *, config: Config, index: TagIndex,
                      hub: DockerHub, may_fill: Callable[[ImageRef], bool], offline: bool, workers: int = 4) -> Lookups:
    """Every answer merged into the index; then, for Docker Hub images whose answer was only
    the newest tags, what their decisions need filled from Docker Hub (`sources.fill`), and the
    image's whole known history in place of the window. A tags-API "not found" is checked
    against Docker Hub before it is believed."""
    for name, window in lookups.tags.items():
        if lookups.answered_by.get(name, "cache") != "cache":  # a cached answer was recorded when it came
            index.record_window(name, window.tags, complete=window.complete, source=lookups.answered_by[name])
    tags, errors = dict(lookups.tags), dict(lookups.errors)
    wanted: dict[str, list[ImageRef]] = {}  # by image: its tags, filled one after another
    for image in _distinct(images):
        answer, error = lookups.tags.get(image.name), lookups.errors.get(image.name)
        if answer is None and not isinstance(error, NotFound):
            continue
        if (answer is not None and answer.complete) or not may_fill(image) or not config.settings_for(image).deep_search:
            continue
        wanted.setdefault(image.name, []).append(image)

    def fill_all(references: list[ImageRef]) -> list[tuple[ImageRef, Filled]]:
        return [(image, fill(image, hub=hub, index=index, offline=offline,
                             follow_suffix=config.settings_for(image).follow_suffix)) for image in references]

    pages: dict[str, int] = {}
    unsettled: dict[tuple[str, str], str] = {}
    # Images side by side (Docker Hub's limiter keeps the pace); one image's tags in order, as
    # the first one's fill often answers the next.
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for results in pool.map(fill_all, wanted.values()):
            for image, result in results:
                pages[image.name] = pages.get(image.name, 0) + result.pages
                if not result.settled:
                    unsettled[(image.name, image.effective_tag)] = result.why_not
    for name in wanted:
        history = index.tags(name, seen_since=index.opened_at)
        answered = lookups.tags[name].tags if name in lookups.tags else ()
        known = {t.name for t in history}
        # A cached window is not merged again; should the index have been rebuilt since, its
        # tags still count.
        missing = [t for t in answered if t.name not in known]
        if history or missing:
            tags[name] = TagList((*missing, *history) if missing else history, complete=True)
            errors.pop(name, None)
    return replace(lookups, tags=tags, errors=errors, hub_pages=pages, unsettled=unsettled)


def tags_to_describe(images: Sequence[ImageRef], lookups: Lookups, config: Config) -> list[tuple[ImageRef, str]]:
    """For lists of names only: the tags each reference's decision needs details of."""
    bare = {name for name, tag_list in lookups.tags.items() if not all(tag.described for tag in tag_list.tags)}
    wanted: dict[tuple[str, str], ImageRef] = {}
    for image in _distinct(images):
        if image.name not in bare:
            continue
        names = [tag.name for tag in lookups.tags[image.name].tags]
        for name in names_to_describe(image, names, config.settings_for(image)):
            wanted.setdefault((image.name, name), image)
    return [(image, name) for (_, name), image in wanted.items()]


def names_to_describe(image: ImageRef, names: Sequence[str], settings: Settings, limit: int = 5) -> list[str]:
    """The current tag and the newest `limit` candidates that pass every check of the name alone."""
    tag_name = image.effective_tag
    wanted = [tag_name] if tag_name in names else []
    current = parse_tag(tag_name)
    if current is None or not settings.enabled:
        return wanted
    passing = (v.tag for v in newer_than(current, names) if judge_name(current, settings, v) is None)
    return wanted + list(itertools.islice(passing, limit))


def with_details(lookups: Lookups, described: dict[tuple[str, str], Tag], errors: dict[str, SourceError]) -> Lookups:
    """The lists with each described tag in place of its bare name."""
    tags = {
        name: replace(tag_list, tags=tuple(described.get((name, tag.name), tag) for tag in tag_list.tags))
        for name, tag_list in lookups.tags.items()
    }
    return replace(lookups, tags=tags, errors={**lookups.errors, **errors})


def _distinct(images: Sequence[ImageRef]) -> list[ImageRef]:
    """One per image and tag: a monorepo names the same one in many files."""
    return list({(image.name, image.tag): image for image in images}.values())
