"""Keeping tagbot's pull requests in step with the plan: one branch and commit per group,
opened, updated in place, rebuilt only when needed, closed with the true reason.

A second run with nothing new makes no commit and no API write. A branch with commits tagbot
did not make belongs to a person now: it is reported, never force-pushed. A version a person
declined (closed its pull request without merging) is not proposed again until a newer one
appears, whatever the grouping. One group that fails (a refused push) never stops the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

from tagbot.config import RunSettings
from tagbot.errors import GitHubError
from tagbot.git import Workspace
from tagbot.model import Action, ActionKind, Failure, HeldBack, LifeWarning, PlannedUpdate
from tagbot.pr.automerge import Checks, Verdict, merge_verdict, refused
from tagbot.pr.body import commit_message, pr_body, pr_title, proposals
from tagbot.pr.github import PullRequests
from tagbot.pr.grouping import Group, group_updates
from tagbot.pr.links import Links
from tagbot.pr.dashboard import WAITING_FOR_SCHEDULE, dashboard_body
from tagbot.pr.state import Proposal, State, rebase_requested, short_image_name, state_of, undeclines_requested
from tagbot.refs import short_version
from tagbot.schedule import Schedule
from tagbot.scan.model import Reference

# Makes a group's edits in a folder: the files it cannot change, with the reason (nothing written then).
ApplyUpdates = Callable[[Sequence[PlannedUpdate], Path], list[Failure]]
DASHBOARD = "(dashboard)"  # what the branch column says for the dashboard issue
# A group's links, by (image name, new tag): source, release notes, compare.
LinksFor = Callable[[Group], Mapping[tuple[str, str], Links]]


@dataclass(frozen=True)
class Repository:
    """What the run learned of the base branch, beyond the updates: enough to tell why a pull
    request is no longer wanted, and when that cannot be told."""

    present: Mapping[str, frozenset[str]]  # image name -> the versions the base names now
    not_looked_up: frozenset[str] = frozenset()  # image names whose lookup failed
    unread_files: frozenset[str] = frozenset()  # files that could not be scanned
    errors: tuple[str, ...] = ()  # what went wrong, a line each, for the dashboard
    life: tuple[LifeWarning, ...] = ()  # ended, ending and abandoned, for the dashboard


@dataclass
class SyncContext:
    workspace: Workspace
    pulls: PullRequests
    settings: RunSettings
    base_branch: str
    base_commit: str
    dry_run: bool
    apply_updates: ApplyUpdates
    links_for: LinksFor = lambda group: {}
    now: datetime | None = None  # None: every schedule allows the run
    # Why no new pull request may open now, by `schedule:` ("" when it allows the run): a
    # schedule's next opening is a walk of up to a year of hours, so each is judged once a run.
    _closed: dict[tuple[str, ...], str] = field(default_factory=dict)

    def waiting(self, group: Group) -> str:
        """Why `group` may open no new pull request now ("" when every schedule of its updates
        allows it)."""
        closed = self.closed_schedule(group.schedules)
        return f"{WAITING_FOR_SCHEDULE}: {closed}" if closed else ""

    def closed_schedule(self, schedules: Iterable[tuple[str, ...]]) -> str:
        """The first of `schedules` that does not allow now, with its next opening; "" when all do."""
        for texts in schedules:
            if texts not in self._closed:
                self._closed[texts] = _closed(self.settings.schedule(texts), self.now)
            if self._closed[texts]:
                return self._closed[texts]
        return ""


def sync_pull_requests(
    *,
    workspace: Workspace,
    pulls: PullRequests,
    settings: RunSettings,
    updates: Sequence[PlannedUpdate],
    held_back: Sequence[HeldBack],
    base_branch: str,
    base_commit: str,
    repository: Repository,
    dry_run: bool,
    apply_updates: ApplyUpdates,
    links_for: LinksFor = lambda group: {},
    now: datetime | None = None,
) -> list[Action]:
    """Open, update and close tagbot's pull requests for `updates`, less the declined ones."""
    open_pulls = pulls.open_tagbot_pulls(base_branch)
    dashboard = pulls.dashboard(settings.dashboard_title) if settings.dashboard else None
    declined = _still_declined(pulls, pulls.declined(base_branch), dashboard, dry_run)
    wanted = [u for u in updates if _proposal(u) not in declined]
    context = SyncContext(workspace, pulls, settings, base_branch, base_commit, dry_run, apply_updates, links_for, now)
    can_open = _opening_limit(settings, len(open_pulls))
    actions = [_declined_action(group, declined) for group in group_updates(
        [u for u in updates if _proposal(u) in declined], settings)]
    groups = group_updates(wanted, settings)
    for group in groups:
        try:
            actions.append(sync_group(context, group, held_back, open_pulls.get(group.branch), can_open))
        except GitHubError as e:  # a refused push or write: this group only
            actions.append(Action("failed", group.branch, pr_title(group, settings.commit_prefix), str(e)))
    proposed_in = _proposed_in(groups, actions, open_pulls)
    for branch, pull in sorted(open_pulls.items()):
        if branch not in {group.branch for group in groups}:
            try:
                actions.append(_close_stale(context, pull, repository, proposed_in))
            except GitHubError as e:
                actions.append(Action("failed", branch, pull.title, str(e), url=pull.html_url, number=pull.number))
    if settings.dashboard:
        actions.append(_write_dashboard(pulls, settings, dashboard, dashboard_body(actions, held_back, declined, repository.errors,
                                                                                 repository.life),
                                        dry_run))
    return actions


def _write_dashboard(pulls: PullRequests, settings: RunSettings, issue: Any | None, body: str, dry_run: bool) -> Action:
    title = settings.dashboard_title
    if dry_run:
        return Action("update" if issue is not None else "open", DASHBOARD, title, "dry run")
    try:
        kind = pulls.write_dashboard(issue, title, body)
    except GitHubError as e:
        return Action("failed", DASHBOARD, title, f"{e} (give the job `permissions: issues: write`, or set dashboard: false)")
    return Action(cast(ActionKind, kind), DASHBOARD, title)


def _still_declined(pulls: PullRequests, declined: dict[Proposal, Any], dashboard: Any | None,
                    dry_run: bool) -> dict[Proposal, Any]:
    """The declines, less those a person un-declined by ticking their box on the dashboard (the
    closed pull request then says so, so the next runs know too)."""
    ticked = undeclines_requested(dashboard.body if dashboard is not None else None)
    undeclined = {declined[p].number: declined[p] for p in ticked if p in declined}
    for pull in undeclined.values():
        if not dry_run:
            pulls.undecline(pull)
    return {p: pull for p, pull in declined.items() if pull.number not in undeclined}


def sync_group(context: SyncContext, group: Group, held_back: Sequence[HeldBack], pull: Any | None,
               can_open: Callable[[], bool]) -> Action:
    """Bring one group's branch and pull request in step with the plan."""
    workspace, pulls, settings = context.workspace, context.pulls, context.settings
    title = pr_title(group, settings.commit_prefix)
    if pull is None and group.branch in pulls.taken_branches:
        return Action("skip", group.branch, title, f"#{pulls.taken_branches[group.branch]} on this branch is not "
                      "tagbot's; left alone (close it, or rename its branch, for tagbot to propose this)")
    existing = workspace.remote_branch(group.branch)
    if existing is not None:
        foreign = workspace.foreign_authors(context.base_commit, existing)
        if foreign:
            # A person's commits are theirs to merge: an auto-merge tagbot turned on must not take them in.
            stopped = _stop_auto_merge(context, pull)
            return Action("skip", group.branch, title, f"edited by hand ({', '.join(sorted(set(foreign)))}); left alone"
                          + ("; its auto-merge turned off" if stopped else ""))
    waiting = context.waiting(group) if pull is None else ""
    if waiting:
        return Action("skip", group.branch, title, waiting)  # an open one is still kept current below
    if pull is None and not can_open():
        return Action("skip", group.branch, title, "max_open_prs or max_prs_per_run reached")
    on_pull = pulls.state(pull) if pull is not None else None
    same_versions = on_pull is not None and on_pull.proposals == state_of(proposals(group), ()).proposals
    # Ages stay as of the day these very versions were first proposed.
    proposed_on = date.fromisoformat(on_pull.proposed_on) if same_versions and on_pull and on_pull.proposed_on else None
    body = pr_body(group, held_back, context.links_for(group), proposed_on)
    why = _why_rebuild(context, pull, existing, same_versions)
    if context.dry_run:
        kind: ActionKind = "open" if pull is None else "update" if why or pull.title != title or pull.body != body else "unchanged"
        merging = _automerge(context, group, pull, None if why else existing, title) if pull is not None else None
        return Action(kind, group.branch, title, "dry run" + (f": {why}" if why else ""),
                      automerge=merging.note if merging else "")
    pushed = False
    if why:
        workspace.start(context.base_commit)
        failures = context.apply_updates(group.updates, workspace.path)
        if failures:
            return Action("skip", group.branch, title, "; ".join(f.message for f in failures))
        commit = workspace.commit(commit_message(group, settings.commit_prefix))
        if existing is None or workspace.tree(existing) != workspace.tree(commit) or workspace.behind(context.base_commit, existing):
            if not group.automerge:  # before the push: GitHub could merge on it (a major joined the group)
                _stop_auto_merge(context, pull)
            workspace.push(commit, group.branch, expected=existing)
            pushed = True
    if pull is None:
        pull = pulls.create(branch=group.branch, base=context.base_branch, title=title, body=body, group=group,
                            draft=settings.draft)
        merging = _automerge(context, group, pull, None, title, fresh=True)
        return Action("open", group.branch, title, url=pull.html_url, number=pull.number,
                      automerge=merging.note if merging else "")
    edited = pull.title != title or pull.body != body
    if edited:
        pulls.edit(pull, title=title, body=body)
    was_draft = bool(pull.draft)
    # A draft that may merge itself stays one: a person may have made it one to stop the merge,
    # and only a person marks it ready again.
    in_step = pulls.keep_in_step(pull, group, draft=settings.draft or (was_draft and group.automerge))
    # Checks on a commit pushed this very run have not run yet: merging waits for a later run.
    merging = _automerge(context, group, pull, None if pushed else existing, title, was_draft=was_draft)
    note = merging.note if merging else ""
    if merging and merging.merge:
        return Action("merge", group.branch, title, url=pull.html_url, number=pull.number, automerge=note)
    if not (pushed or edited or in_step):
        return Action("unchanged", group.branch, title, url=pull.html_url, number=pull.number, automerge=note)
    return Action("update", group.branch, title, why if pushed else "", url=pull.html_url, number=pull.number,
                  automerge=note)


def _automerge(context: SyncContext, group: Group, pull: Any, head: str | None, title: str, *,
               fresh: bool = False, was_draft: bool = False) -> Verdict | None:
    """Let the pull request merge itself when every update in it may (`automerge:`): GitHub's
    own auto-merge where the repository allows it, else a merge by tagbot once `head` (the
    commit tagbot made and checked for others' commits; None when just pushed) is green. None
    when the group does not automerge. Whatever stops a merge also turns off an auto-merge
    tagbot turned on before, since GitHub's waits only on what the base branch requires. A dry
    run reads, and writes nothing."""
    pulls = context.pulls
    native = pulls.tagbot_auto_merge(pull)
    stopped, checks = _merge_stopped(context, group, pull, head, fresh=fresh, was_draft=was_draft)
    if stopped is not None:
        _stop_auto_merge(context, pull)
        return stopped if group.automerge or native else None
    if native:
        return Verdict(False, f"auto-merge on ({native}): GitHub merges it once the checks pass")
    method = context.settings.automerge_method
    if pulls.allows_auto_merge:
        try:
            if not context.dry_run:
                pulls.enable_auto_merge(pull, method, head=head or pull.head.sha)
            return Verdict(False, f"auto-merge on ({method}): GitHub merges it once the checks pass")
        except GitHubError:
            pass  # GitHub refuses it for a pull request already mergeable, or a base without required checks
    if head is None or checks is None:
        return Verdict(False, "waiting for checks: merged on a later run once they pass")
    verdict = merge_verdict(changes_requested=(), checks=checks, mergeable=lambda: pulls.mergeable(pull))
    if not verdict.merge:
        return verdict
    if context.dry_run:
        return Verdict(False, f"would be {verdict.note}")
    try:
        pulls.merge(pull, sha=head, method=method, title=title)
    except GitHubError as e:  # the head moved since it was checked, or a rule of the base branch said no
        return Verdict(False, f"not merged: {e}")
    return verdict


def _merge_stopped(context: SyncContext, group: Group, pull: Any, head: str | None, *, fresh: bool,
                   was_draft: bool) -> tuple[Verdict | None, Checks | None]:
    """Why the pull request may not merge itself now (None when nothing stops it: not every
    update may, a draft, outside automerge_schedule, changes requested, or a failed check on
    `head`), and the checks on `head` when they were read."""
    if not group.automerge:
        return Verdict(False, "auto-merge turned off: not every update here may merge itself"), None
    if context.settings.draft or was_draft:
        return Verdict(False, "not merged: a draft (mark it ready for review to let it merge itself)"), None
    closed = context.closed_schedule(group.automerge_schedules)
    if closed:
        return Verdict(False, f"merges within automerge_schedule: {closed}"), None
    asked = [] if fresh else context.pulls.changes_requested(pull)
    checks = context.pulls.checks(head) if head is not None and not asked else None
    return refused(asked, checks), checks


def _stop_auto_merge(context: SyncContext, pull: Any | None) -> bool:
    """Turn off the auto-merge tagbot turned on for `pull`; whether there was one."""
    if pull is None or not context.pulls.tagbot_auto_merge(pull):
        return False
    if not context.dry_run:
        context.pulls.disable_auto_merge(pull)
    return True


def _why_rebuild(context: SyncContext, pull: Any | None, existing: str | None, same_versions: bool) -> str:
    """Why the branch must be built anew on the base, or "" when it may stay as it is: only a new
    branch, other versions, a ticked rebase box or the `rebase` setting rebuild one, so an
    unrelated commit on the base does not re-run CI and dismiss reviews on every tagbot branch."""
    if existing is None:
        return "new branch"
    if not same_versions:
        return "versions changed"
    if rebase_requested(pull.body if pull is not None else None):
        return "rebase asked for"
    rebase, workspace = context.settings.rebase, context.workspace
    if rebase == "behind" and workspace.behind(context.base_commit, existing):
        return "rebuilt on the base (rebase: behind)"
    if rebase in ("behind", "conflicted") and workspace.conflicts(context.base_commit, existing):
        return "rebuilt on the base: the change no longer applied cleanly"
    return ""


def _close_stale(context: SyncContext, pull: Any, repository: Repository, proposed_in: Mapping[str, int | str]) -> Action:
    """Close a pull request this run does not want, saying truly why; or keep it, when what it
    proposes could not be checked (a failed lookup, a file that could not be read)."""
    state = context.pulls.state(pull)
    branch, title = pull.head.ref, pull.title
    reason = _why_unwanted(state, repository, proposed_in)
    if reason is None:
        unknown = _unchecked(state, repository)
        return Action("skip", branch, title, f"not closed: {unknown} could not be checked")
    if context.dry_run:
        return Action("close", branch, title, f"dry run: {reason}", url=pull.html_url, number=pull.number)
    context.pulls.close(pull, reason)
    return Action("close", branch, title, reason, url=pull.html_url, number=pull.number)


def _why_unwanted(state: State | None, repository: Repository, proposed_in: Mapping[str, int | str]) -> str | None:
    if state is None:  # an older tagbot's pull request: it says nothing of what it proposes
        if repository.not_looked_up or repository.unread_files:
            return None
        return "tagbot proposes none of this any more, so it closes this pull request."
    if _unchecked(state, repository):
        return None
    successors = sorted({f"#{n}" if isinstance(n, int) else str(n) for p in state.proposals
                         if (n := proposed_in.get(p.image)) is not None}, key=str)
    if successors:
        return f"Superseded by {', '.join(successors)}: tagbot proposes these images there now."
    present = [p for p in state.proposals if p.version in repository.present.get(p.image, frozenset())]
    if len(present) == len(state.proposals):
        versions = ", ".join(f"`{p.short_image}:{p.version}`" for p in present)
        return f"The base branch already has {versions}, so tagbot closes this pull request."
    gone = [p for p in state.proposals if p.image not in repository.present]
    if gone:
        return (f"The base branch no longer names {', '.join(sorted({p.short_image for p in gone}))}, "
                "so tagbot closes this pull request.")
    return ("The config now holds these versions back (or the base has moved past them), "
            "so tagbot closes this pull request.")


def _unchecked(state: State | None, repository: Repository) -> str:
    """What of a pull request this run could not check, in words; "" when everything was."""
    if state is None:
        return "some images or files" if (repository.not_looked_up or repository.unread_files) else ""
    images = sorted(short_image_name(image) for image in state.images & repository.not_looked_up)
    files = sorted(set(state.files) & repository.unread_files)
    return ", ".join([*images, *files])


def _proposed_in(groups: Sequence[Group], actions: Sequence[Action], open_pulls: Mapping[str, Any]) -> dict[str, int | str]:
    """Image name -> the pull request (its number, or its branch in a dry run) proposing it now."""
    numbers = {a.branch: a.number for a in actions if a.number is not None}
    out: dict[str, int | str] = {}
    for group in groups:
        where = numbers.get(group.branch) or (open_pulls[group.branch].number if group.branch in open_pulls else None)
        for proposal in proposals(group):
            out.setdefault(proposal.image, where if where is not None else group.branch)
    return out


def _declined_action(group: Group, declined: Mapping[Proposal, Any]) -> Action:
    numbers = sorted({f"#{declined[_proposal(u)].number}" for u in group.updates})
    versions = ", ".join(sorted({f"{p.short_image}:{p.version}" for p in proposals(group)}))
    return Action("skip", group.branch, versions,
                  f"declined in {', '.join(numbers)} (closed without merging); proposed again when a newer version appears")


def _closed(schedule: Schedule, now: datetime | None) -> str:
    """The schedule and its next opening, when it does not allow `now` (None: any time will do);
    "" when it does."""
    if now is None or schedule.allows(now):
        return ""
    opening = schedule.next_opening(now)
    when = f"; next from {opening.astimezone(schedule.zone):%Y-%m-%d %H:%M %Z}" if opening else ""
    return f"{schedule.describe()}{when}"


def _opening_limit(settings: RunSettings, open_now: int) -> Callable[[], bool]:
    opened = 0

    def can_open() -> bool:
        nonlocal opened
        if settings.max_open_prs is not None and open_now + opened >= settings.max_open_prs:
            return False
        if settings.max_prs_per_run is not None and opened >= settings.max_prs_per_run:
            return False
        opened += 1
        return True

    return can_open


def _proposal(planned: PlannedUpdate) -> Proposal:
    image = planned.reference.found.image
    assert image is not None
    return Proposal(image.name, planned.update.to_text)


def open_pull_images(pulls: PullRequests, base_branch: str) -> frozenset[str]:
    """The images tagbot's open pull requests propose updates of (their state says)."""
    states = [pulls.state(pull) for pull in pulls.open_tagbot_pulls(base_branch).values()]
    return frozenset(proposal.image for state in states if state is not None for proposal in state.proposals)


def present_versions(references: Iterable[Reference]) -> dict[str, frozenset[str]]:
    """Image name -> the versions the scanned references name, as proposals write them."""
    out: dict[str, set[str]] = {}
    for reference in references:
        image = reference.found.image
        if image is not None:
            out.setdefault(image.name, set()).add(short_version(image.tag, image.digest))
    return {name: frozenset(versions) for name, versions in out.items()}


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
