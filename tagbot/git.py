"""Local git work for pull requests: a throwaway worktree of the base branch, a commit per
update group, and pushes of the `tagbot/*` branches. Credentials are git's own (in Actions,
those actions/checkout leaves); tagbot never puts a token in a URL, and redacts any it meets."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import git

from tagbot.errors import GitHubError

BOT_NAME = "tagbot"
BOT_EMAIL = "tagbot@users.noreply.github.com"
BRANCH_PREFIX = "tagbot/"
_CREDENTIALS = re.compile(r"(://)[^/@\s]+@")
PUSH_HINT = ("in GitHub Actions, give the job `permissions: contents: write` (and `pull-requests: write`), "
             "and allow Actions to create pull requests in the repository's Settings > Actions > General")


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """`text` without credentials in URLs and without any of `secrets`."""
    text = _CREDENTIALS.sub(r"\1***@", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class Workspace:
    """A detached worktree at the base branch's tip, beside the user's checkout, so the
    checkout itself is never touched; `close()` removes it."""

    def __init__(self, repository: Path, *, remote: str = "origin", secrets: Sequence[str] = ()) -> None:
        self._secrets = tuple(secrets)
        try:
            self.repo = git.Repo(repository, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise GitHubError(f"{repository}: not inside a git repository") from None
        self.remote = remote
        self.path = Path(tempfile.mkdtemp(prefix="tagbot-worktree-"))
        self._git = self.repo.git
        self._opened = False

    @property
    def root(self) -> Path:
        return Path(self.repo.working_tree_dir or ".")

    def fetch(self, base_branch: str, branch_prefix: str = BRANCH_PREFIX) -> str:
        """Fetch the base branch and every tagbot branch (those under `branch_prefix`); the base's
        tip commit."""
        self._run(
            "fetch", "--prune", "--quiet", self.remote,
            f"+refs/heads/{base_branch}:refs/remotes/{self.remote}/{base_branch}",
            f"+refs/heads/{branch_prefix}*:refs/remotes/{self.remote}/{branch_prefix}*",
        )
        return self._run("rev-parse", f"refs/remotes/{self.remote}/{base_branch}")

    def start(self, base: str) -> Path:
        """The worktree, with its files as they are at `base`."""
        if not self._opened:
            self._run("worktree", "add", "--detach", "--quiet", str(self.path), base)
            self._opened = True
        else:
            self._in_tree("checkout", "--detach", "--quiet", "--force", base)
            self._in_tree("clean", "-fdq")
        return self.path

    def commit(self, message: str) -> str:
        """Commit every change in the worktree as tagbot; the new commit."""
        self._in_tree("add", "--all")
        self._in_tree(
            "-c", f"user.name={BOT_NAME}", "-c", f"user.email={BOT_EMAIL}",
            "commit", "--quiet", "--no-verify", "-m", message,
        )
        return self._in_tree("rev-parse", "HEAD")

    def tree(self, commit: str) -> str:
        return self._run("rev-parse", f"{commit}^{{tree}}")

    def remote_branch(self, branch: str) -> str | None:
        """The fetched tip of `branch` on the remote, or None when it has none."""
        try:
            return self._run("rev-parse", "--verify", "--quiet", f"refs/remotes/{self.remote}/{branch}")
        except GitHubError:
            return None

    def foreign_authors(self, base: str, tip: str) -> list[str]:
        """Authors of the commits on `tip` since `base` that tagbot did not make."""
        emails = self._run("log", "--format=%ae", f"{base}..{tip}").split()
        return [email for email in emails if email != BOT_EMAIL]

    def push(self, commit: str, branch: str, *, expected: str | None) -> None:
        """Point the remote `branch` at `commit`, but only if it still is where it was seen.
        A refusal says what the remote said, and what usually fixes it in Actions."""
        lease = f"--force-with-lease=refs/heads/{branch}:{expected or ''}"
        status, _, stderr = self._status("push", "--quiet", "--porcelain", lease, self.remote, f"{commit}:refs/heads/{branch}")
        if status != 0:
            said = [line.strip() for line in stderr.splitlines() if line.strip().startswith(("remote:", "error:", "fatal:", "!"))]
            raise GitHubError(redact(f"git push of {branch} refused: {' / '.join(said) or f'exit {status}'} ({PUSH_HINT})",
                                     self._secrets))

    def conflicts(self, base: str, tip: str) -> bool:
        """Whether `tip`'s changes no longer merge cleanly into `base`."""
        status, _, _ = self._status("merge-tree", "--write-tree", "--no-messages", base, tip)
        return status != 0

    def behind(self, base: str, tip: str) -> bool:
        """Whether `base` has commits `tip` lacks."""
        status, _, _ = self._status("merge-base", "--is-ancestor", base, tip)
        return status != 0

    def close(self) -> None:
        if self._opened:
            try:
                self._run("worktree", "remove", "--force", str(self.path))
            except GitHubError:
                pass
        shutil.rmtree(self.path, ignore_errors=True)
        try:
            self._run("worktree", "prune")
        except GitHubError:
            pass

    def _in_tree(self, *args: str) -> str:
        return self._run("-C", str(self.path), *args)

    def _status(self, *args: str) -> tuple[int, str, str]:
        """(exit status, stdout, stderr) of a git command expected to fail now and then."""
        status, out, err = self._git.execute(["git", *args], with_extended_output=True, with_exceptions=False)
        return int(status), str(out), str(err)

    def _run(self, *args: str) -> str:
        try:
            return str(self._git.execute(["git", *args])).strip()
        except git.GitCommandError as e:
            detail = (e.stderr or "").strip().splitlines()
            message = detail[-1] if detail else f"exit {e.status}"
            # `from None`: git's own error holds the command line, remote URL included.
            raise GitHubError(redact(f"git {args[0]} failed: {message}", self._secrets)) from None
