"""Release lines: which lines of an image are long-term support and from when, when each was
released and when its support ends, and which tags are development releases.

The facts are endoflife.date's, shipped as `tagbot/data/release-lines.json` with the commit and
date they are from (`scripts/rebuild_release_lines.py` rebuilds it). A tag is on the line its
version starts with: `17.0.17_10-jdk` and `17-jdk` on Java's 17, `24.04.3` on Ubuntu's 24.04;
a date tag under a codename (`noble-20260810`) or a codename tag (`bookworm-slim`) on that
codename's line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

from tagbot.refs import ImageRef
from tagbot.sources.model import Tag
from tagbot.versioning import Version, parse_tag

# Tags that name whatever a project is working on next, not a release: a version tag that is
# the same image is a development release (Ubuntu's `26.10` = `devel`), unless the data says
# its line is out (Ubuntu's `rolling` is the newest release, whatever it is).
DEVELOPMENT_ALIASES = frozenset({"devel", "rolling", "edge", "testing", "unstable", "rc", "beta", "next", "nightly"})


@dataclass(frozen=True)
class Line:
    name: str  # as the project writes it: `26`, `26.04`, `8.4`
    numbers: tuple[int, ...]
    released: date | None = None
    lts: bool | date = False  # a date: long-term support from that day on
    eol: bool | date | None = None  # True: ended on a day not recorded; None: not known
    codename: str | None = None

    def is_lts(self, today: date) -> bool:
        return self.lts is True or (isinstance(self.lts, date) and self.lts <= today)

    def lts_from(self, today: date) -> date | None:
        """The day it becomes an LTS line, when that is still to come."""
        return self.lts if isinstance(self.lts, date) and self.lts > today else None

    def ended(self, today: date) -> bool:
        return self.eol is True or (isinstance(self.eol, date) and self.eol <= today)

    @property
    def ends(self) -> date | None:
        return self.eol if isinstance(self.eol, date) else None

    def is_released(self, today: date) -> bool:
        return self.released is not None and self.released <= today

    def support_text(self, today: date) -> str:
        """`ended 2024-11-21`, `supported to 2029-11-08`, or `supported` when no end is known."""
        if self.ended(today):
            return f"ended {self.ends}" if self.ends else "ended"
        return f"supported to {self.ends}" if self.ends else "supported"


@dataclass(frozen=True)
class ReleaseLines:
    """One product's lines (endoflife.date's name: `nodejs`), newest first."""

    product: str
    title: str
    lines: tuple[Line, ...]
    _by_numbers: dict[tuple[int, ...], Line] = field(init=False, repr=False, compare=False)
    # `lts_names` by day: said of every candidate an LTS line passes over (thousands for node).
    _lts_names: dict[date, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_numbers", {line.numbers: line for line in reversed(self.lines)})
        object.__setattr__(self, "_lts_names", {})

    @property
    def has_lts(self) -> bool:
        """Whether the product has long-term support lines at all (PostgreSQL has not)."""
        return any(line.lts is not False for line in self.lines)

    def line_of(self, version: Version) -> Line | None:
        """The line a version is on: the longest line whose numbers it starts with."""
        if version.is_date:
            return self._by_codename(version.prefix.rstrip("-")) if version.prefix else None
        for width in range(min(len(version.numbers), 3), 0, -1):
            line = self._by_numbers.get(version.numbers[:width])
            if line is not None:
                return line
        return None

    def line_of_tag(self, tag: str) -> Line | None:
        """The line of a tag with a version, or of a codename tag (`bookworm-slim`, `focal`)."""
        version = parse_tag(tag)
        if version is not None:
            return self.line_of(version)
        return self._by_codename(tag.split("-", 1)[0])

    def lts_lines(self, today: date) -> list[Line]:
        """The LTS lines still supported today, oldest first: what an LTS line may move to."""
        return sorted((line for line in self.lines if line.is_lts(today) and not line.ended(today)),
                      key=lambda line: line.numbers)

    def lts_names(self, today: date) -> str:
        """`8, 11, 17, 21, 25`: the LTS lines supported today, as explain lists them."""
        if today not in self._lts_names:
            self._lts_names[today] = ", ".join(line.name for line in self.lts_lines(today)) or "none supported"
        return self._lts_names[today]

    def _by_codename(self, codename: str) -> Line | None:
        return next((line for line in self.lines if line.codename and line.codename == codename), None)


@dataclass(frozen=True)
class LineTable:
    """The shipped table: every product's lines, by the images that carry them."""

    source: str
    commit: str
    date: date
    by_image: Mapping[str, ReleaseLines]

    def for_image(self, image: ImageRef) -> ReleaseLines | None:
        return next((self.by_image[name] for name in image.names if name in self.by_image), None)


NO_LINES = LineTable("", "", date.min, {})


@lru_cache(maxsize=1)
def shipped() -> LineTable:
    """The table shipped with tagbot, read once."""
    text = resources.files("tagbot").joinpath("data/release-lines.json").read_text(encoding="utf-8")
    return table_from(json.loads(text))


def table_from(data: Mapping[str, Any]) -> LineTable:
    by_image: dict[str, ReleaseLines] = {}
    for product, entry in data["products"].items():
        lines = ReleaseLines(product, entry.get("title", product), tuple(_line(raw) for raw in entry["lines"]))
        for image in entry["images"]:
            by_image[image] = lines
    return LineTable(data["source"], data["commit"], date.fromisoformat(data["date"]), by_image)


def _line(raw: Mapping[str, Any]) -> Line:
    return Line(
        name=raw["line"],
        numbers=tuple(int(n) for n in raw["line"].split(".")),
        released=_date(raw.get("released")),
        lts=(_date(raw["lts"]) or False) if isinstance(raw.get("lts"), str) else bool(raw.get("lts", False)),
        eol=_date(raw["eol"]) if isinstance(raw.get("eol"), str) else raw.get("eol"),
        codename=raw.get("codename"),
    )


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def development_aliases(tags: Iterable[Tag]) -> dict[str, str]:
    """{digest: alias} for the tags that name a development build (`devel`, `edge`, ...)."""
    return {tag.digest: tag.name for tag in tags if tag.name in DEVELOPMENT_ALIASES and tag.digest}

