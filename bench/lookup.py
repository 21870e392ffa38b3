"""Lookup speed: `python bench/lookup.py [--images 300] [--references 3000] [--rate-limit 50]`.

Builds a repository whose Dockerfiles and compose files hold `--references` references to
`--images` unique images of 400 tags each; every other reference names a tag older than the
tags API's newest 100. The fake tags API (20 ms per answer) and the fake Docker Hub serve them on
127.0.0.1, and `tagbot update --dry-run` runs three times: cold (empty cache and index), after
the cache's TTL (answers expired, the index kept), and cached. Prints, for each, seconds,
tags-API calls and Docker Hub requests.
Targets: cold within 1.2x of the ideal `images / rate_limit` plus the Hub fill; after the TTL,
one tags-API call per image and no Docker Hub request; cached under 1 s.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.fakeapi

from tagbot.cli import main as tagbot  # noqa: E402
from tests.fakeapi import FakeTagsAPI, serving  # noqa: E402
from tests.fakehub import FakeHub  # noqa: E402
from tests.fakehub import serving as serving_hub  # noqa: E402

MINORS = 100  # 400 tags an image, newest first, one pushed an hour


def write_fixtures(folder: Path, images: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for i in range(images):
        tags = [
            {
                "name": f"1.{minor}.{patch}",
                "size": 1000 + minor,
                "digest": f"sha256:{i:032x}{minor:016x}{patch:016x}",
                "platforms": ["linux/amd64", "linux/arm64"],
                "last_updated": (start + timedelta(hours=minor * 4 + patch)).isoformat(),
            }
            for minor in range(MINORS, 0, -1)
            for patch in range(3, -1, -1)
        ]
        body = {"data": {"tags": tags}, "meta": {}, "status": "ok", "message": "ok", "success": True}
        (folder / f"bench__image{i}.tags.json").write_text(json.dumps(body))


def write_repository(folder: Path, images: int, references: int) -> None:
    per_file = 10
    for n in range(references // per_file):
        # 1.90.0 and up are among the newest 100 tags; 1.1.0 to 1.5.0 lie far behind them.
        refs = [f"bench/image{(n * per_file + k) % images}:1.{(1 + k % 5) if k % 2 else 95 + k % 5}.0"
                for k in range(per_file)]
        if n % 2:
            services = "".join(f"  s{k}:\n    image: {ref}\n" for k, ref in enumerate(refs))
            path = folder / f"stack{n}" / "compose.yaml"
            text = "services:\n" + services
        else:
            path = folder / f"app{n}" / "Dockerfile"
            text = "".join(f"FROM {ref} AS stage{k}\n" for k, ref in enumerate(refs))
        path.parent.mkdir()
        path.write_text(text)


def run_update(repository: Path, api: FakeTagsAPI, hub: FakeHub) -> tuple[float, dict, int, int]:
    api.requests.clear()
    hub.requests.clear()
    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = tagbot(["update", "--dry-run", "--format", "json", str(repository)])
    elapsed = time.perf_counter() - started
    result = json.loads(out.getvalue())
    assert code == 0, result["errors"][:3]
    return elapsed, result, len(api.requests), len(hub.requests)


def main() -> None:
    parser = argparse.ArgumentParser(description="Lookup speed against the fake tags API and Docker Hub.")
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
        # Docker Hub is paced at its default (5/s) unless told otherwise; the bench asks as fast as the plan.
        (root / "tagbot.yaml").write_text(f"rate_limit: {args.rate_limit}\n"
                                          f"registries: {{docker.io: {{rate_limit: {args.rate_limit}}}}}\n")
        api = FakeTagsAPI(root / "fixtures", key="bench", latency=args.latency)
        hub = FakeHub(root / "fixtures")
        with serving(api), serving_hub(hub):
            os.environ.update(OANOR_API_KEY="bench", TAGBOT_API_URL=api.url, TAGBOT_HUB_URL=hub.url,
                              XDG_CACHE_HOME=str(root / "cache"))
            os.chdir(root)
            cold = run_update(root / "repo", api, hub)
            shutil.rmtree(root / "cache" / "tagbot" / "tags")  # the TTL passed: answers expire, the index stays
            after_ttl = run_update(root / "repo", api, hub)
            cached = run_update(root / "repo", api, hub)

    # The tags API and Docker Hub (here at the same pace) one after the other: the fill starts
    # when the first answers are in.
    ideal = (args.images + cold[3]) / args.rate_limit
    print(f"repository:      {args.references} references to {args.images} unique images, 400 tags each;")
    print("                 half the references older than their image's newest 100 tags")
    print(f"fake API:        {args.latency * 1000:.0f} ms per answer, rate limit {args.rate_limit:g}/s")
    for label, (seconds, result, api_calls, hub_requests) in (("cold run", cold), ("after the TTL", after_ttl),
                                                              ("cached re-run", cached)):
        print(f"{label + ':':<16} {seconds:6.2f} s, {api_calls} tags-API calls, {hub_requests} Docker Hub requests, "
              f"{len(result['updates'])} updates")
    print(f"ideal (cold):    {ideal:.2f} s ((tags-API calls + Docker Hub requests) / rate); ratio {cold[0] / ideal:.2f}x"
          f" (target <= 1.2x)")
    print(f"targets:         after the TTL {args.images} calls and 0 Hub requests: "
          f"{'met' if (after_ttl[2], after_ttl[3]) == (args.images, 0) else 'MISSED'}; "
          f"cached < 1 s: {'met' if cached[0] < 1 else 'MISSED'}; same updates every run: "
          f"{'met' if cold[1]['updates'] == after_ttl[1]['updates'] == cached[1]['updates'] else 'MISSED'}")


if __name__ == "__main__":
    main()
