"""Every error tagbot expects, in one tree; `cli.main` catches them once.

TagbotError > ConfigError, InvalidReference, ScanError
"""

from __future__ import annotations


class TagbotError(Exception):
    """Expected failure; str(e) is the whole message the user sees."""

    exit_code = 2


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
        super().__init__(f"{where}: {problem}")
        self.file = file
        self.line = line
        self.problem = problem
