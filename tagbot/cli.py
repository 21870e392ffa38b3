"""The command line: argument parsing and glue over the library; the one place errors are caught."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from pathlib import Path

from tagbot import __version__
from tagbot.globs import glob_problem
from tagbot.errors import ConfigError, InvalidReference, TagbotError, printable
from tagbot.config import load_config
from tagbot.model import Action, OutputFormat, Plan
from tagbot.progress import ProgressBar
from tagbot.refs import parse_ref
from tagbot.report import (
    CommandFrame, calls_summary, error_line, knowledge_lines, print_actions, print_check, print_errors, print_explain, print_plan, print_scan, print_warnings,
)
from tagbot.run import (
    LookupOptions, Services, apply_updates, explain, failure, look_up_tags, open_services, plan, write_changes,
)
from tagbot.scan import scan_paths
from tagbot.sources.store import default_cache_dir
from tagbot.sources.tagsapi import DEFAULT_API_URL, KEY_ENV, URL_ENV

LOG_ENV = "TAGBOT_LOG"
TOKEN_ENV, REPOSITORY_ENV, GITHUB_API_ENV = "GITHUB_TOKEN", "GITHUB_REPOSITORY", "GITHUB_API_URL"
EXIT_UPDATES = 1
EXIT_ERRORS = 2
EXIT_BUG = 3
EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    # Under GitHub Actions nothing the run prints is obeyed as a workflow command, from the
    # first line (argparse echoes paths it refuses) to the last, but tagbot's own annotations.
    with CommandFrame(os.environ.get("GITHUB_ACTIONS") == "true") as frame:
        return _main(argv, frame)


def _main(argv: Sequence[str] | None, frame: CommandFrame) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _set_up_logging(getattr(args, "verbose", False))
    try:
        return _dispatch(args, frame)
    except TagbotError as e:
        print(error_line("error", str(e), e.place), file=sys.stderr)
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
    scan.add_argument("--config", type=Path, help="the config file, for its kinds and exclude (default: tagbot.yaml, ...)")
    scan.add_argument("--format", choices=("table", "json"), default="table")

    update = commands.add_parser("update", help="rewrite outdated tags and digests (or show them: --dry-run)")
    _add_paths_options(update)
    _add_lookup_options(update)
    update.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    update.add_argument("--format", choices=("table", "json", "diff"), default="table")

    check = commands.add_parser("check", help="exit 1 when updates are available (for CI and pre-commit)")
    _add_paths_options(check)
    _add_lookup_options(check)
    check.add_argument("--eol", action="store_true",
                       help="also exit 1 for references on ended (or soon ending) release lines, and for moved, "
                            "deprecated or abandoned images")
    check.add_argument("--hook", action="store_true",
                       help="as a pre-commit hook: with no key or no network, check the cache and the offline rules only")

    pr = commands.add_parser("pr", help="open, update and close pull requests with the updates")
    _add_paths_options(pr)
    _add_lookup_options(pr)
    pr.add_argument("--dry-run", action="store_true", help="show the pull requests it would open, update or close")
    pr.add_argument("--repository", help=f"owner/name (default: ${REPOSITORY_ENV})")
    pr.add_argument("--result", type=Path, metavar="FILE",
                    help="write what was done as JSON (for `tagbot org summary`)")

    org = commands.add_parser("org", help="a whole organisation: plan the matrix, look up every image once")
    org_commands = org.add_subparsers(dest="org_command", required=True, metavar="STEP")
    for name, text in (("plan", "print the repositories as a GitHub Actions matrix"),
                       ("lookup", "look up every image the repositories name, once, into the cache folder")):
        step = org_commands.add_parser(name, help=text)
        step.add_argument("--owner", required=True, help="the organisation or user")
        step.add_argument("--topic", help="only repositories with this topic")
        step.add_argument("--include", action="append", default=[], metavar="GLOB", help="only repositories named so")
        step.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="not repositories named so")
        step.add_argument("--forks", action="store_true", help="take forks too")
        step.add_argument("--archived", action="store_true", help="take archived repositories too")
        if name == "plan":
            step.add_argument("--per-job", type=int, default=1, metavar="N", help="repositories a matrix job takes (default 1)")
            step.add_argument("--config", type=Path, help="the organisation's config, for its repositories: list")
        else:
            _add_lookup_options(step)
    summary = org_commands.add_parser("summary", help="one table for the whole run, from each job's --result file")
    summary.add_argument("results", nargs="+", type=Path, metavar="FILE")

    explain = commands.add_parser("explain", help="why an image is (not) updated, step by step")
    explain.add_argument("image", metavar="IMAGE[:TAG]")
    explain.add_argument("--platform", help="a platform the reference itself asks for, as in FROM --platform=")
    explain.add_argument("--all", action="store_true", help="list candidates of other shapes and variants too")
    _add_lookup_options(explain)
    return parser


def _add_paths_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", type=Path, default=[Path(".")], metavar="PATH")
    parser.add_argument("--include", action="append", default=[], metavar="GLOB",
                        help="scan only files matching GLOB, a .gitignore-style pattern (repeatable)")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                        help="skip files matching GLOB: `*` stays in a folder, `**` crosses them, as in .gitignore (repeatable)")


def _set_up_logging(verbose: bool) -> None:
    """Quiet by default; `--verbose` or TAGBOT_LOG=debug tell which source answered, cache hits,
    pages and retries, on stderr."""
    level = logging.getLevelName("DEBUG" if verbose else os.environ.get(LOG_ENV, "WARNING").upper())
    logger = logging.getLogger("tagbot")
    logger.setLevel(level if isinstance(level, int) else logging.WARNING)
    logger.propagate = False
    if not logger.handlers:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("tagbot: %(levelname)s: %(message)s"))
        logger.addHandler(handler)


class _StderrHandler(logging.Handler):
    """Writes to whatever sys.stderr is when a record comes: main() may run many times in one
    process (tests, or a tool embedding tagbot), each with its own stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(printable(self.format(record), limit=2000), file=sys.stderr)
        except Exception:
            self.handleError(record)


def _add_lookup_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="the config file (default: tagbot.yaml, .tagbot.yaml, .github/tagbot.yaml)")
    parser.add_argument("--default-config", type=Path, metavar="FILE",
                        help="the config when the repository has none (an organisation's defaults)")
    parser.add_argument("--api-url", help=f"the tags API (default: ${URL_ENV}, the config's api_url, or {DEFAULT_API_URL})")
    parser.add_argument("--cache-dir", type=Path, help=f"where lookups are cached (default: {default_cache_dir()})")
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument("--no-cache", action="store_true", help="neither read nor write the lookup cache")
    cache.add_argument("--offline", action="store_true", help="use the cache only; make no API call")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help=f"say which source answered, cache hits, pages read and retries (or {LOG_ENV}=debug)")


def _dispatch(args: argparse.Namespace, frame: CommandFrame) -> int:
    for flag in ("include", "exclude"):
        for glob in getattr(args, flag, None) or ():
            if problem := glob_problem(glob):
                raise ConfigError(f"--{flag}: {problem}")
    if args.command == "scan":
        return _cmd_scan(paths=args.paths, include=args.include, exclude=args.exclude, fmt=args.format,
                         config_path=args.config)
    if args.command == "org":
        return _cmd_org(args)
    options = _lookup_options(args)
    if args.command == "update":
        return _cmd_update(options, paths=args.paths, include=args.include, exclude=args.exclude,
                           dry_run=args.dry_run, fmt=args.format)
    if args.command == "check":
        return _cmd_check(options, paths=args.paths, include=args.include, exclude=args.exclude, hook=args.hook,
                          eol=args.eol)
    if args.command == "pr":
        return _cmd_pr(options, paths=args.paths, include=args.include, exclude=args.exclude,
                       dry_run=args.dry_run, repository=args.repository, result_file=args.result, frame=frame)
    if args.command == "explain":
        return _cmd_explain(options, image_text=args.image, platform=args.platform, show_all=args.all)
    raise AssertionError(f"unhandled command {args.command}")


def _lookup_options(args: argparse.Namespace) -> LookupOptions:
    return LookupOptions(args.config, args.api_url, args.cache_dir, args.no_cache, args.offline,
                         default_config=args.default_config)


def _cmd_org(args: argparse.Namespace) -> int:
    """`tagbot org plan|lookup|summary`: one scheduled workflow for many repositories."""
    from tagbot.org import Selection, choose, look_up_organisation, matrix, read_results, summary_table
    from tagbot.pr.github import DEFAULT_API_URL as GITHUB_API
    from tagbot.pr.github import Organisation

    if args.org_command == "summary":
        table = summary_table(read_results(args.results))
        print(table, end="")
        _append_to_runner_file("GITHUB_STEP_SUMMARY", table)
        return 0
    token = os.environ.get(TOKEN_ENV)
    if not token:
        raise ConfigError(f"set {TOKEN_ENV} to a token that may read the organisation's repositories")
    if args.org_command == "plan" and args.per_job < 1:
        raise ConfigError("--per-job: expected 1 or more")
    listed = load_config(args.config, directory=Path.cwd()).run.repositories if args.org_command == "plan" else ()
    api = Organisation(token, os.environ.get(GITHUB_API_ENV) or GITHUB_API)
    selection = Selection(args.topic, tuple(args.include), tuple(args.exclude), listed, args.forks, args.archived)
    chosen = choose(api.repositories(args.owner), selection)
    if args.org_command == "plan":
        planned = json.dumps(matrix(chosen, args.per_job), separators=(",", ":"))
        print(planned)
        _append_to_runner_file("GITHUB_OUTPUT", f"matrix={planned}\n")
        return 0
    with _services(_lookup_options(args)) as services:
        if services.config.run.repositories:
            chosen = choose(chosen, replace(selection, listed=services.config.run.repositories))
        looked_up = look_up_organisation(api, chosen, lambda images: look_up_tags(images, services))
        print(f"tagbot: {looked_up.repositories} repositories, {looked_up.images} unique images; "
              f"{calls_summary(services.calls)}", file=sys.stderr)
    print_warnings(looked_up.unreadable, looked_up.scanned.errors,
                   [failure(name, error) for name, error in sorted(looked_up.lookups.errors.items())])
    return 0


def _cmd_scan(*, paths: Sequence[Path], include: Sequence[str], exclude: Sequence[str], fmt: OutputFormat,
              config_path: Path | None = None) -> int:
    _require(paths)
    run_settings = load_config(config_path, directory=Path.cwd()).run
    result = scan_paths(paths, base=Path.cwd(), include=include, exclude=(*run_settings.exclude, *exclude),
                        kinds=run_settings.kinds, patterns=run_settings.patterns)
    print_scan(result, fmt)
    print_errors(result.errors)
    return EXIT_ERRORS if result.errors else 0


def _cmd_update(options: LookupOptions, *, paths: Sequence[Path], include: Sequence[str], exclude: Sequence[str],
                dry_run: bool, fmt: OutputFormat) -> int:
    _require(paths)
    with _services(options) as services:
        result = plan(paths, services=services, base=Path.cwd(), include=include, exclude=exclude)
    if not dry_run:
        written, failures = write_changes(result.changes, inside=Path.cwd())
        result = replace(result, changes=tuple(written), rewrite_errors=(*result.rewrite_errors, *failures))
    print_plan(result, services.calls, fmt)
    _say_cost(services, result)
    if not dry_run and result.changes:
        print(f"tagbot: wrote {len(result.changes)} file{'s' if len(result.changes) != 1 else ''}", file=sys.stderr)
    print_errors(result.scan_errors, result.errors, result.rewrite_errors)
    return EXIT_ERRORS if result.failed else 0


def _cmd_check(options: LookupOptions, *, paths: Sequence[Path], include: Sequence[str], exclude: Sequence[str],
               hook: bool = False, eol: bool = False) -> int:
    if hook:
        options = replace(options, hook=True)
        if not (os.environ.get(KEY_ENV) or "").strip() and not options.offline:
            options = replace(options, offline=True)
            print(f"tagbot: {KEY_ENV} is not set: freshness checked from the cache only", file=sys.stderr)
    _require(paths)
    with _services(options) as services:
        result = plan(paths, services=services, base=Path.cwd(), include=include, exclude=exclude)
    # A hook must not fail a commit for a network it does not have: those images are named, not failed.
    errors = tuple(f for f in result.errors if not (hook and f.temporary))
    unchecked = len(result.errors) - len(errors)
    print_check(result, life=eol)
    lives = f", {len(result.life)} end-of-life, moved, deprecated or abandoned" if eol else ""
    print(f"tagbot: {len(result.updates)} update(s) available, {len(result.violations)} rule(s) broken{lives}; "
          f"{calls_summary(services.calls)}", file=sys.stderr)
    _say_knowledge(result)
    if unchecked:
        print(f"tagbot: freshness not checked for {unchecked} image{'s' if unchecked != 1 else ''}: "
              "offline or unreachable, and not cached", file=sys.stderr)
    print_errors(result.scan_errors, errors)
    if result.scan_errors or errors:
        return EXIT_ERRORS
    return EXIT_UPDATES if (result.updates or result.violations or (eol and result.life)) else 0


def _cmd_explain(options: LookupOptions, *, image_text: str, platform: str | None, show_all: bool = False) -> int:
    try:
        image = parse_ref(image_text)
    except InvalidReference as e:
        raise ConfigError(str(e)) from None
    with _services(options) as services:
        # The repository here says which platforms it builds for, as it would for `update`.
        explanation = explain(image, platform=platform, services=services, repository=Path.cwd())
    print_explain(explanation, show_all=show_all)
    print(f"tagbot: {calls_summary(services.calls)}", file=sys.stderr)
    return 0


def _cmd_pr(options: LookupOptions, *, paths: Sequence[Path], include: Sequence[str], exclude: Sequence[str],
            dry_run: bool, repository: str | None, frame: CommandFrame, result_file: Path | None = None) -> int:
    # Imported here: PyGithub and GitPython take a tenth of a second to load, which no other
    # command (the pre-commit hook least of all) should pay.
    from tagbot.git import Workspace
    from tagbot.pr.github import DEFAULT_API_URL as GITHUB_API
    from tagbot.pr.github import PullRequests
    from tagbot.pr.identity import BOT_LOGIN_ENV
    from tagbot.pr.links import find_links
    from tagbot.pr.sync import Repository, open_pull_images, present_versions, sync_pull_requests, workspace_paths

    token = os.environ.get(TOKEN_ENV)
    if not token:
        raise ConfigError(f"set {TOKEN_ENV} to a token that may push branches and open pull requests")
    repository = repository or os.environ.get(REPOSITORY_ENV)
    if not repository:
        raise ConfigError(f"name the repository with --repository owner/name or ${REPOSITORY_ENV}")
    _require(paths)
    workspace = Workspace(Path.cwd(), secrets=[token, os.environ.get(KEY_ENV, "")])
    try:
        with _services(options) as services:
            pulls = PullRequests(repository, token, os.environ.get(GITHUB_API_ENV) or GITHUB_API,
                                 bot_login=os.environ.get(BOT_LOGIN_ENV) or None,
                                 branch_prefix=services.config.run.branch_prefix)
            run = services.config.run
            base_branch = run.base_branch or pulls.default_branch
            base_commit = workspace.fetch(base_branch, run.branch_prefix)
            tree = workspace.start(base_commit)
            # Under the monthly budget, the images of tagbot's open pull requests are asked first.
            urgent = open_pull_images(pulls, base_branch) if run.monthly_calls else frozenset()
            result = plan(workspace_paths(paths, tree, workspace.root), services=services, base=tree,
                          include=include, exclude=exclude, for_pull_requests=True, urgent=urgent)
            known = Repository(present_versions(result.references), frozenset(f.subject for f in result.errors),
                               frozenset(e.file for e in result.scan_errors),
                               tuple([*(str(e) for e in result.scan_errors), *(f.text for f in result.errors)]),
                               life=result.life)
            actions = sync_pull_requests(
                workspace=workspace, pulls=pulls, settings=run, updates=result.updates, held_back=result.held_back,
                base_branch=base_branch, base_commit=base_commit, repository=known, dry_run=dry_run,
                apply_updates=apply_updates,
                links_for=lambda group: find_links(group.updates, registry_for=services.sources.registry_for,
                                                   find_release=pulls.release, memory=services.store,
                                                   offline=services.offline) if run.links else {},
                now=services.now(),
            )
        print_actions(actions)
        _say_cost(services, result)
        for notice in pulls.notices:
            print(f"tagbot: {printable(notice, limit=1000)}", file=sys.stderr)
    finally:
        workspace.close()
    _report_to_actions(actions, result, frame)
    # A scheduled run goes on past an image it cannot look up: that is a warning, and the
    # other images' pull requests are still opened and closed. A refused push is an error.
    print_warnings(result.scan_errors, result.errors)
    failed = [a for a in actions if a.kind == "failed"]
    if result_file is not None:
        result_file.write_text(json.dumps({
            "repository": repository,
            "actions": [{"kind": a.kind, "branch": a.branch, "title": a.title, "url": a.url} for a in actions],
            "errors": len(result.errors) + len(result.scan_errors) + len(failed),
        }, indent=1) + "\n", encoding="utf-8")
    for action in failed:
        print(f"tagbot: error: {action.branch}: {printable(action.detail, limit=1000)}", file=sys.stderr)
    return EXIT_ERRORS if failed else 0


def _say_cost(services: Services, result: Plan) -> None:
    """On stderr, where a command's results are not: the run's calls and what the monthly budget did."""
    print(f"tagbot: {calls_summary(services.calls)}", file=sys.stderr)
    _say_knowledge(result)


def _say_knowledge(result: Plan) -> None:
    """On stderr, where a command's table is not: what the monthly budget did."""
    for line in knowledge_lines(result):
        print(f"tagbot: {line}", file=sys.stderr)


def _report_to_actions(actions: Sequence[Action], result: Plan, frame: CommandFrame) -> None:
    """The step summary, annotations and outputs, when running in GitHub Actions."""
    from tagbot.pr.actions_ui import outputs, step_summary, warning_annotations

    if os.environ.get("GITHUB_ACTIONS") == "true":
        with frame.resumed():
            for line in warning_annotations(result):
                print(line)
    _append_to_runner_file("GITHUB_STEP_SUMMARY", step_summary(actions, result))
    _append_to_runner_file("GITHUB_OUTPUT", "".join(f"{name}={value}\n" for name, value in outputs(actions, result).items()))


def _append_to_runner_file(variable: str, text: str) -> None:
    """Add `text` to the file an Actions runner names in `variable` (a step summary, outputs);
    outside Actions there is none, and nothing is written."""
    if path := os.environ.get(variable):
        with open(path, "a", encoding="utf-8") as runner_file:
            runner_file.write(text)


def _require(paths: Sequence[Path]) -> None:
    for path in paths:
        if not path.exists():
            raise TagbotError(f"{path}: no such file or directory")


def _services(options: LookupOptions) -> AbstractContextManager[Services]:
    """The run's services, with a progress bar on a terminal and notices said once."""
    return _with_progress(open_services(options, directory=Path()))


@contextmanager
def _with_progress(opened: AbstractContextManager[Services]) -> Iterator[Services]:
    bars: list[ProgressBar] = []

    def progress(label: str) -> ProgressBar:
        bars.append(ProgressBar(label=label))
        return bars[-1]

    with opened as services:
        for notice in services.notices:
            print(f"tagbot: {notice}", file=sys.stderr)
        services.progress = progress
        try:
            yield services
        finally:
            for bar in bars:
                bar.close()
