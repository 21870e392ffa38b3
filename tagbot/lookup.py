"""Knowing tags: `know_tags` is the one call the job makes, "tags for these images, complete
enough for these references". Read top to bottom, it is:

1. `look_up`: one answer per unique image, from the store while within `cache_ttl`, else from
   the image's source (concurrently, never faster than the source's pace; under `monthly_calls`
   only the images likeliest to have moved, the rest decided from what the store knows).
2. `fill_from_history`: for Docker Hub images whose answer was only the newest tags, whatever
   their decisions need from the store's history and Docker Hub (`sources.fill`).
3. `describe_tags`: for registries that list names only, the details of the tags decisions need.

One image failing never stops the others; a rejected key stops them all. Every answer goes
into the store as it comes, and everything read back from the store passes its checks.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TypeVar

from tagbot.config import Config, Settings
from tagbot.errors import AuthError, BadResponse, Deferred, NotFound, SourceError, SourceUnavailable
from tagbot.lines import shipped
from tagbot.policy import judge_name
from tagbot.refs import ImageRef
from tagbot.sources import DescribingSource, Source
from tagbot.model import Monthly
from tagbot.sources.budget import month_of, most_likely_moved, this_months_share
from tagbot.sources.fill import Filled, fill
from tagbot.sources.http import Calls
from tagbot.sources.hub import HUB, DockerHub
from tagbot.sources.select import SourceSet
from tagbot.sources.store import Answer, Store
from tagbot.sources.tagsapi import ACTIVE, TAGSAPI, TagsAPI
from tagbot.sources.model import ImageFacts, Tag, TagList, checked
from tagbot.versioning import newer_than, parse_tag

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total)
# From the lookups so far: the (image, tag) pairs listed by name only whose details the
# decisions wait on, best first.
Needs = Callable[["Lookups"], Iterable[tuple[ImageRef, str]]]
# Rounds of describing: each one reads, for every decision still open, the next tag it waits
# on; a decision refusing this many candidates in a row for their details settles on what it saw.
DESCRIBE_ROUNDS = 8
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
    answered_by: dict[str, str] = field(default_factory=dict)  # whose answer it is (fresh or kept), by image
    # Images decided from an answer older than cache_ttl (the monthly budget), with its time.
    stale: dict[str, float] = field(default_factory=dict)
    deprecated: dict[str, str] = field(default_factory=dict)  # image -> what its source says of it
    monthly: Monthly | None = None


def know_tags(images: Sequence[ImageRef], *, sources: SourceSet, store: Store, config: Config, calls: Calls,
              now: datetime, offline: bool = False, spend: bool = True, workers: int = 4,
              progress: Progress | None = None, urgent: frozenset[str] = frozenset(),
              needs: Needs | None = None) -> Lookups:
    """Tags for these images, complete enough for these references' decisions (`needs` says,
    from what is known so far, which tags listed by name only they must see described; without
    it, each image's current tag and its newest candidates). With `monthly_calls`, what this run
    may spend of the month's calls (nothing unless `spend`), `urgent` images (open pull
    requests') first."""
    limit = config.run.monthly_calls
    monthly = this_months_share(store, limit, now, spend=spend and not offline) if limit else None
    before = calls.by_source.get(TAGSAPI, 0)
    lookups = look_up(images, source_for=sources.for_image, calls=calls, store=store, ttl=config.run.cache_ttl,
                      offline=offline, workers=workers, progress=progress,
                      share=None if monthly is None else monthly.share, now=now, urgent=urgent)
    lookups = fill_from_history(images, lookups, config=config, store=store, hub=sources.hub,
                                may_fill=sources.hub_fills, offline=offline, workers=workers)
    described, errors = describe_as_needed(images, lookups, needs, config=config, sources=sources, calls=calls,
                                           store=store, today=now.date(), offline=offline, workers=workers)
    # Under a monthly budget the month's calls go to tags: what /v1/image said is read from the store.
    answered = [image for image in images if image.name in lookups.tags]
    deprecated = deprecated_images(answered, source_for=sources.for_image, store=store,
                                   offline=offline or not spend or monthly is not None, workers=workers)
    spent = calls.by_source.get(TAGSAPI, 0) - before
    if not offline:  # a hook's calls count, but it is no run of the schedule the shares assume
        store.spend(month_of(now), calls=spent, runs=1 if spend else 0)
    if monthly is not None:
        monthly = replace(monthly, this_run=spent)
    return replace(with_details(lookups, described, errors), monthly=monthly, deprecated=deprecated)


# What /v1/image says of an image, asked once a week: images are deprecated over months, and
# a daily ask would spend a sixth of the smallest plan's month on twenty images.
FACTS_TTL = 7 * 86_400.0
UNKNOWN_FACTS = ImageFacts("unknown", deprecated=False)


def deprecated_images(images: Sequence[ImageRef], *, source_for: Callable[[ImageRef], Source | None], store: Store,
                      offline: bool, workers: int = 4) -> dict[str, str]:
    """The images the tags API marks deprecated, and what it says (in tagbot's words). Asked
    once a week per image, and not for official images (their deprecations are shipped, from
    docker-library's own notices); `offline`, from the store only. A failed ask is no error:
    the fact waits for the next run."""
    known: dict[str, ImageFacts] = {}
    to_ask: dict[str, tuple[ImageRef, TagsAPI]] = {}
    for image in {image.name: image for image in images}.values():
        source = source_for(image)
        if not isinstance(source, TagsAPI) or image.repository.startswith("library/"):
            continue
        kept = store.facts(image.name)
        if kept is not None and (offline or store.now() - kept[1] < FACTS_TTL):
            known[image.name] = kept[0]
        elif not offline:
            to_ask[image.name] = (image, source)

    def ask(job: tuple[ImageRef, TagsAPI]) -> ImageFacts | None:
        image, source = job
        try:
            facts = _guarded(source.image_facts, image)
        except AuthError:
            raise
        except (NotFound, BadResponse) as e:
            # Kept for a week too: an image with no page (or one not read) is not asked each run.
            log.info("%s: /v1/image: %s", image.name, e)
            facts = UNKNOWN_FACTS
        except SourceError as e:
            log.info("%s: /v1/image not read: %s", image.name, e)
            return None
        store.keep_facts(image.name, facts)
        return facts

    asked: dict[str, ImageFacts | None] = _concurrently(to_ask, ask, workers, _Counter(0, len(to_ask), None))
    known.update({name: facts for name, facts in asked.items() if facts is not None})
    return {name: _deprecation_text(facts) for name, facts in known.items() if facts.deprecated}


def _deprecation_text(facts: ImageFacts) -> str:
    if facts.status not in (ACTIVE, UNKNOWN_FACTS.status):
        return f"Docker Hub lists it as {facts.status}"
    return "its Docker Hub description says it is deprecated"


def look_up(
    images: Iterable[ImageRef],
    *,
    source_for: Callable[[ImageRef], Source | None],
    calls: Calls,
    store: Store,
    ttl: timedelta = timedelta(hours=1),
    offline: bool = False,
    workers: int = 4,
    progress: Progress | None = None,
    share: int | None = None,
    now: datetime | None = None,
    urgent: frozenset[str] = frozenset(),
) -> Lookups:
    """One answer per unique image: the store's while within `ttl` (offline, however old); else
    its source's. With a `share` of the tags API's calls, only that many images it answers are
    asked, the likeliest to have moved first; the rest take the store's older answer."""
    unique = {image.name: image for image in images}
    sources = {name: source for name, source in ((n, source_for(i)) for n, i in unique.items()) if source is not None}
    covered = [image for image in unique.values() if image.name in sources]
    answers: dict[str, TagList | SourceError] = {}
    kept: dict[str, Answer] = {}  # older than `ttl`: what the monthly budget may decide from
    stale: dict[str, float] = {}
    to_fetch = []
    for image in covered:
        answer = store.answer(sources[image.name].cache_id, image.name)
        if answer is not None and (offline or _fresh(answer, ttl, store)):
            log.debug("%s: from the store", image.name)
            calls.count_cached()
            answers[image.name] = answer.tags
        elif offline:
            answers[image.name] = SourceUnavailable("not in the cache, and --offline forbids a lookup")
        else:
            to_fetch.append(image)
            if answer is not None:
                kept[image.name] = answer
    if share is not None:
        to_fetch = _within_share(to_fetch, share, sources, kept, answers, stale, store, now, urgent)

    def fetch(image: ImageRef) -> TagList | SourceError:
        source = sources[image.name]
        try:
            answer: TagList | SourceError = checked(_guarded(source.list_tags, image), source.cache_id)
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
        if isinstance(answer, (TagList, NotFound)):
            store.keep_answer(source.cache_id, image.name, answer, label=_label(source))
        return answer

    counter = _Counter(len(covered) - len(to_fetch), len(covered), progress)
    answers.update(_concurrently({image.name: image for image in to_fetch}, fetch, workers, counter))
    return Lookups(
        tags={name: a for name, a in answers.items() if isinstance(a, TagList)},
        errors={name: a for name, a in answers.items() if isinstance(a, SourceError)},
        uncovered=frozenset(unique) - {image.name for image in covered},
        answered_by={name: _label(sources[name]) for name in answers},
        stale=stale,
    )


def _within_share(to_fetch: list[ImageRef], share: int, sources: dict[str, Source], kept: dict[str, Answer],
                  answers: dict[str, TagList | SourceError], stale: dict[str, float], store: Store,
                  now: datetime | None, urgent: frozenset[str]) -> list[ImageRef]:
    """The images the tags API may be asked of this run, the likeliest to have moved first;
    the others are answered from the store, however old (and said to be), or not at all."""
    budgeted = [image for image in to_fetch if _label(sources[image.name]) == TAGSAPI]
    if len(budgeted) <= share:
        return to_fetch
    order = most_likely_moved([image.name for image in budgeted], store, now or datetime.now().astimezone(), urgent)
    asked = set(order[:share])
    for name in order[share:]:
        if name in kept:
            answers[name] = kept[name].tags
            stale[name] = kept[name].at
        else:
            answers[name] = Deferred("not looked up this run, and not known yet: the month's calls (monthly_calls) "
                                     "went to images likelier to have moved", shared=True)
    return [image for image in to_fetch if _label(sources[image.name]) != TAGSAPI or image.name in asked]


def _fresh(answer: Answer, ttl: timedelta, store: Store) -> bool:
    return store.now() - answer.at <= ttl.total_seconds()


def _label(source: Source) -> str:
    return source.cache_id.split()[0]


def describe_as_needed(images: Sequence[ImageRef], lookups: Lookups, needs: Needs | None, *, config: Config,
                       sources: SourceSet, calls: Calls, store: Store, today: date, offline: bool,
                       workers: int) -> tuple[dict[tuple[str, str], Tag], dict[str, SourceError]]:
    """The details of the tags the decisions need, read best candidate first: each round reads,
    for every decision still open, only the next tag its answer hangs on, so a decision whose
    best candidate qualifies costs one manifest. Without `needs`: the current tag and the
    newest candidates of each image, in one round."""
    described: dict[tuple[str, str], Tag] = {}
    errors: dict[str, SourceError] = {}
    asked: set[tuple[str, str]] = set()  # offline, the store may not know one: it is not asked twice
    wanted = tags_to_describe(images, lookups, config, today) if needs is None else list(needs(lookups))
    for _ in range(DESCRIBE_ROUNDS):
        wanted = [(image, tag) for image, tag in wanted if (image.name, tag) not in asked and image.name not in errors]
        if not wanted:
            break
        asked.update((image.name, tag) for image, tag in wanted)
        more, failed = describe_tags(wanted, source_for=sources.for_image, calls=calls, store=store,
                                     ttl=config.run.cache_ttl, offline=offline, workers=workers)
        described.update(more)
        errors.update(failed)
        if needs is None:
            break
        wanted = list(needs(with_details(lookups, described, errors)))
    return described, errors


def describe_tags(
    wanted: Sequence[tuple[ImageRef, str]],
    *,
    source_for: Callable[[ImageRef], Source | None],
    calls: Calls,
    store: Store,
    ttl: timedelta = timedelta(hours=1),
    offline: bool = False,
    workers: int = 4,
) -> tuple[dict[tuple[str, str], Tag], dict[str, SourceError]]:
    """Details of the (image, tag) pairs asked for, from sources that describe tags one by one
    (kept like lists); the failures by image."""
    described: dict[tuple[str, str], Tag] = {}
    to_fetch: dict[tuple[str, str], tuple[ImageRef, str, DescribingSource]] = {}
    stale: set[tuple[str, str]] = set()  # described before, longer ago than `ttl`
    for image, tag in wanted:
        source = source_for(image)
        if not isinstance(source, DescribingSource):
            continue
        kept = store.answer(source.cache_id, image.name, tag)
        if kept is not None and isinstance(kept.tags, TagList) and (offline or _fresh(kept, ttl, store)):
            calls.count_cached()
            described[(image.name, tag)] = kept.tags.tags[0]
        elif not offline:
            to_fetch[(image.name, tag)] = (image, tag, source)
            if kept is not None and isinstance(kept.tags, TagList):
                stale.add((image.name, tag))

    def unmoved(image: ImageRef, tag: str, source: DescribingSource) -> Tag | None:
        """A tag described before, asked only whether it moved (a HEAD): on the manifest it had,
        or on one the store knows under another tag (an alias), nothing more is read."""
        try:
            digest = _guarded(source.digest_of, image, tag)
        except (AuthError, NotFound):
            raise
        except SourceError:  # a registry that will not answer a HEAD: a GET still may
            return None
        known = store.described_as(image.name, digest) if digest is not None else None
        return replace(known, name=tag, known_from=None) if known is not None else None

    def fetch(job: tuple[ImageRef, str, DescribingSource]) -> Tag | SourceError:
        image, tag, source = job
        try:
            details = (unmoved(image, tag, source) if (image.name, tag) in stale else None) or checked(
                TagList((_guarded(source.describe, image, tag),)), source.cache_id).tags[0]
        except AuthError:
            raise
        except SourceError as e:
            e.image = e.image or image.name
            return e
        if details.name != tag:
            return BadResponse(f"{source.cache_id.split()[0]} described {tag} as another tag")
        store.keep_answer(source.cache_id, image.name, TagList((details,)), tag=tag, label=_label(source))
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

def fill_from_history(images: Sequence[ImageRef], lookups: Lookups, *, config: Config, store: Store,
                      hub: DockerHub, may_fill: Callable[[ImageRef], bool], offline: bool, workers: int = 4) -> Lookups:
    """For Docker Hub images whose answer was only the newest tags, what their decisions need,
    from the store and Docker Hub (`sources.fill`), and the image's whole known history in
    place of the window. A tags-API "not found" is checked against Docker Hub before it is
    believed (and Docker Hub's "not found" kept, like any answer)."""
    tags, errors = dict(lookups.tags), dict(lookups.errors)
    ttl = config.run.cache_ttl
    wanted: dict[str, list[ImageRef]] = {}  # by image: its tags, filled one after another
    for image in _distinct(images):
        answer, error = lookups.tags.get(image.name), lookups.errors.get(image.name)
        if answer is None and (not isinstance(error, NotFound) or lookups.answered_by.get(image.name) == HUB
                               or _known_missing(store, hub, image, ttl)):
            continue  # failed, or Docker Hub said "not found" too
        if (answer is not None and answer.complete) or not may_fill(image) or not config.settings_for(image).deep_search:
            continue
        wanted.setdefault(image.name, []).append(image)

    def fill_all(references: list[ImageRef]) -> list[tuple[ImageRef, Filled]]:
        """One image's references in order, as the first one's fill often answers the next,
        sharing the image's `max_tag_pages` for the run."""
        results: list[tuple[ImageRef, Filled]] = []
        left = hub.max_pages
        for image in references:
            if results and results[-1][1].not_found:  # the image is not there, whatever the tag
                results.append((image, replace(results[-1][1], pages=0)))
                continue
            result = fill(image, hub=hub, store=store, offline=offline, clock=store.now, pages_left=left,
                          follow_suffix=config.settings_for(image).follow_suffix)
            left -= result.pages
            results.append((image, result))
        if any(result.not_found for _, result in results):
            store.keep_answer(hub.cache_id, references[0].name, NotFound(f"{references[0].repository}: not on Docker Hub"),
                              label=HUB)
        # A later reference's walk may have finished an earlier one's variant: ask the store again.
        return [(image, result if result.settled or result.not_found else _again(image, result)) for image, result in results]

    def _again(image: ImageRef, result: Filled) -> Filled:
        known = fill(image, hub=hub, store=store, offline=True, follow_suffix=config.settings_for(image).follow_suffix)
        return replace(result, settled=known.settled, why_not=result.why_not if not known.settled else "")

    pages: dict[str, int] = {}
    unsettled: dict[tuple[str, str], str] = {}
    # Images side by side (Docker Hub's limiter keeps the pace).
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for results in pool.map(fill_all, wanted.values()):
            for image, result in results:
                pages[image.name] = pages.get(image.name, 0) + result.pages
                if not result.settled:
                    unsettled[(image.name, image.effective_tag)] = result.why_not
    for name in wanted:
        history = store.tags(name, seen_since=store.opened_at)
        answered = lookups.tags[name].tags if name in lookups.tags else ()
        known = {t.name for t in history}
        # Should the store have dropped the image since it answered, its answer still counts.
        missing = [t for t in answered if t.name not in known]
        if history or missing:
            tags[name] = TagList((*missing, *history) if missing else history, complete=True)
            errors.pop(name, None)
    return replace(lookups, tags=tags, errors=errors, hub_pages=pages, unsettled=unsettled)


def _known_missing(store: Store, hub: DockerHub, image: ImageRef, ttl: timedelta) -> bool:
    """Whether Docker Hub said, within `ttl`, that it does not know `image` either."""
    kept = store.answer(hub.cache_id, image.name)
    return kept is not None and isinstance(kept.tags, NotFound) and _fresh(kept, ttl, store)


def tags_to_describe(images: Sequence[ImageRef], lookups: Lookups, config: Config,
                     today: date) -> list[tuple[ImageRef, str]]:
    """For lists of names only: the tags each reference's decision needs details of."""
    bare = {name for name, tag_list in lookups.tags.items() if not all(tag.described for tag in tag_list.tags)}
    wanted: dict[tuple[str, str], ImageRef] = {}
    for image in _distinct(images):
        if image.name not in bare:
            continue
        names = [tag.name for tag in lookups.tags[image.name].tags]
        for name in names_to_describe(image, names, config.settings_for(image), today=today):
            wanted.setdefault((image.name, name), image)
    return [(image, name) for (_, name), image in wanted.items()]


def names_to_describe(image: ImageRef, names: Sequence[str], settings: Settings, limit: int = 5, *,
                      today: date) -> list[str]:
    """The current tag and the newest `limit` candidates that pass every check of the name
    alone (and of the image's release lines)."""
    tag_name = image.effective_tag
    wanted = [tag_name] if tag_name in names else []
    current = parse_tag(tag_name)
    if current is None or not settings.enabled:
        return wanted
    lines = shipped().for_image(image)
    passing = (v.tag for v in newer_than(current, names)
               if judge_name(current, settings, v, lines=lines, today=today) is None)
    return wanted + list(itertools.islice(passing, limit))


def with_details(lookups: Lookups, described: dict[tuple[str, str], Tag], errors: dict[str, SourceError]) -> Lookups:
    """The lists with each described tag in place of its bare name (only the lists that have
    one are built anew: this runs once a round of describing, beside lists of thousands)."""
    touched = {name for name, _ in described}
    tags = {
        name: replace(tag_list, tags=tuple(described.get((name, tag.name), tag) for tag in tag_list.tags))
        if name in touched else tag_list
        for name, tag_list in lookups.tags.items()
    }
    return replace(lookups, tags=tags, errors={**lookups.errors, **errors})


def _distinct(images: Sequence[ImageRef]) -> list[ImageRef]:
    """One per image and tag: a monorepo names the same one in many files."""
    return list({(image.name, image.tag): image for image in images}.values())
