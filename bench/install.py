"""The Action's install, cold and warm, as a runner runs its steps (tests/actionsteps.py): cold,
no cached venv and no pip cache, so every wheel comes from the package index and hatchling
builds tagbot; warm, actions/cache has restored the venv, and the steps only find it and put it
on PATH. Prints seconds and the venv's size (what actions/cache saves and restores).

    python3 bench/install.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.actionsteps

from tests.actionsteps import ACTION, ROOT, Runner, run_steps  # noqa: E402

STEPS = [step["name"] for step in ACTION["runs"]["steps"][:6]]


def install(temp: Path, *, cached: bool) -> float:
    runner = Runner(temp, {"RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "PIP_NO_CACHE_DIR": "1"})

    def uses(step: dict, runner: Runner) -> None:
        if step["name"] == "Restore the install":
            runner.values["steps.install-cache.outputs.cache-hit"] = "true" if cached else "false"

    started = time.perf_counter()
    run_steps(runner, STEPS, ROOT, uses=uses)
    took = time.perf_counter() - started
    assert ("Install tagbot" in runner.ran) is not cached, runner.ran
    return took


def size_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="tagbot-install-") as temp:
        cold = install(Path(temp), cached=False)
        print(f"cold install (no cache, wheels from the index): {cold:.1f} s, venv {size_mb(Path(temp) / 'tagbot-venv'):.0f} MB")
        warm = min(install(Path(temp), cached=True) for _ in range(3))
        print(f"warm install (venv restored by actions/cache):  {warm:.2f} s, best of 3, plus the cache's restore")


if __name__ == "__main__":
    main()
