"""The Action's install cache key: a digest of what decides the venv's contents (the Python that
makes it, tagbot's files, the pinned dependencies), so a changed one is never restored stale.

    python .github/install-key.py ACTION_PATH PYTHON
"""

from __future__ import annotations

import hashlib
import platform
import sys
from pathlib import Path


def install_key(action_path: Path, python: str) -> str:
    digest = hashlib.sha256()
    # The venv points at its interpreter by path and is built for its version.
    digest.update(f"{python}\0{platform.python_version()}\0{platform.machine()}\0".encode())
    files = [action_path / "pyproject.toml", action_path / "action-constraints.txt",
             *sorted((action_path / "tagbot").rglob("*"))]
    for file in files:
        if file.is_file() and "__pycache__" not in file.parts:
            digest.update(file.relative_to(action_path).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return f"py{platform.python_version()}-{digest.hexdigest()[:20]}"


if __name__ == "__main__":
    print(install_key(Path(sys.argv[1]), sys.argv[2]))
