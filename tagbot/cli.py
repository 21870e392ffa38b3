"""The command line: argument parsing and glue over the library; the one place errors are caught."""

from __future__ import annotations

import argparse
import math
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import httpx

from tagbot import __version__
from tagbot.config import Config, load_config
from tagbot.errors import ConfigError, InvalidReference, TagbotError
from tagbot.git import Workspace
from tagbot.github import API_URL_ENV, REPOSITORY_ENV, TOKEN_ENV, PullRequests, group_updates, sync_pull_requests, workspace_paths
from tagbot.github import DEFAULT_API_URL as GITHUB_API
from tagbot.lookup import Lookups, describe_tags, look_up
from tagbot.pipeline import (
    Failure, Plan, deep_search_images, file_changes, merge_deep, plan_updates, rule_violations, tags_to_describe,
    with_details,
)
from tagbot.policy import decide
from tagbot.progress import ProgressBar
from tagbot.refs import ImageRef, parse_ref
from tagbot.report import calls_summary, print_actions, print_check, print_explain, print_plan, print_scan
from tagbot.rewrite import FileChange, write_change
from tagbot.scan import ScanResult, scan_paths
from tagbot.sources.cache import TagCache, default_cache_dir
from tagbot.sources.http import Calls
from tagbot.sources.select import SourceSet
from tagbot.sources.tagsapi import DEFAULT_API_URL, KEY_ENV, URL_ENV

EXIT_UPDATES = 1
EXIT_ERRORS = 2
EXIT_BUG = 3
EXIT_INTERRUPTED = 130
HTTP_TIMEOUT = 15.0  # seconds per request; retries follow a time-out


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except TagbotError as e:
        print(f"tagbot: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader (`| head`) has gone; stop quietly instead of failing again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception:
        traceback.print_exc()
        print("tagbot: this is a bug; please report it with the trace above", file=sys.stderr)
        return EXIT_BUG


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tagbot", description="Keeps container image tags up to date.")
    parser.add_argument("--version", action="version", version=f"tagbot {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    scan = commands.add_parser("scan", help="list every image reference with its place")
    _add_paths_options(scan)
    scan.add_argument("--format", choices=("table", "json"), default="table")

    update = commands.add_parser("update", help="rewrite outdated tags and digests (or show them: --dry-run)")
    _add_paths_options(update)
    _add_lookup_options(update)
    update.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    update.add_argument("--format", choices=("table", "json", "diff"), default="table")

    check = commands.add_parser("check", help="exit 1 when updates are available (for CI and pre-commit)")
    _add_paths_options(check)
    _add_lookup_options(check)
    check.add_argument("--hook", action="store_true",
                       help="as a pre-commit hook: with no key or no network, check the cache and the offline rules only")

    pr = commands.add_parser("pr", help="open, update and close pull requests with the updates")
    _add_paths_options(pr)
    _add_lookup_options(pr)
    pr.add_argument("--dry-run", action="store_true", help="show the pull requests it would open, update or close")
    pr.add_argument("--repository", help=f"owner/name (default: ${REPOSITORY_ENV})")

    explain = commands.add_parser("explain", help="why an image is (not) updated, step by step")
    explain.add_argument("image", metavar="IMAGE[:TAG]")
    explain.add_argument("--platform", help="a platform the reference itself asks for, as in FROM --platform=")
    explain.add_argument("--all", action="store_true", help="list candidates of other shapes and variants too")
    _add_lookup_options(explain)
    return parser


def _add_paths_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", type=Path, default=[Path(".")], metavar="PATH")
    parser.add_argument("--include", action="append", default=[], metavar="GLOB",
                        help="scan only files matching GLOB (repeatable)")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                        help="skip files matching GLOB (repeatable)")


def _add_lookup_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="the config file (default: tagbot.yaml, .tagbot.yaml, .github/tagbot.yaml)")
    parser.add_argument("--api-url", help=f"the tags API (default: ${URL_ENV}, the config's api_url, or {DEFAULT_API_URL})")
    parser.add_argument("--cache-dir", type=Path, help=f"where lookups are cached (default: {default_cache_dir()})")
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument("--no-cache", action="store_true", help="neither read nor write the lookup cache")
    cache.add_argument("--offline", action="store_true", help="use the cache only; make no API call")


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "scan":
        return _cmd_scan(paths=args.paths, include=args.include, exclude=args.exclude, fmt=args.format)
    options = _LookupOptions(args.config, args.api_url, args.cache_dir, args.no_cache, args.offline)
    if args.command == "update":
        return _cmd_update(options, paths=args.paths, include=args.include, exclude=args.exclude,
                           dry_run=args.dry_run, fmt=args.format)
    if args.command == "check":
        return _cmd_check(options, paths=args.paths, include=args.include, exclude=args.exclude, hook=args.hook)
    if args.command == "pr":
        return _cmd_pr(options, paths=args.paths, include=args.include, exclude=args.exclude,
                       dry_run=args.dry_run, repository=args.repository)
    if args.command == "explain":
        return _cmd_explain(options, image_text=args.image, platform=args.platform, show_all=args.all)
    raise AssertionError(f"unhandled command {args.command}")


def _cmd_scan(*, paths: Sequence[Path], include: Sequence[str], exclude: Sequence[str], fmt: str) -> int:
    result = _scan(paths, include, exclude)
    print_scan(result, fmt)
    _print_errors(result)
    return EXIT_ERRORS if result.errors else 0


def _cmd_update(options: _LookupOptions, *, paths: Sequence[Path], include: Sequence[str], exclude: Sequence[str],
                dry_run: bool, fmt: str) -> int:
    result = _scan(paths, include, exclude)
    with _session(options) as session:
        plan = session.plan(result)
    changes, failures = file_changes(plan.updates, Path.cwd())
    if not dry_run:
        changes, failures = _write(changes, failures)
    print_plan(plan, session.calls, fmt, changes=changes, rewrite_errors=failures)
    if fmt == "diff":
        print(f"tagbot: {calls_summary(session.calls)}", file=sys.stderr)
    if not dry_run and changes:
        print(f"tagbot: wrote {len(changes)} file{'s' if len(changes) != 1 else ''}", file=sys.stderr)
    _print_errors(result, plan, failures)
    return EXIT_ERRORS if (result.errors or plan.errors or failures) else 0


def _cmd_check(options: _LookupOptions, *, paths: Sequence[Path], include: Sequence[str], exclude: Sequence[str],
               hook: bool = False) -> int:
    if hook and not os.environ.get(KEY_ENV) and not options.offline:
        options = replace(options, offline=True)
        print(f"tagbot: {KEY_ENV} is not set: freshness checked from the cache only", file=sys.stderr)
    result = _scan(paths, include, exclude)
    with _session(options) as session:
        plan = session.plan(result)
        violations = rule_violations(result.references, session.config)
    # A hook must not fail a commit for a network it does not have: those images are named, not failed.
    errors = [f for f in plan.errors if not (hook and f.temporary)]
    unchecked = len(plan.errors) - len(errors)
    print_check(plan, violations)
    summary = f"{len(plan.updates)} update(s) available, {len(violations)} rule(s) broken; {calls_summary(session.calls)}"
    print(f"tagbot: {summary}", file=sys.stderr)
    if unchecked:
        print(f"tagbot: freshness NOT checked for {unchecked} image(s): offline or unreachable, and not cached",
              file=sys.stderr)
    _print_errors(result, replace(plan, errors=tuple(errors)))
    if result.errors or errors:
        return EXIT_ERRORS
    return EXIT_UPDATES if (plan.updates or violations) else 0


def _cmd_explain(options: _LookupOptions, *, image_text: str, platform: str | None, show_all: bool = False) -> int:
    try:
        image = parse_ref(image_text)
    except InvalidReference as e:
        raise ConfigError(str(e)) from None
    with _session(options) as session:
        lookups = session.tag_lists([image])
    if image.name in lookups.errors:
        raise lookups.errors[image.name]
    if image.name in lookups.uncovered:
        raise ConfigError(f"lookups are off for {image.registry} (registries: in the config)")
    tags = lookups.tags[image.name]
    config = session.config
    decision = decide(image, tags.tags, config.settings_for(image), now=_now(), platform=platform, complete=tags.complete)
    rule_lines = [rule.line for rule in config.rules if rule.matches(image)]
    print_explain(image, decision, tags, config.path, rule_lines, show_all=show_all)
    print(f"tagbot: {calls_summary(session.calls)}", file=sys.stderr)
    return 0


def _cmd_pr(options: _LookupOptions, *, paths: Sequence[Path], include: Sequence[str], exclude: Sequence[str],
            dry_run: bool, repository: str | None) -> int:
    token = os.environ.get(TOKEN_ENV)
    if not token:
        raise ConfigError(f"set {TOKEN_ENV} to a token that may push branches and open pull requests")
    repository = repository or os.environ.get(REPOSITORY_ENV)
    if not repository:
        raise ConfigError(f"name the repository with --repository owner/name or ${REPOSITORY_ENV}")
    _require(paths)
    workspace = Workspace(Path.cwd(), secrets=[token, os.environ.get(KEY_ENV, "")])
    try:
        with _session(options) as session:
            pulls = PullRequests(repository, token, os.environ.get(API_URL_ENV) or GITHUB_API)
            base_branch = session.config.run.base_branch or pulls.default_branch
            base_commit = workspace.fetch(base_branch)
            tree = workspace.start(base_commit)
            scan_roots = workspace_paths(paths, tree, workspace.root)
            result = scan_paths(scan_roots, base=tree, include=include, exclude=exclude)
            plan = session.plan(result)
            actions = sync_pull_requests(
                workspace=workspace, pulls=pulls, settings=session.config.run,
                groups=group_updates(plan.updates, session.config.run), held_back=plan.held_back,
                base_branch=base_branch, base_commit=base_commit,
                complete=not (result.errors or plan.errors), dry_run=dry_run,
            )
        print_actions(actions, session.calls)
    finally:
        workspace.close()
    _print_errors(result, plan)
    return EXIT_ERRORS if (result.errors or plan.errors) else 0


def _require(paths: Sequence[Path]) -> None:
    for path in paths:
        if not path.exists():
            raise TagbotError(f"{path}: no such file or directory")


def _scan(paths: Sequence[Path], include: Sequence[str], exclude: Sequence[str]) -> ScanResult:
    _require(paths)
    return scan_paths(paths, base=Path.cwd(), include=include, exclude=exclude)


def _write(changes: list[FileChange], failures: list[Failure]) -> tuple[list[FileChange], list[Failure]]:
    written = []
    for change in changes:
        try:
            write_change(change)
        except TagbotError as e:
            failures.append(Failure(change.file, str(e)))
        else:
            written.append(change)
    return written, failures


def _print_errors(result: ScanResult, plan: Plan | None = None, failures: Sequence[Failure] = ()) -> None:
    for error in result.errors:
        print(f"tagbot: error: {error}", file=sys.stderr)
    for failure in (*(plan.errors if plan else ()), *failures):
        print(f"tagbot: error: {failure.subject}: {failure.message}", file=sys.stderr)


@dataclass(frozen=True)
class _LookupOptions:
    config: Path | None
    api_url: str | None
    cache_dir: Path | None
    no_cache: bool
    offline: bool


@dataclass
class _Session:
    config: Config
    sources: SourceSet
    calls: Calls
    cache: TagCache | None
    offline: bool

    def look_up(self, images: Sequence[ImageRef], *, deep: bool = False) -> Lookups:
        progress = ProgressBar(label="reading all tags" if deep else "looking up images")
        try:
            source_for = self.sources.for_deep_search if deep else self.sources.for_image
            return look_up(images, source_for=source_for, calls=self.calls, cache=self.cache,
                           offline=self.offline, workers=self._workers, progress=progress)
        finally:
            progress.close()

    def tag_lists(self, images: Sequence[ImageRef]) -> Lookups:
        """One lookup per image; every tag of those that asked for a deep search and need it;
        then, from registries that list names only, the details of the tags decisions need."""
        lookups = self.look_up(images)
        lookups = merge_deep(lookups, self.look_up(deep_search_images(images, lookups, self.config), deep=True))
        described, errors = describe_tags(tags_to_describe(images, lookups, self.config), source_for=self.sources.for_image,
                                          calls=self.calls, cache=self.cache, offline=self.offline, workers=self._workers)
        return with_details(lookups, described, errors)

    @property
    def _workers(self) -> int:
        return max(1, min(16, math.ceil(self.config.run.rate_limit)))

    def plan(self, result: ScanResult) -> Plan:
        images = [r.found.image for r in result.references if r.found.image is not None]
        return plan_updates(result.references, self.tag_lists(images), self.config, now=_now())


@contextmanager
def _session(options: _LookupOptions) -> Iterator[_Session]:
    config = load_config(options.config, directory=Path())
    api_url = options.api_url or os.environ.get(URL_ENV) or config.run.api_url or DEFAULT_API_URL
    calls = Calls(config.run.max_calls)
    cache = None if options.no_cache else TagCache(options.cache_dir or default_cache_dir(), config.run.cache_ttl)
    with httpx.Client(timeout=HTTP_TIMEOUT) as client:
        sources = SourceSet(client, config.run, calls, api_url=api_url, key=os.environ.get(KEY_ENV),
                            offline=options.offline)
        yield _Session(config, sources, calls, cache, options.offline)


def _now() -> datetime:
    return datetime.now(timezone.utc)
