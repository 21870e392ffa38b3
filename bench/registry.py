"""A loopback registry's pace: `python bench/registry.py [--images 4] [--tags 20]`.

Starts Debian's docker-registry on 127.0.0.1 (`apt-get install -y docker-registry`), pushes
`--images` multi-arch images of `--tags` tags each, and runs `tagbot update --dry-run` on a
Dockerfile naming each at an old tag, with the tags API plan's 2 requests/s in the config.
Run twice: with the registry at its own default pace (50/s), and held to the plan's 2/s, as
every source was before each had a limiter of its own. The first is set by the work (tag list,
manifests of the current and newest candidates); the second by the limiter.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.registry

from tagbot.cli import main as tagbot  # noqa: E402
from tests.registry import Pusher, running_registry  # noqa: E402

PLATFORMS = ["linux/amd64", "linux/arm64"]


def run(folder: Path, config: str) -> tuple[float, dict]:
    (folder / "tagbot.yaml").write_text(config)
    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        tagbot(["update", "--dry-run", "--format", "json", "--no-cache", str(folder)])
    return time.perf_counter() - started, json.loads(out.getvalue())


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="tagbot against a loopback registry.")
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--tags", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_registry(Path(tmp) / "registry") as url:
        host = url.removeprefix("http://")
        pusher = Pusher(url)
        for image in range(args.images):
            for minor in range(args.tags):
                pusher.image(f"bench/app{image}", [f"1.{minor}.0"], PLATFORMS)
        repo = Path(tmp) / "repo"
        repo.mkdir()
        (repo / "Dockerfile").write_text("".join(f"FROM {host}/bench/app{i}:1.0.0 AS s{i}\n" for i in range(args.images)))
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
        os.chdir(repo)  # where tagbot.yaml is read from
        base = f"rate_limit: 2\nregistries: {{'{host}': {{source: registry, insecure: true"
        own, first = run(repo, base + "}}\n")
        held, second = run(repo, base + ", rate_limit: 2}}\n")
    print(f"registry:        {args.images} images x {args.tags} tags, {', '.join(PLATFORMS)}, on {host}")
    print(f"own pace (50/s): {own:.2f} s, {first['calls']['api']} requests, {len(first['updates'])} updates")
    print(f"held to 2/s:     {held:.2f} s, {second['calls']['api']} requests, {len(second['updates'])} updates")
    print(f"speed-up:        {held / own:.1f}x")
    for problem in (*first["errors"], *first["held_back"]):
        print(f"note:            {problem}")


if __name__ == "__main__":
    main()
