"""Lookup speed: `python bench/lookup.py [--images 300] [--references 3000] [--rate-limit 50]`.

Builds a repository whose Dockerfiles and compose files hold `--references` references to
`--images` unique images, serves their tags from the fake tags API on 127.0.0.1 with 20 ms of
latency per answer, and runs `tagbot update --dry-run` on it twice: once with an empty cache,
once cached. Prints wall time, calls, and the ratio to the ideal `images / rate_limit`.
Targets: within 1.2x of the ideal, and the cached run under 1 s.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.fakeapi

from tagbot.cli import main as tagbot  # noqa: E402
from tests.fakeapi import FakeTagsAPI, serving  # noqa: E402

TAGS_PER_IMAGE = 40


def write_fixtures(folder: Path, images: int) -> None:
    for i in range(images):
        tags = [
            {
                "name": f"1.{minor}.{patch}",
                "size": 1000 + minor,
                "digest": f"sha256:{i:032x}{minor:016x}{patch:016x}",
                "platforms": ["linux/amd64", "linux/arm64"],
                "last_updated": f"2026-0{1 + minor % 8}-1{patch % 9}T00:00:00Z",
            }
            for minor in range(TAGS_PER_IMAGE // 4, 0, -1)
            for patch in range(3, -1, -1)
        ]
        body = {"data": {"tags": tags}, "meta": {}, "status": "ok", "message": "ok", "success": True}
        (folder / f"bench__image{i}.tags.json").write_text(json.dumps(body))


def write_repository(folder: Path, images: int, references: int) -> None:
    per_file = 10
    for n in range(references // per_file):
        refs = [f"bench/image{(n * per_file + k) % images}:1.{1 + k % 5}.0" for k in range(per_file)]
        if n % 2:
            services = "".join(f"  s{k}:\n    image: {ref}\n" for k, ref in enumerate(refs))
            path = folder / f"stack{n}" / "compose.yaml"
            text = "services:\n" + services
        else:
            path = folder / f"app{n}" / "Dockerfile"
            text = "".join(f"FROM {ref} AS stage{k}\n" for k, ref in enumerate(refs))
        path.parent.mkdir()
        path.write_text(text)


def run_update(repository: Path) -> tuple[float, dict]:
    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = tagbot(["update", "--dry-run", "--format", "json", str(repository)])
    elapsed = time.perf_counter() - started
    result = json.loads(out.getvalue())
    assert code == 0, result["errors"][:3]
    return elapsed, result


def main() -> None:
    parser = argparse.ArgumentParser(description="Lookup speed against the fake tags API.")
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--references", type=int, default=3000)
    parser.add_argument("--rate-limit", type=float, default=50.0, help="requests per second (the plan's rate)")
    parser.add_argument("--latency", type=float, default=0.020, help="seconds per answer")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in ("fixtures", "repo", "cache"):
            (root / name).mkdir()
        write_fixtures(root / "fixtures", args.images)
        write_repository(root / "repo", args.images, args.references)
        (root / "tagbot.yaml").write_text(f"rate_limit: {args.rate_limit}\n")
        api = FakeTagsAPI(root / "fixtures", key="bench", latency=args.latency)
        with serving(api):
            os.environ.update(OANOR_API_KEY="bench", TAGBOT_API_URL=api.url, XDG_CACHE_HOME=str(root / "cache"))
            os.chdir(root)
            cold, first = run_update(root / "repo")
            warm, second = run_update(root / "repo")

    ideal = args.images / args.rate_limit
    print(f"repository:      {args.references} references to {args.images} unique images")
    print(f"fake API:        {args.latency * 1000:.0f} ms per answer, rate limit {args.rate_limit:g}/s")
    print(f"cold run:        {cold:.2f} s, {first['calls']['api']} calls, {len(first['updates'])} updates")
    print(f"ideal:           {ideal:.2f} s (images / rate_limit); ratio {cold / ideal:.2f}x (target <= 1.2x)")
    print(f"cached re-run:   {warm:.2f} s, {second['calls']['api']} calls, {second['calls']['cached']} from cache"
          f" (target < 1 s)")


if __name__ == "__main__":
    main()
