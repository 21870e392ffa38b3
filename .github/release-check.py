"""Before a release: the tag, the package's version, the changelog and the project's URLs must
agree. Prints the changelog's section for the tag (the GitHub release's notes); otherwise one
line saying what disagrees, and exit 1.

    python .github/release-check.py v0.2.0 owner/tagbot > notes.md
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def release_notes(tag: str, repository: str, root: Path = ROOT) -> str:
    version = re.search(r'^__version__ = "([^"]+)"', (root / "tagbot" / "__init__.py").read_text(), re.M)
    if version is None or tag != f"v{version.group(1)}":
        raise ValueError(f"the tag {tag} is not v + tagbot/__init__.py's __version__ "
                         f"({version.group(1) if version else 'missing'})")
    # A regex, not tomllib: the suite runs this on Python 3.10 too.
    homepage = re.search(r'^Homepage = "([^"]*)"', (root / "pyproject.toml").read_text(), re.M)
    home = f"https://github.com/{repository}"
    if homepage is None or homepage.group(1) != home:
        raise ValueError(f"pyproject.toml's Homepage is {homepage.group(1) if homepage else 'missing'}, not {home}: "
                         "set [project.urls] first")
    changelog = (root / "CHANGELOG.md").read_text()
    section = re.search(rf"^## {re.escape(tag)}\s*\n(.*?)(?=^## |\Z)", changelog, re.M | re.S)
    if section is None or not section.group(1).strip():
        raise ValueError(f"CHANGELOG.md has no section '## {tag}' with notes")
    return section.group(1).strip() + "\n"


if __name__ == "__main__":
    try:
        sys.stdout.write(release_notes(sys.argv[1], sys.argv[2]))
    except ValueError as e:
        print(f"release-check: {e}", file=sys.stderr)
        sys.exit(1)
