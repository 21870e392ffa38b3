"""Whole organisations: which repositories a scheduled workflow's matrix takes (`choose`,
`matrix`), and one lookup per unique image across all of them (`look_up_organisation`), which
leaves what it learned in the store in the cache folder for each matrix job's offline
`tagbot pr`. Files are read through the API (a tree and the files a scanner claims), never cloned.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tagbot.errors import GitHubError, TagbotError
from tagbot.globs import name_matches
from tagbot.lookup import Lookups
from tagbot.model import Failure
from tagbot.refs import ImageRef
from tagbot.scan import ScanResult, kind_of, scan_paths


@dataclass(frozen=True)
class Selection:
    """Which of an owner's repositories to take."""

    topic: str | None = None
    include: tuple[str, ...] = ()  # globs on owner/name or name
    exclude: tuple[str, ...] = ()
    listed: tuple[str, ...] = ()  # the config's explicit list; empty: every repository
    forks: bool = False
    archived: bool = False


@dataclass(frozen=True)
class RepositoryInfo:
    name: str  # owner/name
    default_branch: str
    archived: bool = False
    fork: bool = False
    disabled: bool = False
    topics: tuple[str, ...] = ()


class Files(Protocol):
    def files(self, repository: str, branch: str, wanted: Callable[[str], bool]) -> dict[str, bytes]: ...


def choose(repositories: Sequence[RepositoryInfo], selection: Selection) -> list[RepositoryInfo]:
    """The repositories to work on, by name: archived, forks and disabled ones left out unless asked."""
    chosen = []
    for repository in repositories:
        short = repository.name.split("/", 1)[-1]
        if repository.disabled or (repository.archived and not selection.archived) or (repository.fork and not selection.forks):
            continue
        if selection.listed and repository.name not in selection.listed and short not in selection.listed:
            continue
        if selection.topic and selection.topic not in repository.topics:
            continue
        if selection.include and not _named(repository.name, selection.include):
            continue
        if _named(repository.name, selection.exclude):
            continue
        chosen.append(repository)
    return sorted(chosen, key=lambda r: r.name)


def matrix(repositories: Sequence[RepositoryInfo], per_job: int = 1) -> dict[str, list[dict[str, str]]]:
    """A matrix for `fromJSON()`: each job takes `per_job` repositories (space-separated)."""
    names = [r.name for r in repositories]
    chunks = [names[i : i + per_job] for i in range(0, len(names), per_job)]
    return {"include": [{"repository": " ".join(chunk)} for chunk in chunks]}


@dataclass(frozen=True)
class OrganisationLookup:
    repositories: int
    images: int  # unique
    lookups: Lookups
    scanned: ScanResult
    unreadable: tuple[Failure, ...]  # repositories whose files could not be read


def read_repositories(api: Files, repositories: Sequence[RepositoryInfo], folder: Path) -> list[Failure]:
    """Each repository's files that a scanner claims, written below `folder/<owner>/<name>/`;
    a repository that cannot be read is a failure of its own, never the others'."""
    failures = []
    for repository in repositories:
        try:
            files = api.files(repository.name, repository.default_branch, lambda path: kind_of(path) is not None)
        except GitHubError as e:
            failures.append(Failure(repository.name, str(e), "unavailable"))
            continue
        home = folder / repository.name
        try:
            _write_files(files, home)
        except OSError as e:
            # A tree git holds but no file system can (a name over NAME_MAX, a path over
            # PATH_MAX, `Dockerfile` beside `Dockerfile/Dockerfile`): none of it is read.
            shutil.rmtree(home, ignore_errors=True)
            failures.append(Failure(repository.name, f"{repository.name}: cannot write its files to scan them: "
                                                      f"{e.strerror or e}", "unavailable"))
    return failures


def _write_files(files: Mapping[str, bytes], home: Path) -> None:
    for path, data in files.items():
        target = home / path
        if not _inside(target, home):
            continue  # a path the API should never give: `..`
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def look_up_organisation(api: Files, repositories: Sequence[RepositoryInfo],
                         look_up: Callable[[list[ImageRef]], Lookups]) -> OrganisationLookup:
    """Every image the repositories name, looked up once: the cache and index keep the answers."""
    with tempfile.TemporaryDirectory(prefix="tagbot-org-") as tmp:
        folder = Path(tmp)
        unreadable = read_repositories(api, repositories, folder)
        scanned = scan_paths([folder], base=folder)
    unique = {r.found.image.name: r.found.image for r in scanned.references if r.found.image is not None}
    images = [r.found.image for r in scanned.references if r.found.image is not None]
    return OrganisationLookup(len(repositories), len(unique), look_up(images), scanned, tuple(unreadable))


def summary_table(results: Sequence[Mapping[str, Any]]) -> str:
    """One Markdown table for the whole run, from each job's `tagbot pr --result` file."""
    lines = ["## tagbot: the organisation", "", "| Repository | Opened | Updated | Closed | Errors |", "|---|---|---|---|---|"]
    for result in sorted(results, key=lambda r: str(r.get("repository", ""))):
        kinds = [a.get("kind") for a in result.get("actions", []) if isinstance(a, dict) and a.get("branch") != "(dashboard)"]
        lines.append(f"| {result.get('repository', '?')} | {kinds.count('open')} | {kinds.count('update')} "
                     f"| {kinds.count('close')} | {int(result.get('errors', 0))} |")
    return "\n".join(lines) + "\n"


def read_results(paths: Sequence[Path]) -> list[dict[str, Any]]:
    results = []
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise TagbotError(f"{path}: cannot read a tagbot pr result: {e}") from None
        if isinstance(data, dict):
            results.append(data)
    return results


def _named(name: str, globs: Sequence[str]) -> bool:
    return name_matches(globs, (name, name.split("/", 1)[-1]))


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())
