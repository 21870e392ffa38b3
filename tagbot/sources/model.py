"""The models every source returns and the policy reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tagbot.errors import BadResponse


@dataclass(frozen=True)
class Tag:
    """One tag of an image as a source lists it; `platforms` as the source wrote them."""

    name: str
    digest: str | None = None
    platforms: frozenset[str] = frozenset()
    size: int | None = None  # compressed bytes
    last_updated: datetime | None = None
    # False when the source listed the name only (an OCI registry): the tags the policy needs
    # are then described one by one, so manifests are fetched for those alone.
    described: bool = True


@dataclass(frozen=True)
class TagList:
    """An image's tags, newest first; `complete` is False when the source stopped at a limit."""

    tags: tuple[Tag, ...]
    complete: bool = True


def parse_timestamp(text: str, where: str) -> datetime:
    """An ISO 8601 time with its zone (`2026-08-19T19:45:31.717Z`); `where` names it in errors."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadResponse(f"{where} is not a timestamp") from None
    if moment.tzinfo is None:
        raise BadResponse(f"{where} has no time zone")
    return moment
