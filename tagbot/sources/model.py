"""The models every source returns and the policy reads."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from tagbot.errors import BadResponse
from tagbot.refs import is_digest, is_tag


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
    # Where the tag is known from, for explain: "tagsapi", "hub", "registry", or "store" (an
    # earlier run). Not part of the tag's identity.
    known_from: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class TagList:
    """An image's tags, newest first; `complete` is False when the source stopped at a limit."""

    tags: tuple[Tag, ...]
    complete: bool = True


@dataclass(frozen=True)
class ImageFacts:
    """What a source says of an image as a whole (the tags API's /v1/image)."""

    status: str  # `active`, or another word of at most 32 letters
    deprecated: bool


_STATUS_WORD = re.compile(r"[a-z_-]{1,32}")


def is_status_word(text: object) -> bool:
    return isinstance(text, str) and _STATUS_WORD.fullmatch(text) is not None


_PLATFORM = re.compile(r"[A-Za-z0-9_.-]{1,32}(?:/[A-Za-z0-9_.-]{1,32}){1,2}")


def checked(tags: TagList, source: str) -> TagList:
    """`tags` when every name, digest and platform passes the reference grammar; otherwise
    `BadResponse` naming the first that does not (shortened and escaped: it is untrusted text).
    A bad answer is that image's error, and nothing of it is ever written to a file."""
    for tag in tags.tags:
        if not is_tag(tag.name):
            raise BadResponse(f"{source} answered a tag that is not a tag: {_shown(tag.name)}")
        if tag.digest is not None and not is_digest(tag.digest):
            raise BadResponse(f"{source} answered a digest for {tag.name} that is not a digest: {_shown(tag.digest)}")
        bad = next((p for p in tag.platforms if not is_platform(p)), None)
        if bad is not None:
            raise BadResponse(f"{source} answered a platform for {tag.name} that is not a platform: {_shown(bad)}")
    return tags


def is_platform(text: str) -> bool:
    """`linux/arm64/v8`: what a platform name may be, and all it may be."""
    return _PLATFORM.fullmatch(text) is not None


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_timestamp(text: str, where: str) -> datetime:
    """An ISO 8601 time with its zone (`2026-08-19T19:45:31.717Z`); `where` names it in errors."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadResponse(f"{where} is not a timestamp") from None
    if moment.tzinfo is None:
        raise BadResponse(f"{where} has no time zone")
    return moment
