"""What a tag means: its version, its shape, and how tags of one shape order.

A tag is `[prefix]numbers[build][prerelease][-suffix]`: `v3.7.11`, `21.0.12_8-jdk`,
`3.15.0rc1-slim`, `17.6.0-debian-12-r3` (bitnami revision 3, suffix `debian-12`),
`8u502-b07-jre` (Java 8 update 502, build 7), `noble-20260810` (a date under a codename).
Tags with no version (`latest`, `bookworm`, `sha-1a2b3c`) are floating: `parse_tag` gives None.

Two tags are comparable only when they have the same shape: same prefix, same count of
numbers, same suffix, build number present in both or neither. Pure functions, no config.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Literal

UpdateType = Literal["major", "minor", "patch"]

# Pre-release labels, earliest first; a release sorts after all of them.
_PRE_RANK = {"dev": 0, "alpha": 1, "a": 1, "ea": 1, "beta": 2, "b": 2, "pre": 3, "rc": 4}
_RELEASE = (len(_PRE_RANK), 0)
_BY_POSITION: tuple[UpdateType, UpdateType, UpdateType] = ("major", "minor", "patch")

_TAG = re.compile(
    r"""
    (?P<prefix>v|V|[a-z][a-z0-9]*-(?=\d{8}))?          # v1.2, or a codename before a date
    (?:
        (?P<date>\d{8})(?:\.(?P<respin>\d+))?          # 20260810, 20260731.1
      | (?P<java>\d+)u(?P<update>\d+)(?:-b(?P<jbuild>\d+))?   # 8u502-b07
      | (?P<numbers>\d+(?:\.\d+){0,3})(?:_(?P<build>\d+))?    # 21.0.12_8
    )
    (?:
        (?P<sep>[-.]?)(?P<label>alpha|beta|rc|pre|dev|ea)\.?(?P<prenum>\d+)?
      | (?P<short>a|b)(?P<shortnum>\d+)                 # 3.14.0a1, 3.14.0b2
    )?
    (?:-(?!r\d+$)(?P<suffix>.+?))?
    (?:-r(?P<revision>\d+))?                            # bitnami: 17.6.0-debian-12-r3
    """,
    re.VERBOSE,
)
_SUFFIX_NUMBERS = re.compile(r"\d+(?:\.\d+)*")


@dataclass(frozen=True)
class Version:
    tag: str
    prefix: str
    numbers: tuple[int, ...]
    is_date: bool
    build: int | None  # build or revision number: `_8`, `-b07`, `-r3`, a date's `.1`
    pre: tuple[int, int] | None  # (rank, number) of a pre-release, None for a release
    suffix: str

    @property
    def is_prerelease(self) -> bool:
        return self.pre is not None

    @cached_property
    def suffix_family(self) -> str:
        """The suffix with its own version taken out: `alpine3.20` -> `alpine#`."""
        return _SUFFIX_NUMBERS.sub("#", self.suffix)

    @cached_property
    def suffix_version(self) -> tuple[tuple[int, ...], ...]:
        """The suffix's own version: `alpine3.20` -> ((3, 20),), `debian-12` -> ((12,),)."""
        return tuple(
            tuple(int(n) for n in match.group().split("."))
            for match in _SUFFIX_NUMBERS.finditer(self.suffix)
        )

    @cached_property
    def key(self) -> tuple[tuple[int, ...], tuple[int, int], int]:
        """Order within a shape: numbers, then pre-release before release, then build."""
        return self.numbers, self.pre or _RELEASE, self.build or 0

    @property
    def version_text(self) -> str:
        """The version without prefix and suffix, as people say it: `22.11.0`, `3.15.0rc1`."""
        numbers = ".".join(str(n) for n in self.numbers)
        if self.pre is None:
            return numbers
        label = next(name for name, rank in _PRE_RANK.items() if rank == self.pre[0])
        return f"{numbers}-{label}{self.pre[1] or ''}"


@lru_cache(maxsize=1 << 16)
def parse_tag(tag: str) -> Version | None:
    """The version a tag names, or None for a floating tag. Cached: a run asks for the same
    tags of an image once per reference to it."""
    match = _TAG.fullmatch(tag)
    if match is None:
        return None
    groups = match.groupdict()
    if groups["date"] is not None:
        numbers: tuple[int, ...] = (int(groups["date"]),)
        build = _int(groups["respin"])
    elif groups["java"] is not None:
        numbers = (int(groups["java"]), int(groups["update"]))
        build = _int(groups["jbuild"])
    else:
        numbers = tuple(int(n) for n in groups["numbers"].split("."))
        build = _int(groups["build"])
    if groups["revision"] is not None:
        if build is not None:
            return None  # two build numbers: no known scheme, so no order to trust
        build = int(groups["revision"])
    return Version(
        tag=tag,
        prefix=groups["prefix"] or "",
        numbers=numbers,
        is_date=groups["date"] is not None or _is_dotted_date(numbers),
        build=build,
        pre=_pre(groups),
        suffix=groups["suffix"] or "",
    )


def _int(text: str | None) -> int | None:
    return int(text) if text is not None else None


def _is_dotted_date(numbers: tuple[int, ...]) -> bool:
    """`2024.11.18`: a date, not calendar versioning like `2024.1`."""
    return len(numbers) == 3 and 1990 <= numbers[0] <= 2999 and 1 <= numbers[1] <= 12 and 1 <= numbers[2] <= 31


def _pre(groups: dict[str, str | None]) -> tuple[int, int] | None:
    label = groups["label"] or groups["short"]
    if label is None:
        return None
    number = groups["prenum"] if groups["label"] else groups["shortnum"]
    return _PRE_RANK[label], int(number) if number else 0


def update_type(current: Version, candidate: Version) -> UpdateType:
    """Major, minor or patch by the first number that changed; with fewer numbers, the coarsest.

    A date tag's move (`noble-20240801` to `noble-20260810`) is a rebuild of the same release,
    so a patch; so is a change of only build, pre-release or suffix version."""
    if current.is_date:
        return "patch"
    for position, (old, new) in enumerate(zip(current.numbers, candidate.numbers)):
        if old != new:
            return _BY_POSITION[min(position, 2)]
    return "patch"


def same_frame(current: Version, candidate: Version) -> bool:
    """Same prefix, count of numbers, date-ness and build scheme: all but the suffix agree."""
    return (current.prefix, len(current.numbers), current.is_date, current.build is None) == (
        candidate.prefix, len(candidate.numbers), candidate.is_date, candidate.build is None
    )


def compatible(current: Version, candidate: Version, *, follow_suffix: bool = False) -> bool:
    """Whether `candidate` keeps the shape of `current`.

    With `follow_suffix` the suffix's own version may move forward (`alpine3.18` to
    `alpine3.21`), never backward; otherwise the suffix stays exactly the same."""
    if not same_frame(current, candidate):
        return False
    if not follow_suffix:
        return current.suffix == candidate.suffix
    return current.suffix_family == candidate.suffix_family and candidate.suffix_version >= current.suffix_version


def order_key(version: Version) -> tuple[object, ...]:
    """A total order over all versions: by version, then suffix version, then the tag itself,
    so that two spellings of one version (`3.15.0rc1`, `3.15.0-rc.1`) still have an order."""
    return version.key, version.suffix_version, version.tag


def shaped_like(current: Version, tag: str) -> bool:
    """Whether `tag` is another tag of exactly the current one's shape and suffix."""
    version = parse_tag(tag)
    return version is not None and version.tag != current.tag and compatible(current, version)


def newer_than(current: Version, tags: Iterable[str]) -> list[Version]:
    """The versions of `tags` newer than `current` (by version, then suffix version), newest first."""
    floor = (current.key, current.suffix_version)
    newer = [v for v in map(parse_tag, tags) if v is not None and (v.key, v.suffix_version) > floor]
    return sorted(newer, key=order_key, reverse=True)


class RangeError(ValueError):
    """A version range that cannot be read; str(e) says which part."""


Numbers = tuple[int, ...]
_Comparator = tuple[str, Numbers]

_COMPARATOR = re.compile(r"(>=|<=|>|<|==|=|\^|~)?\s*v?(\d+(?:\.(?:\d+|[xX*]))*|[xX*])")


@dataclass(frozen=True)
class VersionRange:
    """A semver range over version numbers: `^1.25`, `~1.27`, `1.x`, `>=1.25 <2`, `>=1.25,<2`,
    and `||` between alternatives. A version is in it when every comparator of one
    alternative holds; numbers are compared with missing parts as zero."""

    text: str
    alternatives: tuple[tuple[_Comparator, ...], ...]

    def __contains__(self, numbers: Numbers) -> bool:
        return any(all(_holds(numbers, op, bound) for op, bound in alt) for alt in self.alternatives)


def parse_range(text: str) -> VersionRange:
    alternatives = []
    for alternative in text.split("||"):
        words = alternative.replace(",", " ").split()
        words = _join_operators(words)
        if not words:
            raise RangeError(f"empty alternative in {text!r}")
        comparators: list[_Comparator] = []
        for word in words:
            comparators.extend(_comparators(word))
        alternatives.append(tuple(comparators))
    return VersionRange(text, tuple(alternatives))


def _join_operators(words: list[str]) -> list[str]:
    """`>= 1.25` written with a space is one comparator."""
    out: list[str] = []
    for word in words:
        if out and out[-1] in (">=", "<=", ">", "<", "=", "==", "^", "~"):
            out[-1] += word
        else:
            out.append(word)
    return out


def _comparators(word: str) -> list[_Comparator]:
    match = _COMPARATOR.fullmatch(word)
    if match is None:
        raise RangeError(f"cannot read {word!r}")
    op, version = match.group(1) or "", match.group(2)
    parts = version.split(".")
    wildcard = next((i for i, part in enumerate(parts) if part in ("x", "X", "*")), None)
    if wildcard is not None and any(part not in ("x", "X", "*") for part in parts[wildcard:]):
        raise RangeError(f"cannot read {word!r}")
    numbers = tuple(int(part) for part in parts[:wildcard])
    if op in ("", "=", "==") and (wildcard is not None or op == ""):
        return _prefix_range(numbers)  # `1.x`, `1.27`, `=1`: everything that starts so
    if wildcard is not None:
        raise RangeError(f"a wildcard cannot follow {op!r} in {word!r}")
    if op == "^":
        first_nonzero = next((i for i, n in enumerate(numbers) if n), len(numbers) - 1)
        return [(">=", numbers), ("<", _bump(numbers, first_nonzero))]
    if op == "~":
        return [(">=", numbers), ("<", _bump(numbers, min(1, len(numbers) - 1)))]
    return [(op.replace("==", "="), numbers)]


def _prefix_range(numbers: Numbers) -> list[_Comparator]:
    if not numbers:
        return []  # `*`: anything
    return [(">=", numbers), ("<", _bump(numbers, len(numbers) - 1))]


def _bump(numbers: Numbers, position: int) -> Numbers:
    return numbers[:position] + (numbers[position] + 1,)


def _holds(numbers: Numbers, op: str, bound: Numbers) -> bool:
    width = max(len(numbers), len(bound))
    left, right = numbers + (0,) * (width - len(numbers)), bound + (0,) * (width - len(bound))
    return {
        ">=": left >= right, "<=": left <= right, ">": left > right, "<": left < right, "=": left == right,
    }[op]
