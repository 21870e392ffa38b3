"""Where tags come from: one module per source, all returning the shared models.

A source is `list_tags(image)` over an injected `Fetcher` (rate limit, budget and retries live
there, in one place). The lookup stage asks the source that covers each image.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from tagbot.refs import ImageRef
from tagbot.sources.model import Tag, TagList


class Source(Protocol):
    # Names the source and its endpoint in cache keys, so two endpoints never share entries.
    cache_id: str

    def covers(self, image: ImageRef) -> bool: ...

    def list_tags(self, image: ImageRef) -> TagList: ...


@runtime_checkable
class DescribingSource(Source, Protocol):
    """A source whose lists hold names only; `describe` fetches one tag's digest and platforms."""

    def describe(self, image: ImageRef, tag: str) -> Tag: ...

    def digest_of(self, image: ImageRef, tag: str) -> str | None:
        """The digest `tag` points to now, by a HEAD: no body, and not a pull where a registry
        (Docker Hub's) counts pulls; None when the registry does not say."""
        ...
