"""The package as a user gets it: the sdist and the wheel built by the project's own backend, the
wheel installed in a fresh venv, and the sdist's own tests run from the sdist."""

from __future__ import annotations

import email
import os
import re
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

import tagbot

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both archives; build makes the wheel from the unpacked sdist, so a file the sdist lacks
    breaks the wheel too. Offline: the backend comes from the test environment."""
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def only(folder: Path, pattern: str) -> Path:
    (found,) = folder.glob(pattern)
    return found


def test_the_metadata_is_complete_and_the_version_written_once(dist: Path):
    with zipfile.ZipFile(only(dist, "*.whl")) as wheel:
        metadata = email.message_from_bytes(wheel.read(f"tagbot-{tagbot.__version__}.dist-info/METADATA"))
        names = wheel.namelist()
    assert metadata["Version"] == tagbot.__version__
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert "Typing :: Typed" in metadata.get_all("Classifier")
    assert {url.split(",")[0] for url in metadata.get_all("Project-URL")} >= {"Homepage", "Issues", "Changelog"}
    assert metadata["Author"] or metadata["Author-email"]
    assert "tagbot/py.typed" in names
    assert not any(name.startswith("tests/") for name in names)
    assert not re.search(r"(?m)^version\s*=", (ROOT / "pyproject.toml").read_text())


def test_the_wheel_works_in_a_fresh_venv(dist: Path, tmp_path: Path):
    # The dependencies come from this environment (no network here); tagbot itself only from the wheel.
    venv.create(tmp_path / "venv", system_site_packages=True)
    python = tmp_path / "venv" / ("Scripts" if sys.platform == "win32" else "bin") / "python"
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                              "--no-index", str(only(dist, "*.whl"))], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    where = subprocess.run([str(python), "-c", "import tagbot; print(tagbot.__file__)"], capture_output=True,
                           text=True, cwd=tmp_path, check=True).stdout
    assert where.startswith(str(tmp_path / "venv"))
    command = python.parent / "tagbot"
    version = subprocess.run([str(command), "--version"], capture_output=True, text=True, check=True).stdout
    assert version == f"tagbot {tagbot.__version__}\n"
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "Dockerfile").write_text("FROM python:3.12-slim\n")
    scan = subprocess.run([str(command), "scan"], capture_output=True, text=True, cwd=tmp_path / "work")
    assert scan.returncode == 0, scan.stderr
    assert "python" in scan.stdout and "3.12-slim" in scan.stdout


def test_the_sdist_carries_its_tests_and_they_pass(dist: Path, tmp_path: Path):
    with tarfile.open(only(dist, "*.tar.gz")) as sdist:
        sdist.extractall(tmp_path, filter="data")
    unpacked = tmp_path / f"tagbot-{tagbot.__version__}"
    assert (unpacked / "tests" / "conftest.py").is_file() and (unpacked / "tests" / "fixtures" / "api").is_dir()
    assert (unpacked / "LICENSE").is_file() and (unpacked / "CHANGELOG.md").is_file()
    # Every test collects (the sdist once shipped tests without conftest or fixtures: 12 errors)...
    collect = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n0", "--collect-only", "-p", "no:cacheprovider"],
                             capture_output=True, text=True, cwd=unpacked)
    assert collect.returncode == 0, collect.stdout[-3000:] + collect.stderr[-3000:]
    assert sorted(p.relative_to(unpacked) for p in unpacked.glob("tests/**/test_*.py")) == \
        sorted(p.relative_to(ROOT) for p in ROOT.glob("tests/**/test_*.py"))
    # ...and a sample that reads fixtures, the config example, the action and the hook passes
    # against the sdist's own code (the whole suite runs from the sdist in the release workflow).
    sample = ["tests/test_refs.py", "tests/test_config.py", "tests/sources/test_tagsapi.py", "tests/test_action.py::test_inputs",
              "tests/test_precommit.py::test_the_hook_runs_on_the_files_tagbot_reads_images_from"]
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n0", "-p", "no:cacheprovider", *sample],
                         capture_output=True, text=True, cwd=unpacked, env={**os.environ, "PYTHONPATH": str(unpacked)})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert " passed" in run.stdout.splitlines()[-1]
