from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tagbot.cli import main
from tests.helpers import fixture

DIGEST = "sha256:" + "3f" * 32


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(fixture("dockerfile", "go-multistage.Dockerfile"), tmp_path / "Dockerfile")
    (tmp_path / "deploy").mkdir()
    shutil.copy(fixture("compose", "anchors.compose.yaml"), tmp_path / "deploy/compose.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_scan_json_is_the_contract(repo: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["scan", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["errors"] == []
    golang = out["references"][1]
    assert golang == {
        "file": "Dockerfile",
        "line": 2,
        "column": 16,
        "kind": "dockerfile",
        "text": "golang:1.23.4-alpine3.21",
        "registry": "docker.io",
        "repository": "library/golang",
        "tag": "1.23.4-alpine3.21",
        "digest": None,
        "platform": None,
        "skipped": False,
        "skip_reason": None,
        "detail": None,
    }
    proxy = next(r for r in out["references"] if r["repository"] == "library/nginx")
    assert (proxy["file"], proxy["line"], proxy["kind"]) == ("deploy/compose.yaml", 23, "compose")
    assert (proxy["tag"], proxy["digest"], proxy["platform"]) == ("1.27.3", DIGEST, "linux/arm64")
    stage = next(r for r in out["references"] if r["text"] == "build")
    assert (stage["skipped"], stage["skip_reason"], stage["registry"]) == (True, "stage", None)
    assert [r["file"] for r in out["references"]].count("deploy/compose.yaml") == 9


def test_scan_table_is_aligned_for_people(repo: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["scan", "Dockerfile"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["FILE", "KIND", "IMAGE", "TAG", "DIGEST", "NOTE"]
    assert lines[3].split() == ["Dockerfile:13", "dockerfile", "gcr.io/distroless/static-debian12", "nonroot",
                                "sha256:3f3f3f3f3f3f"]
    assert lines[4].split()[:4] == ["Dockerfile:14", "dockerfile", "build", "skipped"]
    image_column = lines[0].index("IMAGE")
    assert all(line[image_column - 2 : image_column] == "  " for line in lines[1:])


def test_paths_and_globs(repo: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["scan", "deploy", "--format", "json", "--exclude", "*.yaml"]) == 0
    assert json.loads(capsys.readouterr().out)["references"] == []


def test_bad_files_are_reported_and_the_rest_still_scanned(repo: Path, capsys: pytest.CaptureFixture[str]):
    (repo / "docker-compose.yml").write_text("services:\n  a: [\n")
    assert main(["scan", "--format", "json"]) == 2
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["errors"] == [{"kind": "scan", "file": "docker-compose.yml", "line": 3, "message": out["errors"][0]["message"]}]
    assert len(out["references"]) == 15
    assert captured.err.startswith("docker-compose.yml:3: error: invalid YAML: ")


def test_missing_path_is_one_clear_line(repo: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["scan", "nowhere"]) == 2
    assert capsys.readouterr().err == "tagbot: error: nowhere: no such file or directory\n"


def test_installed_entry_points(repo: Path):
    # The console script lies beside this interpreter, whether or not its venv is activated.
    script = Path(sys.executable).parent / "tagbot"
    for command in ([str(script)], [sys.executable, "-m", "tagbot"]):
        result = subprocess.run([*command, "scan", "--format", "json"], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert len(json.loads(result.stdout)["references"]) == 15


def test_only_tagbot_pr_loads_pygithub_and_gitpython():
    """They take a tenth of a second to import, which scan, check and the pre-commit hook skip."""
    probe = "import sys, tagbot.cli; print(sorted({'github', 'git'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout == "[]\n"


def test_an_error_says_its_place_first_only_when_it_has_one():
    from tagbot.report import error_line

    assert error_line("error", "Dockerfile:3: bad FROM", "Dockerfile:3") == "Dockerfile:3: error: bad FROM"
    # A host and port is no file and line: the place is the error's to say, not read off its text.
    assert error_line("error", "localhost:5000: cannot connect") == "tagbot: error: localhost:5000: cannot connect"
    assert error_line("warning", "redis:7: odd", None) == "tagbot: warning: redis:7: odd"
    # A file name that would start a workflow command stays plainly a path.
    assert error_line("error", "::warning::x:1: bad", "::warning::x:1") == "./::warning::x:1: error: bad"

