"""The one tag model every source returns and the policy reads."""

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
