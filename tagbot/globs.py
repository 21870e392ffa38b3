"""Globs, one meaning everywhere: as .gitignore writes them. `*` and `?` stay within one folder
(or one part of an image name), `**` crosses any number, `[abc]` is a class.

Files (`exclude:`, `--exclude`, `--include`) follow .gitignore through pathspec, the library
black and mypy use for it: a pattern without a `/` names a file or folder at any depth, one with
a `/` is anchored at the repository's root, a folder named leaves out all inside it, and `!`
takes a pattern back. Image names (`groups`, `rules: match:`) the same way: a glob with a `/` matches a whole name
from its start (`bitnami/*` is bitnami's images, `ghcr.io/acme/**` every image under acme,
however deep), one without matches the name's last part (`postgres`, `*sql*`)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from functools import lru_cache

import pathspec


def glob_problem(glob: str) -> str | None:
    """Why `glob` is no pattern (an unclosed `[`, an empty or backwards class), or None; the
    config says so instead of a glob that silently matches nothing, or fails mid-run."""
    if not glob.strip():
        return "an empty pattern"
    at = 0
    while (start := glob.find("[", at)) != -1:
        end = _class_end(glob, start)
        if end is None:
            return f"{glob!r} opens a [ it does not close"
        at = end + 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # re's FutureWarning on `[[`: a class it will read otherwise
            _name_pattern(glob)
            pathspec.GitIgnoreSpec.from_lines([glob])
    except (re.error, FutureWarning, ValueError) as e:
        return f"{glob!r} is no pattern: {e}"
    return None


def _class_end(glob: str, start: int) -> int | None:
    """The index of the `]` closing the class that opens at `start`; a `]` first in the class
    (after any `!` or `^`) is one of its characters, as in .gitignore. None: not closed."""
    at = start + 1
    if glob[at:at + 1] in ("!", "^"):
        at += 1
    end = glob.find("]", at + 1)
    if end == -1 or "/" in glob[start:end]:
        return None
    return end


class PathGlobs:
    """Relative, `/`-separated paths chosen by .gitignore-style patterns."""

    def __init__(self, globs: Sequence[str]) -> None:
        self.globs = tuple(globs)
        # pathspec lets `d/**/` take d's own files too; `d/*/` (every folder in d, and so all
        # inside them) is what git means by it.
        self._spec = pathspec.GitIgnoreSpec.from_lines([re.sub(r"/\*\*/\s*$", "/*/", g) for g in self.globs])
        self._folders: dict[str, bool] = {}  # a walk asks of each folder once per file in it

    def __bool__(self) -> bool:
        return bool(self.globs)

    def match(self, path: str) -> bool:
        """As git decides: a file in a folder a pattern names is named too, and no `!` brings it
        back (git never looks inside a folder it leaves out); otherwise the file's own patterns."""
        if not self.globs:
            return False
        folder = path.rpartition("/")[0]
        if folder and self._folder_named(folder):
            return True
        return self._spec.match_file(path)

    def _folder_named(self, folder: str) -> bool:
        if folder not in self._folders:
            parent = folder.rpartition("/")[0]
            self._folders[folder] = (bool(parent) and self._folder_named(parent)) or self._spec.match_file(folder + "/")
        return self._folders[folder]


def name_matches(globs: Sequence[str], names: Sequence[str]) -> bool:
    """Whether any glob names any of `names` (`nginx`, `library/nginx`, ...): whole when the glob
    has a `/`, and by the last part of the name when it has none, as .gitignore matches a file
    name at any depth (`*postgres*` is `bitnami/postgresql` too)."""
    return any(_name_pattern(glob).fullmatch(name if "/" in glob else name.rsplit("/", 1)[-1])
               for glob in globs for name in names)


@lru_cache(maxsize=1024)
def _name_pattern(glob: str) -> re.Pattern[str]:
    """`glob` as a regex on names, `**` as .gitignore reads it: a whole part of the name stands
    for any number of parts (none included: `a/**/b` is `a/b` too), elsewhere it is `*`."""
    parts, at = [], 0
    while at < len(glob):
        if glob.startswith("**", at):
            whole_part = (at == 0 or glob[at - 1] == "/") and glob[at + 2:at + 3] in ("", "/")
            if whole_part and glob[at + 2:at + 3] == "/":
                parts.append("(?:[^/]+/)*")  # `**/`: any number of leading parts, none included
                at += 3
            elif whole_part:
                parts.append(".*")  # a trailing `/**`: everything below
                at += 2
            else:
                parts.append("[^/]*")
                at += 2
        elif glob[at] == "*":
            parts.append("[^/]*")
            at += 1
        elif glob[at] == "?":
            parts.append("[^/]")
            at += 1
        elif glob[at] == "[" and (end := _class_end(glob, at)) is not None:
            inside = glob[at + 1:end]
            negated = inside[:1] in ("!", "^")
            body = re.sub(r"([\\\[\]&~|^])", r"\\\1", inside[1:] if negated else inside)
            parts.append(f"[^/{body}]" if negated else f"[{body}]")
            at = end + 1
        else:
            parts.append(re.escape(glob[at]))
            at += 1
    return re.compile("".join(parts))
