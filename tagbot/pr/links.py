"""Where people learn what an update changes: the source repository an image declares (its
`org.opencontainers.image.source` label, read from the new tag's image config through the
registry), that repository's GitHub release notes for the new version, and a compare link.

Everything here is optional and untrusted: a label that is not a plain https URL is no link, a
registry or GitHub that does not answer leaves the pull request without links, never failed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from tagbot.errors import SourceError
from tagbot.model import PlannedUpdate
from tagbot.pr.github import Release
from tagbot.refs import ImageRef
from tagbot.sources.registry import Registry

NOTES_LIMIT = 1500  # characters of release notes shown; the link has the rest
_HTTPS_URL = re.compile(r"https://[A-Za-z0-9.-]+(?::\d+)?(?:/[A-Za-z0-9._~%+-]+)*/?")
_GITHUB_REPOSITORY = re.compile(r"https://github\.com/([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)(?:\.git)?/?")


@dataclass(frozen=True)
class Links:
    source: str  # the repository's URL
    release: Release | None = None
    compare: str | None = None


RegistryFor = Callable[[ImageRef], Registry | None]
FindRelease = Callable[[str, list[str]], Release | None]


class SourceMemory(Protocol):
    def source_url(self, image: str, tag: str) -> str | None: ...

    def remember_source(self, image: str, tag: str, url: str | None) -> None: ...


def find_links(updates: Iterable[PlannedUpdate], *, registry_for: RegistryFor, find_release: FindRelease,
               memory: SourceMemory | None = None, offline: bool = False) -> dict[tuple[str, str], Links]:
    """(image name, new tag) -> its links, for each update whose image declares a source. What a
    tag declares is read once and kept in `memory` (the store); `offline`, only from there."""
    links: dict[tuple[str, str], Links] = {}
    for planned in updates:
        image, update = planned.reference.found.image, planned.update
        if image is None or update.to_tag is None or update.to_tag == update.from_tag:
            continue
        key = (image.name, update.to_tag)
        if key not in links:
            source = _source(image, update.to_tag, registry_for, memory, offline)
            found = _links(source, update.from_tag, update.to_tag, find_release) if source else None
            if found is not None:
                links[key] = found
    return links


def _source(image: ImageRef, tag: str, registry_for: RegistryFor, memory: SourceMemory | None,
            offline: bool) -> str | None:
    known = memory.source_url(image.name, tag) if memory is not None else None
    if known is not None or offline:
        return known or None
    registry = registry_for(image)
    if registry is None:
        return None
    try:
        source = registry.source_url(image, tag)
    except SourceError:
        return None  # not remembered: the next run asks again
    if memory is not None:
        memory.remember_source(image.name, tag, source)
    return source


def _links(source: str, from_tag: str | None, to_tag: str, find_release: FindRelease) -> Links | None:
    if not _HTTPS_URL.fullmatch(source):
        return None
    repository = _GITHUB_REPOSITORY.fullmatch(source)
    if repository is None:
        return Links(source)
    release = find_release(repository.group(1), [to_tag, f"v{to_tag}"])
    if release is None:
        return Links(source)
    prefix = "v" if release.tag == f"v{to_tag}" else ""
    compare = f"https://github.com/{repository.group(1)}/compare/{prefix}{from_tag}...{release.tag}" if from_tag else None
    return Links(source, release, compare)
