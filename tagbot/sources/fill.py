"""Filling what the tags API's newest-100 window hides, from Docker Hub's own API, until the
store knows every tag of the current tag's variant: a decision never depends on how the tags
were learned.

Newer versions are not always pushed later: Java 19 ended while 17, a long-term release, was
still rebuilt, and node 19 while 18 was. So nothing short of the whole history of the variant
(`name=-jdk`, or every tag for `22.11.0`) settles a decision. What that takes is read once: the
store keeps every tag and the spans of push times it knows completely, and a walk that stops
at `max_tag_pages` (or a deadline, or a quota) resumes there on the next run; later runs only
read what was pushed since, which the tags API's window usually answers for free.

The walk is newest first (`ordering=last_updated`), not by name, for how Docker Hub behaves
while tags are pushed: a push moves a tag to the top, so entries below only shift down and a
page read after it repeats one, never skips one. What moved up was pushed after the walk
began, and the next window or walk from the top sees it. A name-ordered walk has no such
shelter (a new name anywhere shifts the rest), and says nothing about what was pushed since.
A resumed walk starts at the page holding the first entry below what is known (entries are
counted from the store, so no page is read twice); should the end of a walk find fewer tags
than Docker Hub counts (tags deleted above it moved the rest up), it starts over.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from tagbot.errors import NotFound, SourceError
from tagbot.refs import ImageRef
from tagbot.sources.hub import HUB, PAGE_SIZE, DockerHub, Page
from tagbot.sources.store import ALL_TIME, Span, Store
from tagbot.versioning import Version, parse_tag

_FAMILY = re.compile(r"[A-Za-z]+")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Filled:
    pages: int  # Docker Hub requests this decision cost
    settled: bool  # every tag the decision needs is known
    why_not: str = ""
    not_found: bool = False  # Docker Hub does not know the image either


def fill(image: ImageRef, *, hub: DockerHub, store: Store, follow_suffix: bool = False, offline: bool = False,
         clock: Callable[[], float] = time.time, pages_left: int | None = None) -> Filled:
    """Make the store know what `image`'s decision needs, as far as `pages_left` (this run's
    pages for the image, `max_tag_pages` when None) go; how many pages that took. Offline,
    only the store is consulted."""
    tag, pages = image.effective_tag, 0
    limit = hub.max_pages if pages_left is None else pages_left
    name_filter = ""
    try:
        if store.get(image.name, tag) is None and not offline and limit > 0:
            pages += _find(image, tag, hub=hub, store=store, limit=limit)
        if store.get(image.name, tag) is None:
            if limit <= 0 and not offline:
                return Filled(pages, False, f"{tag} not asked for yet: the image's other tags took this run's "
                                            "max_tag_pages; resumes next run")
            return Filled(pages, False, f"{tag} is not known" + ("" if offline else " to Docker Hub either"))
        version = parse_tag(tag)
        if version is None:
            return Filled(pages, True)  # a floating tag: only its own digest matters
        name_filter = suffix_filter(version, follow_suffix=follow_suffix)
        if store.coverage(image.name, name_filter).complete:
            return Filled(pages, True)
        if offline:
            return Filled(pages, False, f"offline: {_progress(store, image, name_filter)}")
        pages += walk(image, name_filter, hub=hub, store=store, clock=clock, limit=limit - pages)
    except NotFound as e:
        return Filled(pages, False, f"Docker Hub does not know it either ({e})", not_found=True)
    except SourceError as e:
        return Filled(pages, False, f"Docker Hub could not be asked ({e}): {_progress(store, image, name_filter)}")
    if store.coverage(image.name, name_filter).complete:
        return Filled(pages, True)
    return Filled(pages, False, _progress(store, image, name_filter))


def walk(image: ImageRef, name_filter: str, *, hub: DockerHub, store: Store,
         clock: Callable[[], float] = time.time, limit: int | None = None) -> int:
    """Read Docker Hub's pages of `name_filter` newest first, below what the store knows, for at
    most `limit` (`max_tag_pages`) pages; every page's span is kept as it comes, so a walk cut
    short resumes where it stopped. The pages read."""
    limit = hub.max_pages if limit is None else limit
    pages = 0
    while pages < limit:
        known = store.coverage(image.name, name_filter)
        if known.complete:
            break
        newest = known.newest
        # Every tag pushed since `newest.since` is known, and the list is newest first: the next
        # unknown entry is the one after them.
        above = store.count_since(image.name, name_filter, newest.since) if newest else 0
        asked, high = clock(), None
        for page in hub.pages(image, name=name_filter, start=above // PAGE_SIZE + 1, limit=limit - pages):
            pages += 1
            store.merge(image.name, page.tags, source=HUB)
            if high is None:  # the walk's first page: its top is where the known span ends (or now)
                high = asked if page.number == 1 or newest is None else newest.since
            low = ALL_TIME if page.last else page.oldest if page.oldest is not None else high
            joined = store.cover(image.name, name_filter, Span(low, high), total=page.total)
            if page.last:
                pages += _check_count(image, name_filter, page, hub=hub, store=store)
                break
            if joined.newest is not None and joined.newest.since < low:
                break  # joined an older span: count again from below it
        else:
            break  # the page cap
    return pages


def _check_count(image: ImageRef, name_filter: str, last: Page, *, hub: DockerHub, store: Store) -> int:
    """At the end of a walk, fewer tags known than Docker Hub counts means some were pushed
    while it went on (the first page has them), or entries were skipped (tags deleted above the
    walk moved the rest up): then the walk starts over. The pages this read."""
    honoured = last.listed == len(last.tags)  # a server that ignores the filter counts every tag
    if not honoured or last.total is None or store.count(image.name, name_filter) >= last.total:
        return 0
    store.merge(image.name, next(hub.pages(image, name=name_filter, limit=1)).tags, source=HUB)
    if store.count(image.name, name_filter) < last.total:
        log.debug("%s: %d %s tags known of %d counted; walking again", image.name,
                  store.count(image.name, name_filter), name_filter, last.total)
        store.forget_coverage(image.name, name_filter)
    return 1


def _find(image: ImageRef, tag: str, *, hub: DockerHub, store: Store, limit: int) -> int:
    """The current tag by its name (Docker Hub's filter holds every name containing it)."""
    pages = 0
    for page in hub.pages(image, name=tag, limit=limit):
        pages += 1
        store.merge(image.name, page.tags, source=HUB)
        if page.last or any(t.name == tag for t in page.tags):
            break
    return pages


def _progress(store: Store, image: ImageRef, name_filter: str) -> str:
    """`640 of 1,063 -jdk tags known; resumes next run`."""
    known, total = store.count(image.name, name_filter), store.coverage(image.name, name_filter).total
    which = f"{name_filter} tags" if name_filter else "tags"
    counted = f"{known:,} of {total:,}" if total is not None and total >= known else f"{known:,}"
    return f"{counted} {which} known; resumes next run"


def suffix_filter(version: Version, *, follow_suffix: bool = False) -> str:
    """Docker Hub's `name=` filter that keeps the current tag's variant: `-alpine3.18` for
    `20.10.0-alpine3.18`, `-alpine` with follow_suffix (any alpine version), "" (every tag)
    for `1.27`."""
    if not version.suffix:
        return ""
    if not follow_suffix:
        return f"-{version.suffix}"
    family = _FAMILY.search(version.suffix)
    return f"-{family.group()}" if family else ""
