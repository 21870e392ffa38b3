"""The models every source returns and the policy reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Tag:
    """One tag of an image as a source lists it; `platforms` as the source wrote them."""

    name: str
    digest: str | None = None
    platforms: frozenset[str] = frozenset()
    size: int | None = None  # compressed bytes
    last_updated: datetime | None = None


@dataclass(frozen=True)
class TagList:
    """An image's tags, newest first; `complete` is False when the source stopped at a limit."""

    tags: tuple[Tag, ...]
    complete: bool = True


@dataclass(frozen=True)
class ImageInfo:
    """What a source says about an image, for reports and pull request text."""

    name: str
    description: str | None = None
    official: bool = False
    pull_count: int | None = None
    url: str | None = None
