from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tagbot.scan import kind_of, scan_paths
from tagbot.scan.files import find_files


def write(path: Path, text: str = "FROM alpine:3.21\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def names(root: Path, **options) -> list[str]:
    return [f.name for f in find_files([root], base=root, kind_of=kind_of, **options).files]


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    write(tmp_path / "Dockerfile")
    write(tmp_path / "services/api/Dockerfile.prod")
    write(tmp_path / "services/api/compose.yaml", "services: {a: {image: redis:7}}\n")
    write(tmp_path / "services/web/web.Dockerfile")
    write(tmp_path / "services/web/README.md", "FROM nope:1\n")
    write(tmp_path / "node_modules/pkg/Dockerfile")
    write(tmp_path / "vendor/lib/Dockerfile")
    write(tmp_path / ".git/Dockerfile")
    return tmp_path


def test_walk_finds_known_kinds_and_skips_vendored_trees(tree: Path):
    assert names(tree) == [
        "Dockerfile",
        "services/api/Dockerfile.prod",
        "services/api/compose.yaml",
        "services/web/web.Dockerfile",
    ]


def test_include_and_exclude_globs(tree: Path):
    assert names(tree, include=["services/*"]) == [
        "services/api/Dockerfile.prod",
        "services/api/compose.yaml",
        "services/web/web.Dockerfile",
    ]
    assert names(tree, include=["*.Dockerfile"]) == ["services/web/web.Dockerfile"]
    assert names(tree, exclude=["services/api/*", "Dockerfile"]) == ["services/web/web.Dockerfile"]


def test_gitignore_is_honoured_inside_a_repository(tree: Path):
    git(tree, "init", "-q")
    write(tree / ".gitignore", "services/web/\n*.prod\n")
    write(tree / "build/Dockerfile")
    write(tree / ".git/info/exclude", "build/\n")
    assert names(tree) == ["Dockerfile", "services/api/compose.yaml"]


def test_tracked_files_count_even_when_a_pattern_matches_them(tree: Path):
    git(tree, "init", "-q")
    git(tree, "add", "services/api/Dockerfile.prod")
    write(tree / ".gitignore", "*.prod\n")
    assert "services/api/Dockerfile.prod" in names(tree)


def test_gitignore_is_not_read_outside_a_repository(tree: Path):
    write(tree / ".gitignore", "*\n")
    assert len(names(tree)) == 4


def test_symlinks_never_lead_out_of_the_root(tmp_path: Path):
    outside = write(tmp_path / "outside/Dockerfile")
    root = tmp_path / "repo"
    write(root / "Dockerfile")
    (root / "linked").mkdir()
    os.symlink(outside, root / "linked/Dockerfile")
    os.symlink(tmp_path / "outside", root / "linked-dir")
    os.symlink(root / "Dockerfile", root / "Containerfile")  # inside the root: fine, read once by its own name
    write(root / "docker/app.Dockerfile")
    os.symlink("docker/app.Dockerfile", root / "app.Dockerfile")  # a link to a file found anyway: read once too
    assert names(root) == ["Dockerfile", "docker/app.Dockerfile"]
    # The link that leaves is said, never passed over in silence.
    assert find_files([root], base=root, kind_of=kind_of).unreadable == [
        ("linked/Dockerfile", "skipped: a link to a file outside the repository")]
    (root / "docker/app.Dockerfile").unlink()
    write(root / "elsewhere/Dockerfile")
    os.symlink(root / "elsewhere/Dockerfile", root / "docker/app.Dockerfile")  # only links to it: the link is read
    assert names(root, exclude=["elsewhere/*"]) == ["Dockerfile", "app.Dockerfile"]


def test_a_file_named_twice_is_scanned_once(tree: Path):
    found = find_files([tree, tree / "Dockerfile"], base=tree, kind_of=kind_of).files
    assert [f.name for f in found].count("Dockerfile") == 1


def test_one_bad_file_never_stops_the_others(tmp_path: Path):
    write(tmp_path / "a/compose.yaml", "services: [\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b/Dockerfile").write_bytes(b"FROM alpine:3.21\nRUN echo \xff\n")
    write(tmp_path / "c/Dockerfile", "FROM node:22\n")
    result = scan_paths([tmp_path], base=tmp_path)
    assert [r.found.text for r in result.references] == ["node:22"]
    assert [(e.file, e.line) for e in result.errors] == [("a/compose.yaml", 2), ("b/Dockerfile", 2)]
    assert str(result.errors[1]) == "b/Dockerfile:2: not UTF-8 text"
    assert result.files == 3
