"""The plain data the stages of a run hand each other: decisions, planned updates, failures,
file changes and pull request actions. Report, rewrite and pull requests read these; none of
them needs another's code.

Scanned references (`Reference`, `Found`) are the scanners' own data, in `scan/model.py`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from tagbot.config import PullSettings
from tagbot.errors import ScanError, visible
from tagbot.refs import short_version
from tagbot.scan.model import DeclaredPlatform, Reference

UpdateType = Literal["major", "minor", "patch", "digest", "pin", "replace"]
# What a candidate was turned down for, in the order the policy checks.
Check = Literal[
    "shape", "suffix", "pre-release", "ended", "lts", "ignore", "allow", "update type",
    "not described", "current not described", "platforms", "age", "digest",
]
ActionKind = Literal["open", "update", "merge", "close", "unchanged", "skip", "failed"]
OutputFormat = Literal["table", "json", "diff"]
# What went wrong, for tools reading JSON: one word per kind of failure.
FailureKind = Literal[
    "auth", "unauthorized", "not_found", "rate_limited", "unavailable", "bad_response", "rewrite", "scan",
    "deferred",
]


@dataclass(frozen=True)
class Update:
    from_tag: str | None
    from_digest: str | None
    to_tag: str | None
    to_digest: str | None
    update_type: UpdateType
    platforms: frozenset[str]
    size: int | None
    last_updated: datetime | None
    from_size: int | None = None  # the current tag's size, for "+2.1 MB" in pull requests
    # Platforms the current tag has and the new one lacks (none required): always shown.
    platforms_dropped: frozenset[str] = frozenset()
    # A moved image's successor, as it is to be written (`eclipse-temurin`): a replacement.
    to_image: str | None = None

    @property
    def to_text(self) -> str:
        """The new version as people say it: `1.27.4`, `1.27@sha256:3f2a…`, `eclipse-temurin:17-jdk`."""
        version = short_version(self.to_tag, self.to_digest)
        return f"{self.to_image}:{version}" if self.to_image else version


@dataclass(frozen=True)
class Verdict:
    """A candidate newer than the current tag, and the first check that rejected it (or None)."""

    tag: str
    check: Check | None
    detail: str


@dataclass(frozen=True)
class Decision:
    update: Update | None
    reason: str
    held_back: tuple[str, ...] = ()
    verdicts: tuple[Verdict, ...] = ()  # newest first
    platforms_required: frozenset[str] = frozenset()
    platforms_from: str = ""  # where the required platforms came from, for explain
    # When `update` is a major one: the newest update that is not, which a team postponing a
    # major (a postgres data migration) still wants; pull requests offer both, apart.
    non_major: Update | None = None
    # When `update` is a minor or major one: the newest patch of the current line, for a pull
    # request of its own under separate_minor_patch.
    patch: Update | None = None
    line: str = ""  # the current tag's release line, for explain: `17 (LTS, supported to 2027-10-31)`
    # Tags a source listed by name only that this decision waits on: the first candidate not
    # yet looked at ahead of any accepted one, or the current tag when the platform rule or a
    # digest needs it (`needs`); for the updates offered apart, the same among the non-major
    # and the patch candidates.
    needs: tuple[str, ...] = ()
    needs_non_major: tuple[str, ...] = ()
    needs_patch: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlannedUpdate:
    reference: Reference
    update: Update
    reason: str
    # Offered beside the newest update of the same reference (separate_major, separate_minor_patch):
    # a pull request of its own, never written by `update`, which makes one change per reference.
    beside: bool = False
    pull: PullSettings = PullSettings()  # how its pull request is made: the rules for this update


@dataclass(frozen=True)
class HeldBack:
    reference: Reference
    reason: str


@dataclass(frozen=True)
class Failure:
    """An image that could not be looked up, or a file that cannot be rewritten."""

    subject: str  # the image or file it is about
    message: str
    kind: FailureKind
    temporary: bool = False  # offline, unreachable or rate limited: the next run may succeed
    host: str | None = None  # the server that failed, when one did
    shared: bool = False  # the host's failure (down, quota spent, deadline passed): said once for all its images
    place: str | None = None  # the `file:line` the message starts with, when it names one

    @property
    def text(self) -> str:
        """The line people read: the subject, then the message, unless that names it already."""
        return self.message if self.message.startswith(f"{self.subject}:") else f"{self.subject}: {self.message}"


@dataclass(frozen=True)
class Violation:
    """A rule broken without any lookup: `require_digest`, `forbid_tags`."""

    reference: Reference
    problem: str


LifeKind = Literal["ended", "ending", "abandoned", "moved", "deprecated"]


@dataclass(frozen=True)
class LifeWarning:
    """A reference on a release line that ended or ends soon (`eol_warning`), to an image
    nothing was pushed to for `abandoned_after`, or to one that moved or is deprecated with no
    replacement to propose: `message` says so, and what to move to."""

    reference: Reference
    kind: LifeKind
    message: str  # `postgres:12.20 (ended 2024-11-21) -> 18.6 (supported to 2030-11-14)`
    successor: str | None = None  # the tag to move to, when one is known


@dataclass(frozen=True)
class FileChange:
    file: str
    path: Path
    before: str
    after: str

    def diff(self) -> str:
        lines = difflib.unified_diff(
            self.before.splitlines(keepends=True),
            self.after.splitlines(keepends=True),
            # A name with a newline cannot stand in a diff's header: shown escaped, on one line.
            fromfile=f"a/{visible(self.file)}",
            tofile=f"b/{visible(self.file)}",
        )
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


@dataclass(frozen=True)
class Monthly:
    """The month's tags-API calls under `monthly_calls`, as a run saw and spent them."""

    limit: int
    month: str  # 2026-12
    spent: int  # calls this month before this run
    share: int  # calls this run might spend
    runs_left: float  # runs expected after this one
    this_run: int = 0  # calls this run spent

    @property
    def used(self) -> int:
        return self.spent + self.this_run

    @property
    def projected(self) -> int:
        """The month's calls if every run to come spends like this one (shares never pass the limit)."""
        return min(self.limit, self.used + round(self.runs_left * self.this_run))


@dataclass(frozen=True)
class Plan:
    """One run's outcome before anything is written: what was found, what to change, and why not."""

    references: tuple[Reference, ...]
    scan_errors: tuple[ScanError, ...]
    platforms: tuple[DeclaredPlatform, ...]  # what the repository says it builds for
    updates: tuple[PlannedUpdate, ...]
    held_back: tuple[HeldBack, ...]
    errors: tuple[Failure, ...]  # images that could not be looked up
    violations: tuple[Violation, ...]
    changes: tuple[FileChange, ...] = ()  # every touched file as it would be written
    rewrite_errors: tuple[Failure, ...] = ()  # files left alone whole, with the reason
    # Images decided from an answer older than cache_ttl, not asked again for the monthly
    # budget: (image, when the answer came).
    stale: tuple[tuple[str, datetime], ...] = ()
    monthly: Monthly | None = None
    life: tuple[LifeWarning, ...] = ()  # ended, ending and abandoned, in file order

    @property
    def failed(self) -> bool:
        return bool(self.scan_errors or self.rewrite_errors or any(e.kind != "deferred" for e in self.errors))


@dataclass(frozen=True)
class Action:
    """What a run did (or, in a dry run, would do) to one pull request."""

    kind: ActionKind
    branch: str
    title: str
    detail: str = ""
    url: str = ""
    number: int | None = None  # the pull request's, once it exists
    automerge: str = ""  # where merging itself stands (`waiting for check ci`), for pull requests that may

    @property
    def note(self) -> str:
        """The detail and where merging stands, as one note."""
        return "; ".join(part for part in (self.detail, self.automerge) if part)
