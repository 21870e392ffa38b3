"""Pull requests: group the updates, build one branch and commit per group, and keep one PR per
branch in step with the plan: opened, updated in place, closed when the base has caught up.

A second run with nothing new makes no commit and no API write. A branch with commits tagbot
did not make belongs to a person now: it is reported, never force-pushed.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from github import Auth, Github, GithubException

from tagbot.config import RunSettings
from tagbot.errors import GitHubError
from tagbot.git import BRANCH_PREFIX, Workspace, redact
from tagbot.pipeline import HeldBack, PlannedUpdate, file_changes
from tagbot.platforms import short_platform
from tagbot.refs import ImageRef, short_version
from tagbot.rewrite import write_change

DEFAULT_API_URL = "https://api.github.com"
TOKEN_ENV, REPOSITORY_ENV, API_URL_ENV = "GITHUB_TOKEN", "GITHUB_REPOSITORY", "GITHUB_API_URL"
CLOSING_COMMENT = "The base branch already has these image versions (or needs them no more), so tagbot closes this pull request."


@dataclass(frozen=True)
class Group:
    name: str  # the branch is tagbot/<name>
    updates: tuple[PlannedUpdate, ...]

    @property
    def branch(self) -> str:
        return BRANCH_PREFIX + self.name


@dataclass(frozen=True)
class Action:
    """What the run did (or, in a dry run, would do) to one pull request."""

    kind: str  # open, update, close, unchanged, skip
    branch: str
    title: str
    detail: str = ""
    url: str = ""


# --- grouping -------------------------------------------------------------------------------

def group_updates(updates: Sequence[PlannedUpdate], settings: RunSettings) -> list[Group]:
    """Updates by `groups` first, then `group_by`; majors apart unless `separate_major: false`."""
    grouped: dict[str, list[PlannedUpdate]] = {}
    for planned in updates:
        grouped.setdefault(_group_name(planned, settings), []).append(planned)
    return [Group(name, tuple(members)) for name, members in sorted(grouped.items())]


def _group_name(planned: PlannedUpdate, settings: RunSettings) -> str:
    image = planned.reference.found.image
    assert image is not None
    named = next((name for name, globs in settings.groups if _matches(image, globs)), None)
    kind = planned.update.update_type
    if named is not None:
        base = named
    elif settings.group_by == "all":
        base = "all"
    elif settings.group_by == "update_type":
        return kind
    else:
        base = _slug(image.short_name)
    return f"{base}-major" if kind == "major" and settings.separate_major else base


def _matches(image: ImageRef, globs: Sequence[str]) -> bool:
    names = (image.short_name, image.repository, image.name) if image.is_docker_hub else (image.name,)
    return any(fnmatch.fnmatchcase(name, glob) for glob in globs for name in names)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-")


# --- text -----------------------------------------------------------------------------------

def pr_title(group: Group) -> str:
    images = sorted({_image(p).short_name for p in group.updates})
    targets = {(p.update.to_tag, p.update.update_type) for p in group.updates}
    if len(images) == 1 and len(targets) == 1:
        (tag, kind), = targets
        if kind == "pin":
            return f"Pin {images[0]} to its digest"
        if kind == "digest":
            return f"Update {images[0]}:{tag or 'latest'} digest"
        return f"Update {images[0]} to {tag}"
    if len(images) == 1:
        return f"Update {images[0]}"
    shown = ", ".join(images[:3]) + (f" and {len(images) - 3} more" if len(images) > 3 else "")
    return f"Update {shown}"


def commit_message(group: Group) -> str:
    lines = [pr_title(group), ""]
    for planned in group.updates:
        reference, update = planned.reference, planned.update
        lines.append(f"- {reference.file}:{reference.line} {_image(planned).short_name} "
                     f"{short_version(update.from_tag, update.from_digest)} -> {short_version(update.to_tag, update.to_digest)}")
    return "\n".join(lines) + "\n"


def pr_body(group: Group, held_back: Sequence[HeldBack]) -> str:
    """The PR description; stable for a stable plan, so a re-run edits nothing."""
    rows: dict[tuple[str, str, str], list[PlannedUpdate]] = {}
    for planned in group.updates:
        update = planned.update
        key = (_image(planned).name, short_version(update.from_tag, update.from_digest), short_version(update.to_tag, update.to_digest))
        rows.setdefault(key, []).append(planned)
    lines = [
        "tagbot found newer versions of these container images.",
        "",
        "| Image | Where | Update | Type | Platforms | Size | Published |",
        "|---|---|---|---|---|---|---|",
    ]
    for (_, old, new), members in rows.items():
        first = members[0]
        update = first.update
        where = ", ".join(f"`{p.reference.file}:{p.reference.line}`" for p in members)
        platforms = ", ".join(sorted(map(short_platform, update.platforms))) or "unknown"
        published = update.last_updated.date().isoformat() if update.last_updated else "unknown"
        lines.append(f"| {_image_link(_image(first))} | {where} | `{old}` → `{new}` | {update.update_type} "
                     f"| {platforms} | {_size(update.size, update.from_size)} | {published} |")
    files = {p.reference.file for p in group.updates}
    notes = [h for h in held_back if h.reference.file in files and h.reference.found.image is not None
             and h.reference.found.image.name in {_image(p).name for p in group.updates}]
    if notes:
        lines += ["", "**Held back**", ""]
        lines += [f"- `{h.reference.file}:{h.reference.line}` {h.reference.found.text}: {h.reason}" for h in notes]
    first_image = _image(group.updates[0]).short_name
    first_tag = group.updates[0].update.to_tag or "latest"
    lines += [
        "", "---", "",
        "To skip an update, tell tagbot in `tagbot.yaml` (then close this pull request):",
        "", "```yaml", "rules:", f"  - match: {first_image}", f'    ignore: ["{first_tag}"]', "```",
    ]
    return "\n".join(lines) + "\n"


def _image(planned: PlannedUpdate) -> ImageRef:
    image = planned.reference.found.image
    assert image is not None
    return image


def _image_link(image: ImageRef) -> str:
    if not image.is_docker_hub:
        return f"`{image.name}`"
    namespace, _, name = image.repository.partition("/")
    path = f"_/{name}" if namespace == "library" else f"r/{image.repository}"
    return f"[{image.short_name}](https://hub.docker.com/{path})"


def _size(size: int | None, before: int | None) -> str:
    if size is None:
        return "unknown"
    text = f"{size / 1e6:.1f} MB"
    if before is not None and before != size:
        text += f" ({(size - before) / 1e6:+.1f} MB)"
    return text


# --- the GitHub API ---------------------------------------------------------------------------

class PullRequests:
    """The one seam to the GitHub REST API (PyGithub), pointed at `api_url` (GitHub Enterprise
    and the test suite's fake work the same)."""

    def __init__(self, repository: str, token: str, api_url: str = DEFAULT_API_URL) -> None:
        self._token = token
        self._client = Github(auth=Auth.Token(token), base_url=api_url, retry=None)
        self.repo = self._call(lambda: self._client.get_repo(repository))

    @property
    def default_branch(self) -> str:
        return str(self.repo.default_branch)

    def open_tagbot_pulls(self, base: str) -> dict[str, Any]:
        pulls = self._call(lambda: list(self.repo.get_pulls(state="open", base=base)))
        return {pull.head.ref: pull for pull in pulls if pull.head.ref.startswith(BRANCH_PREFIX)}

    def closed_with_title(self, branch: str, base: str, title: str) -> bool:
        """Whether a pull request from `branch` with this very title was closed before."""
        head = f"{self.repo.owner.login}:{branch}"
        pulls = self._call(lambda: list(self.repo.get_pulls(state="closed", base=base, head=head)))
        return any(pull.title == title for pull in pulls)

    def create(self, *, branch: str, base: str, title: str, body: str, settings: RunSettings) -> Any:
        pull = self._call(lambda: self.repo.create_pull(title=title, body=body, base=base, head=branch, draft=settings.draft))
        if settings.labels:
            self._call(lambda: pull.add_to_labels(*settings.labels))
        if settings.reviewers:
            self._call(lambda: pull.create_review_request(reviewers=list(settings.reviewers)))
        if settings.assignees:
            self._call(lambda: pull.add_to_assignees(*settings.assignees))
        return pull

    def edit(self, pull: Any, *, title: str, body: str) -> None:
        self._call(lambda: pull.edit(title=title, body=body))

    def close(self, pull: Any, comment: str) -> None:
        self._call(lambda: pull.create_issue_comment(comment))
        self._call(lambda: pull.edit(state="closed"))
        self._call(lambda: self.repo.get_git_ref(f"heads/{pull.head.ref}").delete())

    def _call(self, request: Callable[[], Any]) -> Any:
        try:
            return request()
        except GithubException as e:
            message = e.data.get("message") if isinstance(e.data, dict) else None
            # `from None`: PyGithub's error may carry request headers, the token among them.
            raise GitHubError(redact(f"GitHub API: {e.status} {message or ''}".strip(), [self._token])) from None


# --- the sync ---------------------------------------------------------------------------------

@dataclass
class SyncContext:
    workspace: Workspace
    pulls: PullRequests
    settings: RunSettings
    base_branch: str
    base_commit: str
    dry_run: bool


def sync_group(context: SyncContext, group: Group, held_back: Sequence[HeldBack], open_pulls: dict[str, Any],
               can_open: Callable[[], bool]) -> Action:
    """Bring one group's branch and pull request in step with the plan."""
    workspace, pulls = context.workspace, context.pulls
    title, body = pr_title(group), pr_body(group, held_back)
    tree_path = workspace.start(context.base_commit)
    changes, failures = file_changes(group.updates, tree_path)
    if failures:
        return Action("skip", group.branch, title, "; ".join(f.message for f in failures))
    for change in changes:
        write_change(change)
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
) -> list[Action]:
    """Open, update and close tagbot's pull requests. Stale ones are closed only after a
    `complete` run (every image looked up): a failed lookup must not look like "up to date"."""
    open_pulls = pulls.open_tagbot_pulls(base_branch)
    context = SyncContext(workspace, pulls, settings, base_branch, base_commit, dry_run)
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
