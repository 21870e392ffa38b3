"""The one seam to the GitHub REST API, and the only module that imports PyGithub: loading it
costs a tenth of a second that `scan`, `check` and the pre-commit hook should not pay."""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from github import Auth, Github, GithubException

from tagbot.errors import GitHubError
from tagbot.git import BRANCH_PREFIX, redact
from tagbot.org import RepositoryInfo
from tagbot.pr.automerge import Checks, checks_from
from tagbot.pr.grouping import Group
from tagbot.pr.identity import BOT_LOGIN_ENV, Identity, stranger_note
from tagbot.pr.state import Proposal, State, is_dashboard, parse_state, with_state

DEFAULT_API_URL = "https://api.github.com"
# GitHub asks integrations to leave a second between writes (its secondary rate limits);
# PyGithub waits so by itself. The test suite's fake GitHub sets these to zero.
SECONDS_BETWEEN_REQUESTS = 0.25
SECONDS_BETWEEN_WRITES = 1.0
DECLINES_READ = 300  # closed pull requests read for declines, newest first
REVIEWS_READ = 300  # reviews of one pull request read for a request for changes
CHECK_RUNS_READ = 100  # check runs on one commit; more and the pull request is not merged
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?")


@dataclass(frozen=True)
class Release:
    tag: str
    url: str
    notes: str  # as its authors wrote it: untrusted Markdown
    repository: str  # owner/name the release belongs to, for its notes' `#12` references


class PullRequests:
    """The one seam to the GitHub REST API (PyGithub), pointed at `api_url` (GitHub Enterprise
    and the test suite's fake work the same)."""

    def __init__(self, repository: str, token: str, api_url: str = DEFAULT_API_URL, *,
                 bot_login: str | None = None, branch_prefix: str = BRANCH_PREFIX) -> None:
        self._token = token
        self.branch_prefix = branch_prefix  # only branches under it can be tagbot's
        self._client = _client(token, api_url)
        # Other repositories (an image's source) are only asked for a release: no request for
        # the repository itself first.
        self._lazy = _client(token, api_url, lazy=True)
        self.repo = self._call(lambda: self._client.get_repo(repository))
        self.identity = Identity(self._login(bot_login), str(self.repo.full_name))
        self.notices: list[str] = []  # what the run should say once: strangers' pull requests, unreadable states
        # Branches of this repository with someone else's open pull request: GitHub allows one
        # a branch, so tagbot cannot open its own there.
        self.taken_branches: dict[str, int] = {}
        self._open: dict[str, dict[str, Any]] = {}  # by base branch

    @property
    def default_branch(self) -> str:
        return str(self.repo.default_branch)

    def _login(self, fallback: str | None) -> str:
        """The token's login (see `identity`): `GET /user`, else GraphQL's viewer, else `fallback`."""
        try:
            return str(self._client.get_user().login)
        except GithubException as e:
            if e.status == 401:  # a bad token, not a kind of token
                raise _github_error(e, self._token) from None
        try:
            _, answer = self._client.requester.graphql_query("query { viewer { login } }", {})
            login = answer["data"]["viewer"]["login"]
            if isinstance(login, str) and _LOGIN.fullmatch(login):
                return login
        except (GithubException, KeyError, TypeError):
            pass
        if fallback and _LOGIN.fullmatch(fallback):
            return fallback
        if fallback:
            raise GitHubError(f"{BOT_LOGIN_ENV}: expected a GitHub login such as github-actions[bot] or my-app[bot]")
        raise GitHubError("cannot tell which account the token is (GET /user and GraphQL viewer were refused): "
                          f"set {BOT_LOGIN_ENV} (the Action's bot-login input) to its login, "
                          "such as github-actions[bot] or my-app[bot]")

    def owns(self, pull: Any) -> bool:
        return self.identity.owns_pull(_author(pull), _head_repository(pull))

    def state(self, pull: Any) -> State | None:
        """The state `pull` carries; one that cannot be read is said once and taken as none."""
        state, problem = parse_state(pull.body)
        if problem:
            self._note(f"#{pull.number}: its tagbot state cannot be read ({problem}); taken as holding none")
        return state

    def _note(self, text: str) -> None:
        if text not in self.notices:
            self.notices.append(text)

    def open_tagbot_pulls(self, base: str) -> dict[str, Any]:
        """tagbot's own open pull requests, by branch; anyone else's on a tagbot branch is noted
        and left alone. Listed once a run."""
        if base in self._open:
            return self._open[base]
        pulls = self._call(lambda: list(self.repo.get_pulls(state="open", base=base)))
        own = {}
        for pull in pulls:
            if not pull.head.ref.startswith(self.branch_prefix):
                continue
            author, head = _author(pull), _head_repository(pull)
            if self.identity.owns_pull(author, head):
                own[pull.head.ref] = pull
                continue
            self._note(stranger_note(pull.number, pull.head.ref, author, head, self.identity))
            if head == self.identity.repository:
                self.taken_branches[pull.head.ref] = pull.number
        self._open[base] = own
        return own

    def declined(self, base: str) -> dict[Proposal, Any]:
        """Each version a person declined (a tagbot pull request closed without merging, not by
        tagbot, and not un-declined since), with the pull request that proposed it."""
        # The most recently closed: a busy repository's older history costs a request per 30.
        recent = self.repo.get_pulls(state="closed", base=base, sort="updated", direction="desc")
        pulls = self._call(lambda: list(itertools.islice(recent, DECLINES_READ)))
        declined: dict[Proposal, Any] = {}
        for pull in pulls:
            if not (pull.head.ref.startswith(self.branch_prefix) and pull.merged_at is None and self.owns(pull)):
                continue
            state = self.state(pull)
            if state and state.declines:
                declined.update((proposal, pull) for proposal in state.proposals)
        return declined

    def undecline(self, pull: Any) -> None:
        """Mark a closed pull request as no longer declining what it proposed."""
        state = self.state(pull)
        if state is not None:
            self._call(lambda: pull.edit(body=with_state(pull.body or "", replace(state, undeclined=True))))

    def dashboard(self, title: str) -> Any | None:
        """tagbot's own open dashboard issue, found by its hidden mark (its title may be renamed);
        an issue anyone else opened is never it, whatever it holds."""
        issues = self._call(lambda: list(self.repo.get_issues(state="open")))
        # By the mark alone: asking a listed issue whether it is a pull request costs a request each.
        return next((i for i in issues if is_dashboard(i.body) and self.identity.owns_issue(_author(i))), None)

    def write_dashboard(self, issue: Any | None, title: str, body: str) -> str:
        """Open the dashboard issue, or bring it up to date; "open", "update" or "unchanged"."""
        if issue is None:
            self._call(lambda: self.repo.create_issue(title=title, body=body))
            return "open"
        if issue.body == body and issue.title == title:
            return "unchanged"
        self._call(lambda: issue.edit(title=title, body=body))
        return "update"

    def create(self, *, branch: str, base: str, title: str, body: str, group: Group, draft: bool) -> Any:
        """Open a pull request with the labels, reviewers and assignees its updates' rules ask for."""
        pull = self._call(lambda: self.repo.create_pull(title=title, body=body, base=base, head=branch, draft=draft))
        if group.labels:
            self._call(lambda: pull.add_to_labels(*group.labels))
        if group.reviewers:
            self._call(lambda: pull.create_review_request(reviewers=list(group.reviewers)))
        if group.assignees:
            self._call(lambda: pull.add_to_assignees(*group.assignees))
        return pull

    def edit(self, pull: Any, *, title: str, body: str) -> None:
        self._call(lambda: pull.edit(title=title, body=body))

    def close(self, pull: Any, comment: str) -> None:
        """Close with `comment`, marked as closed by tagbot (so no one reads it as a decline),
        and delete its branch."""
        state = self.state(pull)
        body = with_state(pull.body or "", replace(state, closed_by_tagbot=True)) if state else pull.body
        self._call(lambda: pull.create_issue_comment(comment))
        self._call(lambda: pull.edit(state="closed", body=body))
        self._call(lambda: self.repo.get_git_ref(f"heads/{pull.head.ref}").delete())

    def keep_in_step(self, pull: Any, group: Group, *, draft: bool) -> bool:
        """Give an open pull request the labels, reviewers, assignees and draft state the config
        asks for now; people's own additions stay. Whether anything had to be written."""
        labels = [name for name in group.labels if name not in {label.name for label in pull.labels}]
        reviewers = [name for name in group.reviewers if name not in {user.login for user in pull.requested_reviewers}]
        assignees = [name for name in group.assignees if name not in {user.login for user in pull.assignees}]
        draft_change = bool(pull.draft) != draft
        if labels:
            self._call(lambda: pull.add_to_labels(*labels))
        if reviewers:
            self._call(lambda: pull.create_review_request(reviewers=reviewers))
        if assignees:
            self._call(lambda: pull.add_to_assignees(*assignees))
        if draft_change:
            self._call(pull.convert_to_draft if draft else pull.mark_ready_for_review)
        return bool(labels or reviewers or assignees or draft_change)

    @property
    def allows_auto_merge(self) -> bool:
        """Whether the repository lets pull requests merge themselves (its "Allow auto-merge")."""
        return self.repo.allow_auto_merge is True

    def tagbot_auto_merge(self, pull: Any) -> str | None:
        """The merge method of GitHub's auto-merge on `pull`, when tagbot's identity turned it on."""
        enabled = pull.auto_merge
        by = enabled.get("enabled_by") if isinstance(enabled, dict) else None
        login = by.get("login") if isinstance(by, dict) else None
        if not (isinstance(login, str) and self.identity.owns_issue(login)):
            return None
        method = enabled.get("merge_method") if isinstance(enabled, dict) else None
        return method.lower() if isinstance(method, str) and method.lower() in ("merge", "squash", "rebase") else "merge"

    def changes_requested(self, pull: Any) -> list[str]:
        """The people whose latest review of `pull` asks for changes."""
        reviews = self._call(lambda: list(itertools.islice(pull.get_reviews(), REVIEWS_READ)))
        latest: dict[str, str] = {}
        for review in reviews:  # oldest first: a later approval or dismissal ends a request
            if review.user is not None and review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
                latest[str(review.user.login)] = str(review.state)
        return sorted(login for login, state in latest.items() if state == "CHANGES_REQUESTED")

    def checks(self, sha: str) -> Checks:
        """The commit statuses and check runs on commit `sha` (one request each)."""
        base = f"{self.repo.url}/commits/{sha}"
        _, status = self._call(lambda: self._client.requester.requestJsonAndCheck("GET", f"{base}/status"))
        _, runs = self._call(lambda: self._client.requester.requestJsonAndCheck(
            "GET", f"{base}/check-runs", parameters={"per_page": CHECK_RUNS_READ}))
        statuses = [(_text(s.get("context")), _text(s.get("state"))) for s in _listed(status, "statuses")]
        counted = status.get("total_count") if isinstance(status, dict) else None
        listed = [(_text(r.get("name")), _text(r.get("conclusion")) if r.get("status") == "completed" else None)
                  for r in _listed(runs, "check_runs")]
        total = runs.get("total_count") if isinstance(runs, dict) else None
        unread = (max(0, total - len(listed)) if isinstance(total, int) else 0) + (
            max(0, counted - len(statuses)) if isinstance(counted, int) else 0)
        return checks_from(statuses, listed, unread=unread)

    def mergeable(self, pull: Any) -> bool | None:
        """Whether GitHub can merge `pull` now; None while it has not worked it out. Reading it
        reads the pull request by itself (a listing does not say)."""
        value = self._call(lambda: pull.mergeable)
        return value if isinstance(value, bool) else None

    def enable_auto_merge(self, pull: Any, method: str, *, head: str) -> None:
        """GitHub's auto-merge for `pull`, only while its head is `head` (the commit tagbot made)."""
        self._call(lambda: pull.enable_automerge(merge_method=method.upper(), expected_head_oid=head))

    def disable_auto_merge(self, pull: Any) -> None:
        self._call(lambda: pull.disable_automerge())

    def merge(self, pull: Any, *, sha: str, method: str, title: str) -> None:
        """Merge `pull` by `method`, only if its head is still `sha` (the commit tagbot checked)."""
        self._call(lambda: pull.merge(merge_method=method, sha=sha, commit_title=title))

    def release(self, repository: str, tags: Sequence[str]) -> Release | None:
        """The first of `tags` (`1.2.0`, `v1.2.0`) that `repository` has a GitHub release for."""
        for tag in tags:
            try:
                found = self._lazy.get_repo(repository).get_release(tag)
            except GithubException:
                continue  # no such release (404), or a repository this token cannot read
            if found.tag_name == tag:  # the name asked for, so a tag by the grammar
                return Release(tag, str(found.html_url), str(found.body or ""), repository)
        return None

    def _call(self, request: Callable[[], Any]) -> Any:
        return _call(request, self._token)


class Organisation:
    """An organisation's (or a user's) repositories and their files, read through the API
    without cloning: what `tagbot org` plans and looks up from."""

    def __init__(self, token: str, api_url: str = DEFAULT_API_URL) -> None:
        self._token = token
        self._client = _client(token, api_url, per_page=100)

    def repositories(self, owner: str) -> list[RepositoryInfo]:
        """Every repository of `owner`, an organisation or else a user."""
        def listed() -> list[Any]:
            try:
                return list(self._client.get_organization(owner).get_repos(type="all"))
            except GithubException as e:
                if e.status != 404:
                    raise
                return list(self._client.get_user(owner).get_repos(type="owner"))

        repos = _call(listed, self._token)
        return [RepositoryInfo(str(r.full_name), str(r.default_branch), bool(r.archived), bool(r.fork),
                               bool(getattr(r, "disabled", False)), tuple(r.topics or ())) for r in repos]

    def files(self, repository: str, branch: str, wanted: Callable[[str], bool]) -> dict[str, bytes]:
        """The files of `branch` whose paths `wanted` claims: one request for the tree, one a file."""
        repo = _call(lambda: self._client.get_repo(repository), self._token)
        tree = _call(lambda: repo.get_git_tree(branch, recursive=True), self._token)
        found: dict[str, bytes] = {}
        for element in tree.tree:
            if element.type == "blob" and wanted(element.path):
                blob = _call(lambda: repo.get_git_blob(element.sha), self._token)
                found[element.path] = base64.b64decode(blob.content) if blob.encoding == "base64" else str(blob.content).encode()
        return found


def _listed(answer: Any, key: str) -> list[dict[str, Any]]:
    """The objects under `key` of an answer, whatever else it holds: it is data from a server."""
    items = answer.get(key) if isinstance(answer, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _text(value: Any) -> str:
    """A name or state from an answer, bounded: anything but a string is no name at all ("?")."""
    return value[:200] if isinstance(value, str) and value else "?"


def _author(item: Any) -> str | None:
    return str(item.user.login) if item.user is not None else None


def _head_repository(pull: Any) -> str | None:
    """owner/name of the branch's repository; None when it was a fork that is gone."""
    return str(pull.head.repo.full_name) if pull.head.repo is not None else None


def _client(token: str, api_url: str, **options: Any) -> Github:
    # Read at each call: the test suite sets the paces to zero for its fake GitHub.
    return Github(auth=Auth.Token(token), base_url=api_url, retry=None, seconds_between_requests=SECONDS_BETWEEN_REQUESTS,
                  seconds_between_writes=SECONDS_BETWEEN_WRITES, **options)


def _call(request: Callable[[], Any], token: str) -> Any:
    try:
        return request()
    except GithubException as e:
        # `from None`: PyGithub's error may carry request headers, the token among them.
        raise _github_error(e, token) from None


def _github_error(e: GithubException, token: str) -> GitHubError:
    message = e.data.get("message") if isinstance(e.data, dict) else None
    return GitHubError(redact(f"GitHub API: {e.status} {message or ''}".strip(), [token]))
