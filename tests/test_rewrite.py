from __future__ import annotations

from pathlib import Path

import pytest

from tagbot.errors import RewriteError
from tagbot.model import Update
from tagbot.rewrite import apply_edits, edits_for, plan_file
from tagbot.scan import scan_file

OLD = "sha256:" + "0" * 64
NEW = "sha256:" + "1" * 64


def update(to_tag: str | None, to_digest: str | None = None, kind: str = "minor") -> Update:
    return Update(None, None, to_tag, to_digest, kind, frozenset(), None, None)


def rewrite(tmp_path: Path, name: str, text: str | bytes, *changes: tuple[int, Update]) -> str:
    """Write `text`, scan it, apply the given (reference index, update) pairs, return the result."""
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    kind = "compose" if name.endswith(".yaml") else "dockerfile"
    references = [r for r in scan_file(path, name=name, kind=kind) if r.found.image]
    edits = [e for index, u in changes for e in edits_for(references[index], u)]
    return plan_file(name, path, edits).after


@pytest.mark.parametrize(
    ("text", "changes", "expected"),
    [
        ("FROM nginx:1.27.3 AS web\n", [(0, update("1.27.4"))], "FROM nginx:1.27.4 AS web\n"),
        (f"FROM nginx:1.27.3@{OLD}\n", [(0, update("1.28.0", NEW))], f"FROM nginx:1.28.0@{NEW}\n"),
        (f"FROM nginx:1.27.3@{OLD}\n", [(0, update("1.27.3", NEW, "digest"))], f"FROM nginx:1.27.3@{NEW}\n"),
        (f"FROM nginx@{OLD}\n", [(0, update(None, NEW, "digest"))], f"FROM nginx@{NEW}\n"),
        ("FROM nginx:1.27.3\n", [(0, update("1.27.3", NEW, "pin"))], f"FROM nginx:1.27.3@{NEW}\n"),
        ("FROM nginx\n", [(0, update(None, NEW, "pin"))], f"FROM nginx@{NEW}\n"),
        # The tag lives in an ARG line: the ARG default changes, the FROM line stays.
        ("ARG V=1.27.3\nFROM nginx:${V}-alpine\n", [(0, update("1.28.0-alpine"))], "ARG V=1.28.0\nFROM nginx:${V}-alpine\n"),
        ('ARG V="1.27.3"\nFROM nginx:$V\n', [(0, update("1.28.0"))], 'ARG V="1.28.0"\nFROM nginx:$V\n'),
        ("ARG V=1.27.3\nFROM nginx:${V}\n", [(0, update("1.27.3", NEW, "pin"))], f"ARG V=1.27.3\nFROM nginx:${{V}}@{NEW}\n"),
        ("ARG G=1.23 A=3.20\nFROM golang:${G}-alpine${A}\n", [(0, update("1.24-alpine3.20"))],
         "ARG G=1.24 A=3.20\nFROM golang:${G}-alpine${A}\n"),
        ("ARG G=1.23 A=3.20\nFROM golang:${G}-alpine${A}\n", [(0, update("1.23-alpine3.21"))],
         "ARG G=1.23 A=3.21\nFROM golang:${G}-alpine${A}\n"),
        ("FROM node:${N:-20}-slim\n", [(0, update("22-slim"))], "FROM node:${N:-22}-slim\n"),
        # One ARG used by two references with the same new value is edited once.
        ("ARG V=1.27\nFROM nginx:${V}\nFROM nginx:${V}-alpine\n", [(0, update("1.28")), (1, update("1.28-alpine"))],
         "ARG V=1.28\nFROM nginx:${V}\nFROM nginx:${V}-alpine\n"),
        ("FROM a:1 AS x\nCOPY --from=b:2 / /\nRUN --mount=type=bind,from=c:3,target=/t true\n",
         [(1, update("2.1")), (2, update("3.1"))], "FROM a:1 AS x\nCOPY --from=b:2.1 / /\nRUN --mount=type=bind,from=c:3.1,target=/t true\n"),
        ("\ufeff# syntax=docker/dockerfile:1.7\r\nFROM nginx:1.27 \\\r\n  AS web\r\n", [(0, update("1.10")), (1, update("1.28"))],
         "\ufeff# syntax=docker/dockerfile:1.10\r\nFROM nginx:1.28 \\\r\n  AS web\r\n"),
    ],
)
def test_dockerfile_edits_touch_only_the_value(tmp_path: Path, text, changes, expected):
    assert rewrite(tmp_path, "Dockerfile", text, *changes) == expected


@pytest.mark.parametrize(
    ("text", "changes", "expected"),
    [
        ("services:\n  a:\n    image: 'redis:7.2'  # pinned for now\n", [(0, update("7.4"))],
         "services:\n  a:\n    image: 'redis:7.4'  # pinned for now\n"),
        ('services: {a: {image: "redis:7.2"}}\n', [(0, update("7.4"))], 'services: {a: {image: "redis:7.4"}}\n'),
        ("x-i: &i redis:7.2\nservices:\n  a: {image: *i}\n", [(0, update("7.4"))], "x-i: &i redis:7.4\nservices:\n  a: {image: *i}\n"),
        ('services:\n  a:\n    image: "redis:${T:-7.2}"\n', [(0, update("7.4", NEW))],
         f'services:\n  a:\n    image: "redis:${{T:-7.4}}@{NEW}"\n'),
    ],
)
def test_compose_edits_keep_quoting_and_comments(tmp_path: Path, text, changes, expected):
    assert rewrite(tmp_path, "compose.yaml", text, *changes) == expected


def test_conflicting_updates_of_one_arg_are_refused(tmp_path: Path):
    text = "ARG V=1.27\nFROM nginx:${V}\nFROM nginx:${V}-alpine\n"
    with pytest.raises(RewriteError, match="Dockerfile:1: conflicting updates for the same text"):
        rewrite(tmp_path, "Dockerfile", text, (0, update("1.28")), (1, update("1.29-alpine")))


def test_a_value_split_over_several_args_that_would_all_change_is_refused(tmp_path: Path):
    text = "ARG G=1.23 A=3.20\nFROM golang:${G}-alpine${A}\n"
    with pytest.raises(RewriteError, match=r"1.23-alpine3.20 is built from several values \(1.23, -alpine, 3.20\)"):
        rewrite(tmp_path, "Dockerfile", text, (0, update("1.24-alpine3.21")))


def test_a_file_changed_since_the_scan_is_refused(tmp_path: Path):
    path = tmp_path / "Dockerfile"
    path.write_text("FROM nginx:1.27.3\n")
    (reference,) = scan_file(path, name="Dockerfile", kind="dockerfile")
    edits = edits_for(reference, update("1.27.4"))
    path.write_text("FROM nginx:1.29.0\n")
    with pytest.raises(RewriteError, match=r"Dockerfile:1: expected '1.27.3', found '1.29.0': the file changed"):
        plan_file("Dockerfile", path, edits)


def test_a_value_that_grew_since_the_scan_is_refused_not_extended(tmp_path: Path):
    path = tmp_path / "Dockerfile"
    path.write_text("FROM nginx:1.27.3\n")
    (reference,) = scan_file(path, name="Dockerfile", kind="dockerfile")
    edits = edits_for(reference, update("1.27.4"))
    with pytest.raises(RewriteError, match=r"expected '1.27.3', found '1.27.30'"):
        apply_edits("FROM nginx:1.27.30\n", edits)
