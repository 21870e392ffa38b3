from __future__ import annotations

import pytest

from tagbot.errors import ScanError
from tagbot.scan import devcontainer, kind_of, read_file
from tests.helpers import fixture, fixture_text, found_rows


def test_image_and_oci_features():
    scanned = read_file(fixture("devcontainer", "devcontainer.json"), name=".devcontainer/devcontainer.json",
                        kind="devcontainer")
    rows = [(r.line, r.column, r.found.text, r.found.artifact) for r in scanned.references]
    assert rows == [
        (5, 12, "mcr.microsoft.com/devcontainers/python:1-3.12-bookworm", False),
        (7, 4, "ghcr.io/devcontainers/features/node:1", True),
        (10, 4, "ghcr.io/devcontainers-contrib/features/poetry:2", True),
        # "./local-feature" and the old "docker-in-docker" id are not OCI references
    ]
    text = fixture_text("devcontainer", "devcontainer.json")
    found_rows(devcontainer.extract(text), text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"image": "node:22"}', [("node:22", None)]),
        ('\ufeff{"image": "node:22"}', [("node:22", None)]),
        ('{"image": "${localEnv:IMAGE}"}', [("${localEnv:IMAGE}", "variable")]),
        ('{"image": "node:\\u0032"}', [("node:\\u0032", "unsupported")]),
        ('{"image": 3}', []),
        ('{"image": ""}', []),
        ('{"build": {"dockerfile": "Dockerfile"}}', []),
        ('{"features": {"localhost:5000/f/x:1": {}}}', [("localhost:5000/f/x:1", None)]),
        ('{"features": []}', []),
        ("[]", []),
        ('{"a": "// not a comment", "image": "n:1" /* c */,}', [("n:1", None)]),
    ],
)
def test_devcontainer_rules(text, expected):
    assert found_rows(devcontainer.extract(text), text) == expected


@pytest.mark.parametrize(
    ("text", "line"),
    [('{\n"image": "x",\n"a": }', 3), ('{"image": "x"', 1), ("{/* open", 1), ('{"a": "\\q"}', 1), ("", 1),
     ("{} {}", 1), ("[" * 1000 + "]" * 1000, 1)],
)
def test_invalid_jsonc_is_an_error_naming_the_line(text, line):
    with pytest.raises(ScanError, match="invalid JSON") as e:
        devcontainer.extract(text)
    assert e.value.line == line


@pytest.mark.parametrize(
    ("path", "kind"),
    [(".devcontainer.json", "devcontainer"), (".devcontainer/devcontainer.json", "devcontainer"),
     (".devcontainer/python/devcontainer.json", "devcontainer"), ("devcontainer.json", None),
     (".devcontainer/a/b/devcontainer.json", None)],
)
def test_file_names(path, kind):
    assert kind_of(path) == kind


# --- issue 20: bounded work on any input --------------------------------------------------------

def test_a_huge_number_is_that_files_scan_error(tmp_path, monkeypatch, capsys):
    from tagbot.cli import main

    (tmp_path / ".devcontainer").mkdir()
    (tmp_path / ".devcontainer/devcontainer.json").write_text('{"image": "node:22",\n "n": ' + "9" * 5000 + "}")
    (tmp_path / "Dockerfile").write_text("FROM redis:7\n")
    monkeypatch.chdir(tmp_path)
    assert main(["scan"]) == 2  # an error, not a crash (3)
    captured = capsys.readouterr()
    assert "redis" in captured.out  # the rest of the scan stands
    assert ".devcontainer/devcontainer.json:2: error: invalid JSON: a number too long to read" in captured.err


def test_of_two_image_keys_the_last_counts():
    text = '{"image": "node:20", "image": "node:22"}'
    assert found_rows(devcontainer.extract(text), text) == [("node:22", None)]
