"""What the rebuild scripts share: which commit of its source a clone is, and of when."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path


def revision(checkout: Path) -> tuple[str, str]:
    """The clone's commit and its date: the date the facts are as of ("unknown" and today when
    it is no git clone)."""
    try:
        out = subprocess.run(["git", "-C", str(checkout), "log", "-1", "--format=%H %cs"],
                             capture_output=True, text=True, check=True).stdout.split()
        return out[0], out[1]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown", dt.date.today().isoformat()
