"""Whether one of tagbot's pull requests may merge itself, from what GitHub says of it: its
reviews, the checks on the head commit tagbot made, and its mergeability.

Only `automerge:` update types ever merge (a major only when named); a person asking for
changes stops it; a failed or running check leaves it open, and the dashboard says which; a
head with no check at all is not merged either, since nothing then says the update is safe.
The facts are read by `pr/github.py`; this module only judges them, so every case is a table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

# Check run conclusions that do not stand in a merge's way (GitHub's own reading of them).
_PASSING = frozenset({"success", "neutral", "skipped"})
_NAMED = 3  # checks a note names; more are counted


@dataclass(frozen=True)
class Checks:
    """What the commit statuses and check runs on one commit say, by name."""

    passed: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    unread: int = 0  # more than one page of check runs: not all could be judged


def checks_from(statuses: Iterable[tuple[str, str]], runs: Iterable[tuple[str, str | None]], *, unread: int = 0) -> Checks:
    """`statuses` as (context, state), the latest per context; `runs` as (name, conclusion or None
    while running)."""
    passed: list[str] = []
    pending: list[str] = []
    failed: list[str] = []
    for context, state in statuses:
        (passed if state == "success" else pending if state == "pending" else failed).append(context)
    for name, conclusion in runs:
        (pending if conclusion is None else passed if conclusion in _PASSING else failed).append(name)
    return Checks(tuple(sorted(passed)), tuple(sorted(pending)), tuple(sorted(failed)), unread)


@dataclass(frozen=True)
class Verdict:
    merge: bool  # merge now
    note: str  # what the dashboard and the run's table say


def refused(changes_requested: Iterable[str], checks: Checks | None) -> Verdict | None:
    """What a person or a check said against merging (`checks` None: not read), or None: these
    stop a merge outright, and an auto-merge turned on before with it."""
    asked = sorted(changes_requested)
    if asked:
        return Verdict(False, f"not merged: changes requested by {_names(asked)}")
    if checks is not None and checks.failed:
        return Verdict(False, f"not merged: {_checks(checks.failed)} failed")
    return None


def merge_verdict(*, changes_requested: Iterable[str], checks: Checks, mergeable: Callable[[], bool | None]) -> Verdict:
    """Whether to merge a pull request tagbot made, whose update types all allow automerge.
    `mergeable` is asked last, and only once the checks pass (it costs a request)."""
    stopped = refused(changes_requested, checks)
    if stopped is not None:
        return stopped
    if checks.unread:
        return Verdict(False, f"not merged: {checks.unread} checks more than tagbot reads")
    if checks.pending:
        return Verdict(False, f"waiting for {_checks(checks.pending)}")
    if not checks.passed:
        return Verdict(False, "waiting: no check has run on it (nothing yet says it is safe)")
    can_merge = mergeable()
    if can_merge is None:
        return Verdict(False, "waiting for GitHub to tell whether it can merge")
    if not can_merge:
        return Verdict(False, "not merged: GitHub cannot merge it (a conflict, or a rule of the base branch)")
    return Verdict(True, f"merged: {_checks(checks.passed)} passed")


def _checks(names: tuple[str, ...]) -> str:
    shown = ", ".join(names[:_NAMED])
    more = f" and {len(names) - _NAMED} more" if len(names) > _NAMED else ""
    return f"check{'s' if len(names) > 1 else ''} {shown}{more}"


def _names(logins: list[str]) -> str:
    return ", ".join(logins)
