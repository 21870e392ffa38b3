"""Every error tagbot expects, in one tree; `cli.main` catches them once.

TagbotError > ConfigError, InvalidReference, ScanError, RewriteError, GitHubError,
              SourceError > AuthError, Unauthorized, NotFound, RateLimited, SourceUnavailable, BadResponse

A `SourceError` about one image becomes a line in the report and the run goes on; an
`AuthError` ends the run, since every other lookup would fail the same way.
"""

from __future__ import annotations

import re

_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]")


class TagbotError(Exception):
    """Expected failure; str(e) is the whole message the user sees. `place` is the `file:line`
    the message starts with, when it names one (said first on its line, as compilers do)."""

    exit_code = 2

    def __init__(self, message: str = "", *, place: str | None = None) -> None:
        super().__init__(message)
        self.place = place


class ConfigError(TagbotError):
    """A bad setting or argument; str(e) names the setting."""


class InvalidReference(TagbotError):
    """Text that is not an image reference by the Docker grammar."""

    def __init__(self, text: str, problem: str) -> None:
        super().__init__(f"invalid image reference {text!r}: {problem}")
        self.text = text
        self.problem = problem


class ScanError(TagbotError):
    """A file that could not be read or parsed; `line` is 1-based, or None for the whole file."""

    def __init__(self, file: str, line: int | None, problem: str) -> None:
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {problem}", place=where if line is not None else None)
        self.file = file
        self.line = line
        self.problem = problem


class RewriteError(TagbotError):
    """An edit that cannot be made safely; the file it names is left untouched."""


class GitHubError(TagbotError):
    """git or the GitHub API failed; str(e) never holds the token or a credential URL."""


class SourceError(TagbotError):
    """A lookup that failed; str(e) says why without naming any secret. `host` is the server
    that failed, when one did; `image` the image it was about, when one is."""

    def __init__(self, message: str, *, host: str | None = None, image: str | None = None, shared: bool = False) -> None:
        super().__init__(message)
        self.host = host
        self.image = image
        self.shared = shared  # the host's failure (down, quota spent, deadline), the same for all its images


class AuthError(SourceError):
    """The key or token was missing or rejected: every lookup would fail, so the run stops."""


class Unauthorized(SourceError):
    """A registry refused one image (no or wrong credentials for it); the others go on."""


class NotFound(SourceError):
    """The source does not know the image."""


class RateLimited(SourceError):
    """Still told to slow down after every retry; `retry_after` is the last wait asked, in seconds."""

    def __init__(self, message: str, retry_after: float | None = None, *, host: str | None = None,
                 shared: bool = False) -> None:
        super().__init__(message, host=host, shared=shared)
        self.retry_after = retry_after


class SourceUnavailable(SourceError):
    """Server errors, time-outs, refused connections, an exhausted call budget, or offline."""


class Deferred(SourceUnavailable):
    """Not looked up this run: the month's calls (monthly_calls) go to images likelier to have
    moved. A warning, never a failed run: a later run asks."""


class BadResponse(SourceError):
    """An answer that is not the shape the source promises."""


# GitHub's runner obeys `##[command]` anywhere in a line (its first command syntax), and
# `::command::` at a line's start (see report.workflow_safe); text from outside shows the first as so.
V1_COMMAND, V1_COMMAND_SHOWN = "##[", "\\x23#["


def visible(text: str) -> str:
    """`text` on one line with every control or invisible formatting character shown as an
    escape (`\\n`, `\\x1b`, `\\u202e`): a file name as it really is, that no one can use to
    start a line of their own in a log, a commit message or a pull request."""
    return "".join(c if c.isprintable() or c == " " else _escape(c) for c in text)


def _escape(c: str) -> str:
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return named.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}")


def printable(text: str, limit: int = 300) -> str:
    """Text a server or file said, safe to print: no terminal escapes or control characters,
    one line, and not endless."""
    text = "".join(c if c.isprintable() else " " for c in _ESCAPES.sub("", text))
    text = text if len(text) <= limit else text[: limit - 3] + "..."
    return text.replace(V1_COMMAND, V1_COMMAND_SHOWN)

