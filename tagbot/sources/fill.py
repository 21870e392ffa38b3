"""Filling what the tags API's newest-100 window hides, from Docker Hub's own API, and no more.

A decision needs the current tag's details and every newer tag of its shape. The index may
know them already (a window that reaches back far enough, or an earlier fill); if not, Docker
Hub is asked: the current tag by its exact name, then the tags of its variant, newest first.

With a suffix that stays (`-jre-focal`), the filter `name=-jre-focal` is narrow, and is read to
its end: a newer version may have been pushed for the last time long before the current tag
(Java 19 ended while 17, a long-term release, was still rebuilt). Without a suffix, or when the
suffix may move on (`follow_suffix`: `name=-alpine`), the pages stop at the first one that
reaches back past the current tag's push: whatever is newer was pushed after it, as a rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tagbot.errors import SourceError
from tagbot.refs import ImageRef
from tagbot.sources.hub import HUB, DockerHub
from tagbot.sources.index import ALL_TIME, TagIndex
from tagbot.sources.model import Tag, TagList, checked
from tagbot.versioning import Version, parse_tag

_FAMILY = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class Filled:
    pages: int  # Docker Hub requests this decision cost
    settled: bool  # every tag the decision needs is known
    why_not: str = ""


def fill(image: ImageRef, *, hub: DockerHub, index: TagIndex, follow_suffix: bool = False,
         offline: bool = False) -> Filled:
    """Make the index know what `image`'s decision needs; how many pages that took. Offline,
    only the index is consulted."""
    tag, pages = image.effective_tag, 0
    try:
        if index.get(image.name, tag) is None and not offline:
            for page, last in hub.pages(image, name=tag):
                pages += 1
                index.merge(image.name, checked_tags(page), source=HUB)
                if last or any(t.name == tag for t in page):
                    break
        current = index.get(image.name, tag)
        if current is None:
            return Filled(pages, False, f"{tag} is not on Docker Hub either")
        version = parse_tag(tag)
        if version is None:
            return Filled(pages, True)  # a floating tag: only its own digest matters
        if current.last_updated is None:
            return Filled(pages, False, f"Docker Hub gives no push time for {tag}")
        name_filter = suffix_filter(version, follow_suffix=follow_suffix)
        pushed = current.last_updated.timestamp()
        # How far back the filtered tags must be known: all of them for a narrow filter (should
        # max_tag_pages not reach its end, back to the current tag's push, as for the others).
        wanted = pushed if name_filter == "" or follow_suffix else ALL_TIME
        since = index.known_since(image.name, name_filter)
        # An earlier fill that paged this filter as far as it could is as good as it gets.
        enough = pushed if name_filter and index.span(image.name, name_filter) is not None else wanted
        if since is not None and since <= enough:
            return Filled(pages, True)
        if offline:
            return Filled(pages, False, "offline: the index does not reach back to it, and Docker Hub was not asked")
        reached: float | None = None
        for page, last in hub.pages(image, name=name_filter):
            pages += 1
            index.merge(image.name, checked_tags(page), source=HUB)
            times = [t.last_updated.timestamp() for t in page if t.last_updated is not None]
            if last:
                reached = ALL_TIME
            elif times:
                reached = min(times) if reached is None else min(reached, *times)
            if reached is not None and reached <= wanted:
                break
    except SourceError as e:
        return Filled(pages, False, f"Docker Hub could not be asked: {e}")
    if reached is not None:
        index.record_fill(image.name, name_filter, reached)
    if reached is None or reached > pushed:
        return Filled(pages, False, f"Docker Hub's {pages} pages (max_tag_pages) do not reach back to {tag}")
    return Filled(pages, True)


def checked_tags(page: list[Tag]) -> list[Tag]:
    """A page's tags, each passing the reference grammar first: nothing unchecked enters the index."""
    return list(checked(TagList(tuple(page)), "Docker Hub").tags)


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
