"""The command line: argument parsing and glue over the library; the one place errors are caught."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from tagbot import __version__
from tagbot.errors import TagbotError
from tagbot.report import print_scan
from tagbot.scan import scan_paths

EXIT_BUG = 3
EXIT_INTERRUPTED = 130


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
    return parser


def _add_paths_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", type=Path, default=[Path(".")], metavar="PATH")
    parser.add_argument("--include", action="append", default=[], metavar="GLOB",
                        help="scan only files matching GLOB (repeatable)")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                        help="skip files matching GLOB (repeatable)")


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "scan":
        return _cmd_scan(paths=args.paths, include=args.include, exclude=args.exclude, fmt=args.format)
    raise AssertionError(f"unhandled command {args.command}")


def _cmd_scan(*, paths: Sequence[Path], include: Sequence[str], exclude: Sequence[str], fmt: str) -> int:
    for path in paths:
        if not path.exists():
            raise TagbotError(f"{path}: no such file or directory")
    result = scan_paths(paths, base=Path.cwd(), include=include, exclude=exclude)
    print_scan(result, fmt)
    for error in result.errors:
        print(f"tagbot: error: {error}", file=sys.stderr)
    return 2 if result.errors else 0
