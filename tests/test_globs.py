"""Globs mean what .gitignore means by them, for files and image names alike: `*` stays within
one folder, `**` crosses them, and a broken pattern is an error, not a glob matching nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tagbot.cli import main
from tagbot.config import load_config
from tagbot.errors import ConfigError
from tagbot.globs import PathGlobs, glob_problem, name_matches
from tagbot.refs import parse_ref

TREE = ["Dockerfile", "deploy/compose.yaml", "deploy/sub/compose.yaml", "deploy/sub/deeper/Dockerfile",
        "app/deploy/Dockerfile", "vendored/x/Dockerfile"]


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in TREE:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("services: {a: {image: redis:7}}\n" if name.endswith(".yaml") else "FROM redis:7\n")
    return tmp_path


def scanned(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    assert main(["scan", *args]) == 0
    return [line.split(":")[0] for line in capsys.readouterr().out.splitlines()[1:]]


@pytest.mark.parametrize(("exclude", "left"), [
    # `*` is one folder's files: deploy/*.yaml is deploy's own, not deploy/sub's (fnmatch took both).
    ("deploy/*.yaml", ["Dockerfile", "app/deploy/Dockerfile", "deploy/sub/compose.yaml", "deploy/sub/deeper/Dockerfile",
                       "vendored/x/Dockerfile"]),
    ("deploy/**/compose.yaml", ["Dockerfile", "app/deploy/Dockerfile", "deploy/sub/deeper/Dockerfile", "vendored/x/Dockerfile"]),
    # A slash anchors at the root; a name alone is a file or folder at any depth.
    ("/deploy/", ["Dockerfile", "app/deploy/Dockerfile", "vendored/x/Dockerfile"]),
    ("deploy", ["Dockerfile", "vendored/x/Dockerfile"]),
    ("/Dockerfile", ["app/deploy/Dockerfile", "deploy/compose.yaml", "deploy/sub/compose.yaml", "deploy/sub/deeper/Dockerfile",
                     "vendored/x/Dockerfile"]),
    ("vendored/*/Dockerfile", ["Dockerfile", "app/deploy/Dockerfile", "deploy/compose.yaml", "deploy/sub/compose.yaml",
                               "deploy/sub/deeper/Dockerfile"]),
])
def test_exclude_is_gitignore_style(tree: Path, capsys: pytest.CaptureFixture[str], exclude: str, left: list[str]):
    assert scanned(capsys, "--exclude", exclude) == left
    (tree / "tagbot.yaml").write_text(f"exclude: ['{exclude}']\n")
    assert scanned(capsys) == left  # the config's exclude: means the same


def test_a_pattern_can_be_taken_back(tree: Path, capsys: pytest.CaptureFixture[str]):
    (tree / "tagbot.yaml").write_text("exclude: ['deploy/*', '!deploy/sub/']\n")
    assert scanned(capsys) == ["Dockerfile", "app/deploy/Dockerfile", "deploy/sub/compose.yaml", "deploy/sub/deeper/Dockerfile",
                               "vendored/x/Dockerfile"]
    (tree / "tagbot.yaml").write_text("exclude: ['deploy/**/*.yaml', '!deploy/sub/compose.yaml']\n")
    assert "deploy/sub/compose.yaml" in scanned(capsys) and "deploy/compose.yaml" not in scanned(capsys)


def test_no_pattern_brings_back_a_file_whose_folder_is_left_out(tree: Path, capsys: pytest.CaptureFixture[str]):
    # As git: it never looks inside a folder it leaves out, so `!` cannot reach the files there.
    (tree / "tagbot.yaml").write_text("exclude: ['deploy/**', '!deploy/sub/compose.yaml']\n")
    assert scanned(capsys) == ["Dockerfile", "app/deploy/Dockerfile", "vendored/x/Dockerfile"]
    (tree / "tagbot.yaml").write_text("exclude: ['deploy', '!deploy/compose.yaml']\n")
    assert scanned(capsys) == ["Dockerfile", "vendored/x/Dockerfile"]


def test_a_pattern_ending_in_a_slash_names_folders_only(tree: Path, capsys: pytest.CaptureFixture[str]):
    # `deploy/**/` is deploy's subfolders, not deploy's own files (pathspec alone took both).
    assert scanned(capsys, "--exclude", "deploy/**/") == ["Dockerfile", "app/deploy/Dockerfile", "deploy/compose.yaml",
                                                          "vendored/x/Dockerfile"]


def test_include_chooses_by_the_same_rules(tree: Path, capsys: pytest.CaptureFixture[str]):
    assert scanned(capsys, "--include", "deploy/*") == ["deploy/compose.yaml", "deploy/sub/compose.yaml",
                                                         "deploy/sub/deeper/Dockerfile"]  # deploy/sub is in deploy/*
    assert scanned(capsys, "--include", "/deploy/*.yaml") == ["deploy/compose.yaml"]


@pytest.mark.parametrize(("glob", "image", "matched"), [
    ("postgres", "postgres:16", True),
    ("postgres", "bitnami/postgres:16", True),  # without a `/`, the name's last part, as .gitignore does
    ("library/postgres", "bitnami/postgres:16", False),  # with one, the whole name from its start
    ("library/postgres", "postgres:16", True),
    ("*postgres*", "bitnami/postgresql:16", True),
    ("bitnami/*", "bitnami/postgres:16", True),
    ("ghcr.io/acme/*", "ghcr.io/acme/team/app:1", False),  # `*` is one part of the name
    ("ghcr.io/acme/**", "ghcr.io/acme/team/app:1", True),
    ("**/postgres", "bitnami/postgres:16", True),
    ("library/*", "nginx:1", True),
    ("[a-c]*/redis", "bitnami/redis:7", True),
    ("[!b]*/redis", "bitnami/redis:7", False),
    # `**` as a whole part is any number of parts, none included, as .gitignore has it.
    ("ghcr.io/acme/**/api", "ghcr.io/acme/api:1", True),
    ("ghcr.io/acme/**/api", "ghcr.io/acme/a/b/api:1", True),
    ("**/api", "ghcr.io/acme/team/api:1", True),
    ("ghcr.io/**api", "ghcr.io/acme/api:1", False),  # not a whole part: `*`
    ("[]a]cme/*", "acme/x:1", True),  # a `]` first in a class is one of its characters
])
def test_image_globs_in_groups_and_rules(glob: str, image: str, matched: bool):
    assert name_matches([glob], parse_ref(image).names) is matched


@pytest.mark.parametrize(("glob", "said"), [
    ("deploy/[ab", "opens a [ it does not close"), ("[", "opens a [ it does not close"),
    ("a[!", "opens a [ it does not close"), ("x/[a/b]", "opens a [ it does not close"),
    ("[]", "opens a [ it does not close"), ("[!]", "opens a [ it does not close"),
    # These passed the bracket check once and failed mid-run with a traceback.
    ("[z-a]", "is no pattern: bad character range z-a"), ("deploy/[9-0]*", "is no pattern: bad character range 9-0"),
])
def test_a_broken_pattern_is_an_error_naming_the_setting(tree: Path, capsys: pytest.CaptureFixture[str], glob: str, said: str):
    assert said in glob_problem(glob)
    assert main(["scan", "--exclude", glob]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tagbot: error: --exclude: {glob!r} {said}") and err.count("\n") == 1 and "Traceback" not in err
    for config in (f"exclude: ['{glob}']\n", f"groups: {{db: ['{glob}']}}\n", f"rules: [{{match: '{glob}', enabled: false}}]\n",
                   f"forbid_tags: ['{glob}']\n", f"ignore: ['{glob}']\n"):
        (tree / "tagbot.yaml").write_text(config)
        with pytest.raises(ConfigError, match=rf"tagbot\.yaml:1: .*{re.escape(said)}"):
            load_config(None, directory=tree)


def test_path_globs_match_relative_paths():
    globs = PathGlobs(["*.yaml", "!keep.yaml"])
    assert globs.match("a/b/c.yaml") and not globs.match("keep.yaml") and not globs.match("Dockerfile")
    assert not PathGlobs([])
