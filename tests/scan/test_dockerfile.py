from __future__ import annotations

import pytest

from tagbot.scan import dockerfile, scan_file
from tagbot.scan.model import joined
from tests.helpers import fixture, found_rows

DIGEST = "sha256:" + "3f" * 32


def rows(name: str) -> list[tuple[int, int, str, str | None]]:
    references = scan_file(fixture("dockerfile", name), name=name, kind="dockerfile")
    return [(r.line, r.column, r.found.text, r.found.skip_reason) for r in references]


def extract_texts(text: str) -> list[str]:
    return [f.text for f in dockerfile.extract(text) if f.skip_reason is None]


def assert_pieces_are_file_text(text: str) -> None:
    for found in dockerfile.extract(text):
        assert joined(found.pieces) == found.text
        for piece in found.pieces:
            assert text[piece.start : piece.end] == piece.text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "go-multistage.Dockerfile",
            [
                (1, 10, "docker/dockerfile:1.7", None),
                # The tag comes from ARG lines: the place points at the value there.
                (2, 16, "golang:1.23.4-alpine3.21", None),
                (13, 6, f"gcr.io/distroless/static-debian12:nonroot@{DIGEST}", None),
                (14, 13, "build", "stage"),
                (15, 20, "docker.io/library/busybox:1.37.0-musl", None),
                (17, 28, "ghcr.io/astral-sh/uv:0.5.11", None),
            ],
        ),
        (
            "windows-escape.Dockerfile",
            [
                (2, 10, "docker/dockerfile:1", None),
                (4, 6, "mcr.microsoft.com/windows/servercore:ltsc2022", None),
                (10, 3, "mcr.microsoft.com/dotnet/runtime:8.0-nanoserver-ltsc2022", None),
                (11, 13, "base", "stage"),
            ],
        ),
        (
            "heredocs.Dockerfile",
            [(1, 6, "python:3.13-slim-bookworm", None), (14, 6, "ubuntu:24.04", None)],
        ),
        (
            "args.Dockerfile",
            [
                (4, 10, "registry.example.com:5000/node:20.10.0-alpine3.20", None),
                (8, 10, "node:22.11.0", None),  # the stage's own ARG wins over the global one
                (11, 13, "alpine:${VARIANT#alpine}", "variable"),
                (8, 10, "node:22.11.0-alpine3.20", None),  # bare `ARG VARIANT` imports the global
                (13, 10, "node:23.3.0", None),  # a redeclared ARG applies from its line on
                (3, 8, "python:3.12-slim", None),
                (17, 22, "node:18.20.5-bookworm", None),  # points at the `:-` default, where the tag is
                (18, 6, "redis:${UNSET}", "variable"),
                (19, 6, "builder", "stage"),  # stage names are case-insensitive
                (20, 13, "0", "stage"),
                (21, 13, "PY", "stage"),
                (22, 6, "scratch", "scratch"),
            ],
        ),
    ],
)
def test_fixture_references(name, expected):
    assert rows(name) == expected


def test_arg_chain_pieces_point_into_each_arg_line():
    text = fixture("dockerfile", "args.Dockerfile").read_text()
    base = dockerfile.extract(text)[0]
    assert [p.text for p in base.pieces] == ["registry.example.com:5000", "/node:", "20.10.0", "-", "alpine3.20"]
    lines = [text.count("\n", 0, p.start) + 1 for p in base.pieces]
    assert lines == [1, 5, 4, 5, 4]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from node:20\nFrOm redis:7 As cache\n", ["node:20", "redis:7"]),
        ("FROM --platform=linux/arm64 node:20 AS x\n", ["node:20"]),
        ("FROM node:20 \\\n  AS build\nFROM build\n", ["node:20"]),
        ("FROM \\\n\n# comment\n  node:20\n", ["node:20"]),
        ("ARG V=1\nFROM a:$V\nFROM b:${V}\nFROM c:${W:-2}\nFROM d:${W-3}\n", ["a:1", "b:1", "c:2", "d:3"]),
        ("ARG V\nFROM a:${V:-9}\nFROM b:${V-8}\n", ["a:9", "b:8"]),
        ("ARG V=\nFROM a:${V:-9}\nFROM b${V-8}:1\n", ["a:9", "b:1"]),
        ("ARG V=1\nFROM a:1${V:+-x}\n", ["a:1-x"]),
        ("ARG IMG='nginx:1'\nFROM $IMG\n", ["nginx:1"]),
        ("FROM a:1\nARG V=2\nFROM b:${V:-3}\n", ["a:1", "b:3"]),  # stage ARGs never reach FROM
        ("FROM a:1\nCOPY --from=b:${V:-4} / /\n", ["a:1", "b:4"]),
        ("FROM a:1\nCOPY --chown=1:1 --from=c:5 / /\nADD --from=d:6 / /\n", ["a:1", "c:5"]),
        ("FROM a:1\nRUN --mount=type=bind,FROM=e:7,target=/x true\n", ["a:1", "e:7"]),
        ("FROM a:1\nRUN --network=none echo --mount=from=f:8\n", ["a:1"]),
        ("# escape=`\nFROM a:1 `\n  AS x\nRUN echo \\\nFROM b:2\n", ["a:1", "b:2"]),
        ("# escape=`\nRUN echo `\nFROM b:2\n", []),
        ("\n# escape=`\nRUN echo `\nFROM b:2\n", ["b:2"]),  # after a blank line it is a comment
        ("FROM a:1\n# escape=`\nRUN x \\\nFROM b:2\n", ["a:1"]),
        ("# syntax=docker/dockerfile:1\n# escape=\\\nFROM a:1\n", ["docker/dockerfile:1", "a:1"]),
        ("# check=skip=all\n# syntax=docker/dockerfile:1\nFROM a:1\n", ["docker/dockerfile:1", "a:1"]),
        ("# hello\n# syntax=docker/dockerfile:1\nFROM a:1\n", ["a:1"]),
        # An unknown directive is a comment, and BuildKit looks for no directive after it.
        ("# maintainer=me\n# escape=`\nRUN echo `\nFROM b:2\n", ["b:2"]),
        ("FROM a:1\n# syntax=docker/dockerfile:1\n", ["a:1"]),
        ("RUN <<EOF\nFROM x:1\nEOF\nFROM a:1\n", ["a:1"]),
        ("RUN <<-EOF\nFROM x:1\n\t\tEOF\nFROM a:1\n", ["a:1"]),
        ("RUN <<EOF\nFROM x:1\n  EOF\nFROM y:1\nEOF\nFROM a:1\n", ["a:1"]),
        ("RUN echo '<<EOF' \nFROM a:1\n", ["a:1"]),
        ("FROM a:1\nRUN <<EOF\nunterminated\nFROM x:1\n", ["a:1"]),
        ("", []),
        ("FROM\n", []),
        ("FROM a:1\nCOPY --from= / /\nRUN --mount=type=bind,from=,target=/t true\n", ["a:1"]),
        ("FROM --platform=linux/amd64\n", []),
    ],
)
def test_instruction_rules(text, expected):
    assert extract_texts(text) == expected
    assert_pieces_are_file_text(text)


def test_bom_and_crlf_keep_exact_offsets():
    text = "\ufeff# syntax=docker/dockerfile:1.7\r\nARG V=20\r\nFROM node:${V}-alpine \\\r\n  AS x\r\n"
    found = dockerfile.extract(text)
    assert [f.text for f in found] == ["docker/dockerfile:1.7", "node:20-alpine"]
    assert_pieces_are_file_text(text)


def test_platform_flag_resolves_global_args_and_leaves_build_args_unknown():
    text = "ARG P=linux/arm64\nFROM --platform=$P a:1\nFROM --platform=$BUILDPLATFORM b:1\nFROM c:1\n"
    assert [f.platform for f in dockerfile.extract(text)] == ["linux/arm64", None, None]


def test_literal_platform_flags_declare_what_the_repository_builds_for():
    text = "ARG P=linux/arm64\nFROM --platform=$P a:1\nFROM --platform=$BUILDPLATFORM b:1\nFROM --platform=linux/amd64 c:1\n"
    found = dockerfile.extract(text)
    declared = [(text.count("\n", 0, offset) + 1, p) for offset, p in dockerfile.declared_platforms(text, found)]
    assert declared == [(2, "linux/arm64"), (4, "linux/amd64")]


@pytest.mark.parametrize(
    ("text", "reason", "detail"),
    [
        ("FROM node:${NODE}\n", "variable", "${NODE} has no default in the file"),
        ("ARG NODE\nFROM node:$NODE\n", "variable", "$NODE has no default in the file"),
        ("ARG E=\nFROM ${E}\n", "variable", "${E} expands to nothing"),
        ("FROM Node:20\n", "invalid", "repository name 'Node' must be lowercase"),
        ("FROM a:1 AS b\nCOPY --from=B / /\n", "stage", "refers to the build stage 'B'"),
    ],
)
def test_skips_say_why(text, reason, detail):
    skipped = [f for f in dockerfile.extract(text) if f.skip_reason]
    assert [(f.skip_reason, f.detail) for f in skipped] == [(reason, detail)]


@pytest.mark.parametrize(
    ("filename", "matches"),
    [
        ("Dockerfile", True),
        ("dockerfile", True),
        ("Containerfile", True),
        ("Dockerfile.prod", True),
        ("api.Dockerfile", True),
        ("api.dockerfile", True),
        ("Dockerfile.dockerignore", False),
        ("tagbot/scan/dockerfile.py", False),  # source, text and backup files named after one
        ("Dockerfile.md", False),
        ("Dockerfile.orig", False),
        ("Dockerfile.alpine", True),
        ("Dockerfile-old", False),
        ("compose.yaml", False),
        ("README.md", False),
    ],
)
def test_file_names(filename, matches):
    assert dockerfile.matches(filename) is matches


def test_line_and_column_skip_the_bom(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_bytes("\ufeff# syntax=docker/dockerfile:1.7\r\nFROM node:20\r\n".encode())
    references = scan_file(path, name="Dockerfile", kind="dockerfile")
    assert [(r.line, r.column) for r in references] == [(1, 10), (2, 6)]


def test_an_escape_line_after_a_comment_is_no_directive():
    # BuildKit's own escape-after-comment case: directives end at the first comment or blank line,
    # so the backslash still continues the line.
    text = "# dummy\n# escape = `\n\nFROM \\\nnginx:1.20\n"
    assert found_rows(dockerfile.extract(text), text) == [("nginx:1.20", None)]
    # BuildKit joins a continued line to the next as written: `FROM\` + `nginx:1.20` is
    # `FROMnginx:1.20`, no instruction, so no image.
    joined = "# dummy\n# escape = `\n\nFROM\\\nnginx:1.20\n"
    assert dockerfile.extract(joined) == []
