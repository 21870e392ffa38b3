"""Keeping tagbot's pull requests in step with the plan: one branch and commit per group,
opened, updated in place, closed when the base has caught up.

A second run with nothing new makes no commit and no API write. A branch with commits tagbot
did not make belongs to a person now: it is reported, never force-pushed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tagbot.config import RunSettings
from tagbot.errors import GitHubError
from tagbot.git import Workspace
from tagbot.model import Action, Failure, HeldBack, PlannedUpdate
from tagbot.pr.body import commit_message, pr_body, pr_title
from tagbot.pr.github import PullRequests
from tagbot.pr.grouping import Group

CLOSING_COMMENT = "The base branch already has these image versions (or needs them no more), so tagbot closes this pull request."
# Makes a group's edits in a folder: the files it cannot change, with the reason (nothing written then).
ApplyUpdates = Callable[[Sequence[PlannedUpdate], Path], list[Failure]]


@dataclass
class SyncContext:
    workspace: Workspace
    pulls: PullRequests
    settings: RunSettings
    base_branch: str
    base_commit: str
    dry_run: bool
    apply_updates: ApplyUpdates


def sync_group(context: SyncContext, group: Group, held_back: Sequence[HeldBack], open_pulls: dict[str, Any],
               can_open: Callable[[], bool]) -> Action:
    """Bring one group's branch and pull request in step with the plan."""
    workspace, pulls = context.workspace, context.pulls
    title, body = pr_title(group), pr_body(group, held_back)
    tree_path = workspace.start(context.base_commit)
    failures = context.apply_updates(group.updates, tree_path)
    if failures:
        return Action("skip", group.branch, title, "; ".join(f.message for f in failures))
    commit = workspace.commit(commit_message(group))
    existing = workspace.remote_branch(group.branch)
    pull = open_pulls.get(group.branch)
    if existing is not None:
        foreign = workspace.foreign_authors(context.base_commit, existing)
        if foreign:
            return Action("skip", group.branch, title, f"edited by hand ({', '.join(sorted(set(foreign)))}); left alone")
    branch_current = existing is not None and workspace.tree(existing) == workspace.tree(commit)
    if pull is not None and branch_current and pull.title == title and pull.body == body:
        return Action("unchanged", group.branch, title, url=pull.html_url)
    # Closing tagbot's pull request without merging it declines that update, as with Dependabot;
    # tagbot deletes the branches it closes itself, so a left-over branch means a person closed it.
    if pull is None and existing is not None and pulls.closed_with_title(group.branch, context.base_branch, title):
        return Action("skip", group.branch, title, "closed without merging before; not opened again")
    if pull is None and not can_open():
        return Action("skip", group.branch, title, "max_open_prs or max_prs_per_run reached")
    if context.dry_run:
        return Action("update" if pull is not None else "open", group.branch, title, "dry run")
    if not branch_current:
        workspace.push(commit, group.branch, expected=existing)
    if pull is None:
        pull = pulls.create(branch=group.branch, base=context.base_branch, title=title, body=body, settings=context.settings)
        return Action("open", group.branch, title, url=pull.html_url)
    if pull.title != title or pull.body != body:
        pulls.edit(pull, title=title, body=body)
    return Action("update", group.branch, title, "rebuilt on the base" if not branch_current else "", url=pull.html_url)


def sync_pull_requests(
    *,
    workspace: Workspace,
    pulls: PullRequests,
    settings: RunSettings,
    groups: Sequence[Group],
    held_back: Sequence[HeldBack],
    base_branch: str,
    base_commit: str,
    complete: bool,
    dry_run: bool,
    apply_updates: ApplyUpdates,
) -> list[Action]:
    """Open, update and close tagbot's pull requests. Stale ones are closed only after a
    `complete` run (every image looked up): a failed lookup must not look like "up to date"."""
    open_pulls = pulls.open_tagbot_pulls(base_branch)
    context = SyncContext(workspace, pulls, settings, base_branch, base_commit, dry_run, apply_updates)
    opened = 0

    def can_open() -> bool:
        nonlocal opened
        open_now = len(open_pulls) + opened
        if settings.max_open_prs is not None and open_now >= settings.max_open_prs:
            return False
        if settings.max_prs_per_run is not None and opened >= settings.max_prs_per_run:
            return False
        opened += 1
        return True

    actions = [sync_group(context, group, held_back, open_pulls, can_open) for group in groups]
    wanted = {group.branch for group in groups}
    for branch, pull in sorted(open_pulls.items()):
        if branch in wanted:
            continue
        if not complete:
            actions.append(Action("skip", branch, pull.title, "not closed: some images could not be looked up"))
        elif dry_run:
            actions.append(Action("close", branch, pull.title, "dry run", url=pull.html_url))
        else:
            pulls.close(pull, CLOSING_COMMENT)
            actions.append(Action("close", branch, pull.title, url=pull.html_url))
    return actions


def workspace_paths(paths: Sequence[Path], workspace_root: Path, checkout_root: Path) -> list[Path]:
    """The given paths, as they lie in the worktree of the base branch."""
    out = []
    for path in paths:
        absolute = path.absolute()
        try:
            out.append(workspace_root / absolute.relative_to(checkout_root.absolute()))
        except ValueError:
            raise GitHubError(f"{path}: outside the repository") from None
    return out
