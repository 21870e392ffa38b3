"""A fake GitHub REST API on loopback, for PyGithub pointed at it with `base_url`.

It keeps pull requests, comments, labels and review requests in memory, and reads and deletes
branches in a real bare git repository (the remote the tests push to), so the API and git agree.
Every request is recorded as (method, path) so tests can prove a run wrote nothing.

Merging: the repository setting that allows auto-merge (`allow_auto_merge`), commit statuses
and check runs by commit (`add_status`, `add_check_run`), each pull request's mergeability and
reviews (`add_review`), the merge itself (`PUT .../merge`, refused for a moved head or an
unmergeable pull request) and GraphQL's auto-merge mutations.

Strangers live here too: pull requests from forks (`head_repo` another repository) and issues
and pull requests by other users (`add_pull`, `add_issue`). The token is a person's (`GET /user`
answers its login) or, with `app_token`, an installation's: `GET /user` is refused as GitHub
refuses it, and GraphQL `viewer` names the bot (`viewer_refused` refuses that too).
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.loopback import serve

WRITES = ("POST", "PATCH", "PUT", "DELETE")
DELETED_FORK = "(deleted fork)"  # a head_repo GitHub answers as null


@dataclass
class FakeGitHub:
    remote: Path  # the bare repository behind the fake
    repository: str = "acme/app"
    token: str = "ghp-test-token"
    login: str = "tagbot-ci"  # whose token it is: the author of what tagbot opens
    app_token: bool = False  # an installation token (GITHUB_TOKEN, a GitHub App's): no GET /user
    viewer_refused: bool = False  # GraphQL `viewer` refused as well
    default_branch: str = "main"
    archived: bool = False
    fork: bool = False
    topics: tuple[str, ...] = ()
    allow_auto_merge: bool = False  # the repository's "Allow auto-merge" setting
    statuses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # commit -> statuses, oldest first
    check_runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # commit -> check runs
    pulls: list[dict[str, Any]] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)  # issues that are not pull requests
    releases: dict[tuple[str, str], str] = field(default_factory=dict)  # (owner/name, tag) -> notes, of any repository
    requests: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] in WRITES]

    def open_pulls(self) -> list[dict[str, Any]]:
        return [p for p in self.pulls if p["state"] == "open"]

    def add_pull(self, head: str, *, title: str = "A change", body: str = "", user: str | None = None,
                 head_repo: str | None = None, state: str = "open", base: str = "main") -> dict[str, Any]:
        """A pull request someone else opened: by `user`, from `head_repo` (a fork) when given."""
        pull = {"number": self._next_number(), "state": state, "title": title, "body": body, "head": head, "base": base,
                "draft": False, "labels": [], "reviewers": [], "assignees": [], "comments": [],
                "user": user or self.login, "head_repo": head_repo or self.repository}
        self.pulls.append(pull)
        return pull

    def add_status(self, sha: str, context: str, state: str) -> None:
        """A commit status (success, pending, failure or error), as a CI service posts it."""
        self.statuses.setdefault(sha, []).append({"context": context, "state": state})

    def add_check_run(self, sha: str, name: str, conclusion: str | None) -> None:
        """A check run: finished with `conclusion` (success, failure, neutral, skipped...), or in
        progress when None."""
        self.check_runs.setdefault(sha, []).append({"name": name, "conclusion": conclusion})

    def add_review(self, pull: dict[str, Any], user: str, state: str) -> None:
        """A review: APPROVED, CHANGES_REQUESTED, COMMENTED or DISMISSED."""
        pull.setdefault("reviews", []).append({"user": user, "state": state})

    def pull_on(self, branch: str) -> dict[str, Any]:
        return next(p for p in self.pulls if p["head"] == branch and p["head_repo"] == self.repository)

    def add_issue(self, *, title: str, body: str, user: str) -> dict[str, Any]:
        issue = {"number": self._next_number(), "state": "open", "title": title, "body": body, "user": user}
        self.issues.append(issue)
        return issue

    def branch_sha(self, branch: str) -> str | None:
        result = subprocess.run(["git", "-C", str(self.remote), "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
                                capture_output=True, text=True)
        return result.stdout.strip() or None

    # --- routing -----------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], body: Any, auth: str | None) -> tuple[int, Any]:
        with self._lock:
            # A GraphQL query reads; only its mutations write.
            reads = path == "/graphql" and isinstance(body, dict) and str(body.get("query", "")).lstrip().startswith("query")
            self.requests.append(("QUERY" if reads else method, path))
            if auth not in (f"token {self.token}", f"Bearer {self.token}"):
                return 401, {"message": "Bad credentials"}
            if path == "/user" and method == "GET":
                if self.app_token:
                    return 403, {"message": "Resource not accessible by integration"}
                return 200, {"login": self.login, "id": 1, "type": "User", "url": f"{self.url}/users/{self.login}"}
            if path == "/graphql" and method == "POST":
                return self._graphql(body)
            release = re.fullmatch(r"/repos/([^/]+/[^/]+)/releases/tags/(.+)", path)
            if release and method == "GET":
                return self._release(*release.groups())
            prefix = f"/repos/{self.repository}"
            if not path.startswith(prefix):
                return 404, {"message": "Not Found"}
            rest = path[len(prefix):]
            for pattern, allowed, handler in self._routes():
                match = re.fullmatch(pattern, rest)
                if match and method == allowed:
                    return handler(query, body, *match.groups())
            return 404, {"message": f"fake GitHub has no {method} {rest}"}

    def _routes(self) -> list[tuple[str, str, Any]]:
        return [
            (r"", "GET", self._repo),
            (r"/pulls", "GET", self._list_pulls),
            (r"/pulls", "POST", self._create_pull),
            (r"/pulls/(\d+)", "GET", lambda q, b, n: (200, self._pull_json(self._pull(n)))),
            (r"/pulls/(\d+)", "PATCH", self._edit_pull),
            (r"/pulls/(\d+)/requested_reviewers", "POST", self._request_reviewers),
            (r"/pulls/(\d+)/reviews", "GET", self._reviews),
            (r"/pulls/(\d+)/merge", "PUT", self._merge),
            (r"/commits/([0-9a-f]{40})/status", "GET", self._combined_status),
            (r"/commits/([0-9a-f]{40})/check-runs", "GET", self._check_runs),
            (r"/issues", "GET", self._list_issues),
            (r"/issues", "POST", self._create_issue),
            (r"/issues/(\d+)", "PATCH", self._edit_issue),
            (r"/issues/(\d+)/comments", "POST", self._comment),
            (r"/issues/(\d+)/labels", "POST", self._label),
            (r"/issues/(\d+)/assignees", "POST", self._assign),
            (r"/git/ref/heads/(.+)", "GET", self._get_ref),
            (r"/git/trees/(.+)", "GET", self._tree),
            (r"/git/blobs/([0-9a-f]+)", "GET", self._blob),
            (r"/git/refs/heads/(.+)", "DELETE", self._delete_ref),
        ]

    # --- handlers ----------------------------------------------------------------------

    def _repo(self, query: dict[str, str], body: Any) -> tuple[int, Any]:
        return 200, self.repository_json()

    def _list_pulls(self, query: dict[str, str], body: Any) -> tuple[int, Any]:
        pulls = [p for p in self.pulls if query.get("state", "open") in ("all", p["state"])]
        if "base" in query:
            pulls = [p for p in pulls if p["base"] == query["base"]]
        if "head" in query:
            pulls = [p for p in pulls if self._head_label(p) == query["head"]]
        listed = [self._pull_json(p) for p in pulls]
        for pull in listed:  # only a pull request read by itself says whether it is mergeable
            del pull["mergeable"], pull["mergeable_state"]
        return 200, listed

    def _create_pull(self, query: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        head, base = body["head"], body["base"]
        if self.branch_sha(head) is None:
            return 422, {"message": "Validation Failed", "errors": [{"field": "head", "code": "invalid"}]}
        if any(p["head"] == head and p["head_repo"] == self.repository and p["state"] == "open" for p in self.pulls):
            return 422, {"message": f"A pull request already exists for {head}."}
        pull = {
            "number": self._next_number(), "state": "open", "title": body["title"], "body": body.get("body", ""),
            "head": head, "base": base, "draft": bool(body.get("draft")), "labels": [], "reviewers": [],
            "assignees": [], "comments": [], "user": self.login, "head_repo": self.repository,
        }
        self.pulls.append(pull)
        return 201, self._pull_json(pull)

    def _next_number(self) -> int:
        """Issues and pull requests share one sequence of numbers, as on GitHub."""
        return len(self.pulls) + len(self.issues) + 1

    def _list_issues(self, query: dict[str, str], body: Any) -> tuple[int, Any]:
        state = query.get("state", "open")
        issues = [self._issue_json(i) for i in self.issues if state in ("all", i["state"])]
        pulls = [{**self._issue_json(p), "pull_request": {"url": self._pull_json(p)["url"]}}
                 for p in self.pulls if state in ("all", p["state"])]
        # Newest first, as GitHub lists them by default.
        return 200, sorted(issues + pulls, key=lambda i: -i["number"])

    def _create_issue(self, query: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        issue = {"number": self._next_number(), "state": "open", "title": body["title"], "body": body.get("body", ""),
                 "user": self.login}
        self.issues.append(issue)
        return 201, self._issue_json(issue)

    def _edit_issue(self, query: dict[str, str], body: dict[str, Any], number: str) -> tuple[int, Any]:
        issue = next(i for i in self.issues if i["number"] == int(number))
        for key in ("title", "body", "state"):
            if body.get(key) is not None:
                issue[key] = body[key]
        return 200, self._issue_json(issue)

    def _issue_json(self, issue: dict[str, Any]) -> dict[str, Any]:
        api = f"{self.url}/repos/{self.repository}"
        return {"number": issue["number"], "state": issue["state"], "title": issue["title"], "body": issue["body"],
                "url": f"{api}/issues/{issue['number']}", "html_url": f"https://github.example/{self.repository}/issues/{issue['number']}",
                "user": {"login": issue.get("user", self.login)}, "labels": []}

    def _edit_pull(self, query: dict[str, str], body: dict[str, Any], number: str) -> tuple[int, Any]:
        pull = self._pull(number)
        for key in ("title", "body", "state"):  # GitHub lets the base repository's writers edit any of them
            if body.get(key) is not None:
                pull[key] = body[key]
        return 200, self._pull_json(pull)

    def _request_reviewers(self, query: dict[str, str], body: dict[str, Any], number: str) -> tuple[int, Any]:
        self._pull(number)["reviewers"] += body.get("reviewers", [])
        return 201, self._pull_json(self._pull(number))

    def _reviews(self, query: dict[str, str], body: Any, number: str) -> tuple[int, Any]:
        reviews = self._pull(number).get("reviews", [])
        return 200, [{"id": i + 1, "user": {"login": r["user"]}, "state": r["state"], "body": "",
                      "submitted_at": f"2026-08-20T00:00:{i:02d}Z"} for i, r in enumerate(reviews)]

    def _merge(self, query: dict[str, str], body: dict[str, Any], number: str) -> tuple[int, Any]:
        """Merge as GitHub does: only the head the caller saw (`sha`), only a mergeable pull
        request; the base branch moves to the head (every tagbot branch sits on the base)."""
        pull = self._pull(number)
        head = self.branch_sha(pull["head"])
        if pull["state"] != "open" or pull.get("mergeable") is False:
            return 405, {"message": "Pull Request is not mergeable"}
        if body.get("sha") and body["sha"] != head:
            return 409, {"message": "Head branch was modified. Review and try the merge again."}
        self._git("update-ref", f"refs/heads/{pull['base']}", head)
        pull.update(state="closed", merged=True, merge_method=body.get("merge_method", "merge"))
        return 200, {"sha": head, "merged": True, "message": "Pull Request successfully merged"}

    def _combined_status(self, query: dict[str, str], body: Any, sha: str) -> tuple[int, Any]:
        latest = {s["context"]: s for s in self.statuses.get(sha, [])}  # GitHub keeps the latest per context
        states = {s["state"] for s in latest.values()}
        combined = ("failure" if states & {"failure", "error"} else "pending" if "pending" in states or not states
                    else "success")
        return 200, {"state": combined, "sha": sha, "total_count": len(latest), "statuses": [
            {"context": c, "state": s["state"], "id": i} for i, (c, s) in enumerate(latest.items())]}

    def _check_runs(self, query: dict[str, str], body: Any, sha: str) -> tuple[int, Any]:
        runs = [{"id": i + 1, "name": r["name"], "head_sha": sha, "conclusion": r["conclusion"],
                 "status": "completed" if r["conclusion"] else "in_progress"}
                for i, r in enumerate(self.check_runs.get(sha, []))]
        return 200, {"total_count": len(runs), "check_runs": runs}

    def _comment(self, query: dict[str, str], body: dict[str, Any], number: str) -> tuple[int, Any]:
        self._pull(number)["comments"].append(body["body"])
        return 201, {"id": 1, "body": body["body"], "url": f"{self.url}/comment/1"}

    def _label(self, query: dict[str, str], body: Any, number: str) -> tuple[int, Any]:
        names = body if isinstance(body, list) else body.get("labels", [])
        self._pull(number)["labels"] += names
        return 200, [{"name": n} for n in names]

    def _assign(self, query: dict[str, str], body: dict[str, Any], number: str) -> tuple[int, Any]:
        pull = self._pull(number)
        pull["assignees"] += body.get("assignees", [])
        return 201, {"number": int(number), "assignees": [{"login": a} for a in pull["assignees"]]}

    def _git(self, *args: str) -> str:
        return subprocess.run(["git", "-C", str(self.remote), *args], check=True, capture_output=True, text=True).stdout

    def _tree(self, query: dict[str, str], body: Any, ref: str) -> tuple[int, Any]:
        listing = self._git("ls-tree", "-r", "-z", ref) if query.get("recursive") else self._git("ls-tree", "-z", ref)
        entries = []
        for line in filter(None, listing.split("\0")):
            meta, path = line.split("\t", 1)
            mode, kind, sha = meta.split()
            entries.append({"path": path, "mode": mode, "type": kind, "sha": sha,
                            "url": f"{self.url}/repos/{self.repository}/git/blobs/{sha}"})
        sha = self._git("rev-parse", f"{ref}^{{tree}}").strip()
        return 200, {"sha": sha, "url": f"{self.url}/repos/{self.repository}/git/trees/{sha}", "tree": entries,
                     "truncated": False}

    def _blob(self, query: dict[str, str], body: Any, sha: str) -> tuple[int, Any]:
        data = subprocess.run(["git", "-C", str(self.remote), "cat-file", "blob", sha], check=True, capture_output=True).stdout
        return 200, {"sha": sha, "size": len(data), "encoding": "base64", "content": base64.b64encode(data).decode(),
                     "url": f"{self.url}/repos/{self.repository}/git/blobs/{sha}"}

    def repository_json(self) -> dict[str, Any]:
        owner, name = self.repository.split("/")
        return {
            "id": abs(hash(self.repository)) % 10**8, "name": name, "full_name": self.repository, "owner": {"login": owner},
            "default_branch": self.default_branch, "url": f"{self.url}/repos/{self.repository}",
            "html_url": f"https://github.example/{self.repository}", "archived": self.archived, "fork": self.fork,
            "disabled": False, "topics": list(self.topics), "allow_auto_merge": self.allow_auto_merge,
        }

    def _get_ref(self, query: dict[str, str], body: Any, branch: str) -> tuple[int, Any]:
        sha = self.branch_sha(branch)
        if sha is None:
            return 404, {"message": "Not Found"}
        url = f"{self.url}/repos/{self.repository}/git/refs/heads/{branch}"
        return 200, {"ref": f"refs/heads/{branch}", "url": url, "object": {"sha": sha, "type": "commit", "url": url}}

    def _delete_ref(self, query: dict[str, str], body: Any, branch: str) -> tuple[int, Any]:
        if self.branch_sha(branch) is None:
            return 422, {"message": "Reference does not exist"}
        subprocess.run(["git", "-C", str(self.remote), "update-ref", "-d", f"refs/heads/{branch}"], check=True)
        return 204, None

    def _release(self, repository: str, tag: str) -> tuple[int, Any]:
        if (repository, tag) not in self.releases:
            return 404, {"message": "Not Found"}
        return 200, {"id": 1, "tag_name": tag, "name": tag, "body": self.releases[(repository, tag)],
                     "html_url": f"https://github.com/{repository}/releases/tag/{tag}",
                     "url": f"{self.url}/repos/{repository}/releases/1"}

    def _graphql(self, body: dict[str, Any]) -> tuple[int, Any]:
        """Who the token is (`viewer`), and the two mutations tagbot sends: a pull request to
        draft and back."""
        query = body["query"]
        if "viewer" in query:
            if self.viewer_refused:
                return 200, {"data": None, "errors": [{"type": "FORBIDDEN", "message": "Resource not accessible by integration"}]}
            return 200, {"data": {"viewer": {"login": self.login}}}
        node = body["variables"]["input"]["pullRequestId"]
        pull = self._pull(node.removeprefix("PR_"))
        if "enablePullRequestAutoMerge" in query:
            if not self.allow_auto_merge:
                return 200, {"data": None, "errors": [{"type": "UNPROCESSABLE",
                                                       "message": "Auto merge is not allowed for this repository"}]}
            expected = body["variables"]["input"].get("expectedHeadOid")
            if expected and expected != self.branch_sha(pull["head"]):
                return 200, {"data": None, "errors": [{"type": "UNPROCESSABLE", "message": "Head sha didn't match expected"}]}
            method = body["variables"]["input"].get("mergeMethod", "MERGE").lower()
            pull["auto_merge"] = {"enabled_by": {"login": self.login}, "merge_method": method}
            return 200, {"data": {"enablePullRequestAutoMerge": {"clientMutationId": None}}}
        if "disablePullRequestAutoMerge" in query:
            pull["auto_merge"] = None
            return 200, {"data": {"disablePullRequestAutoMerge": {"clientMutationId": None}}}
        name = "convertPullRequestToDraft" if "convertPullRequestToDraft" in query else "markPullRequestReadyForReview"
        pull["draft"] = name == "convertPullRequestToDraft"
        return 200, {"data": {name: {"clientMutationId": None, "pullRequest": {"isDraft": pull["draft"]}}}}

    def _pull(self, number: str) -> dict[str, Any]:
        return next(p for p in self.pulls if p["number"] == int(number))

    def _pull_json(self, pull: dict[str, Any]) -> dict[str, Any]:
        api = f"{self.url}/repos/{self.repository}"
        # A fork's branch lives in the fork: the remote's branch of the same name is another one.
        own_sha = self.branch_sha(pull["head"]) if pull.get("head_repo", self.repository) == self.repository else None
        return {
            "number": pull["number"], "node_id": f"PR_{pull['number']}", "state": pull["state"], "title": pull["title"],
            "body": pull["body"], "draft": pull["draft"], "merged": pull.get("merged", False),
            "merged_at": "2026-08-20T00:00:00Z" if pull.get("merged") else None, "url": f"{api}/pulls/{pull['number']}",
            "issue_url": f"{api}/issues/{pull['number']}",
            "html_url": f"https://github.example/{self.repository}/pull/{pull['number']}",
            "head": {"ref": pull["head"], "sha": own_sha or "0" * 40, "label": self._head_label(pull),
                     "repo": self._repo_json(pull.get("head_repo", self.repository))},
            "base": {"ref": pull["base"]},
            "labels": [{"name": n} for n in pull["labels"]],
            "requested_reviewers": [{"login": r} for r in pull["reviewers"]],
            "assignees": [{"login": a} for a in pull["assignees"]],
            "user": {"login": pull.get("user", self.login)},
            # GitHub computes mergeability when a pull request is read by itself; a list says nothing.
            "mergeable": pull.get("mergeable", True), "mergeable_state": pull.get("mergeable_state", "clean"),
            "auto_merge": pull.get("auto_merge"),
        }

    def _head_label(self, pull: dict[str, Any]) -> str:
        return f"{pull.get('head_repo', self.repository).split('/')[0]}:{pull['head']}"

    def _repo_json(self, full_name: str) -> dict[str, Any] | None:
        """A head repository: this one, a fork (another owner's), or None once the fork is deleted."""
        if full_name == DELETED_FORK:
            return None
        if full_name == self.repository:
            return self.repository_json()
        owner, name = full_name.split("/")
        return {"id": abs(hash(full_name)) % 10**8, "name": name, "full_name": full_name, "owner": {"login": owner},
                "url": f"{self.url}/repos/{full_name}", "fork": True}

    # --- the HTTP side -----------------------------------------------------------------

    def handler(self, *args: object) -> BaseHTTPRequestHandler:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                status, answer = fake.handle(self.command, parts.path, query, body, self.headers.get("Authorization"))
                data = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler(*args)  # type: ignore[arg-type]


@dataclass
class FakeOrganisation:
    """Many fake repositories behind one fake GitHub: `/orgs/{owner}/repos` lists them, and
    `/repos/{owner}/{name}/...` goes to that repository's fake."""

    owner: str
    token: str = "ghp-test-token"
    login: str = "tagbot-ci"
    repositories: dict[str, FakeGitHub] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""

    def add(self, fake: FakeGitHub) -> FakeGitHub:
        fake.url, fake.token, fake.login = self.url, self.token, self.login
        self.repositories[fake.repository] = fake
        return fake

    def handle(self, method: str, path: str, query: dict[str, str], body: Any, auth: str | None) -> tuple[int, Any]:
        self.requests.append((method, path))
        if auth not in (f"token {self.token}", f"Bearer {self.token}"):
            return 401, {"message": "Bad credentials"}
        if path == "/user":
            return 200, {"login": self.login, "id": 1, "type": "User", "url": f"{self.url}/users/{self.login}"}
        if path == f"/orgs/{self.owner}":
            return 200, {"login": self.owner, "url": f"{self.url}/orgs/{self.owner}"}
        if path == f"/orgs/{self.owner}/repos":
            page, per_page = int(query.get("page", 1)), int(query.get("per_page", 30))
            listed = [r.repository_json() for r in self.repositories.values()]
            return 200, listed[(page - 1) * per_page : page * per_page]
        match = re.match(r"/repos/([^/]+/[^/]+)", path)
        if match and match.group(1) in self.repositories:
            return self.repositories[match.group(1)].handle(method, path, query, body, auth)
        return 404, {"message": "Not Found"}

    handler = FakeGitHub.handler


@contextmanager
def serving(fake: FakeGitHub) -> Iterator[FakeGitHub]:
    with serve(fake.handler) as url:
        fake.url = url
        yield fake


@contextmanager
def serving_organisation(fake: FakeOrganisation) -> Iterator[FakeOrganisation]:
    with serve(fake.handler) as url:
        fake.url = url
        for repository in fake.repositories.values():
            repository.url = url
        yield fake
