"""Lookups: `python bench/lookup.py [--images 300] [--references 3000] [--rate-limit 50]`.

Three measures, against the fake tags API and the fake Docker Hub on 127.0.0.1:

1. The window: a repository whose Dockerfiles and compose files hold `--references` references
   to `--images` unique images of 400 tags each, every other one naming a tag older than the
   tags API's newest 100; `tagbot update --dry-run` runs cold (empty store), after the TTL
   (answers expired, the tags known) and cached. Seconds, tags-API calls, Docker Hub requests.
   Targets: cold within 1.2x of the ideal `requests / rate_limit`; after the TTL one tags-API
   call per image and no Docker Hub request; cached under 1 s.
2. A whole history: `node:18.20.4` (node's recorded 9,037 tags) with `max_tag_pages: 10`: the
   runs until its decision is settled, the pages each read, and the run after (target: 0).
3. A month: `--org-images` images (a tenth pushing daily, a fifth weekly, the rest monthly)
   over 30 daily runs on a simulated clock, with and without `monthly_calls: 3700`: the calls
   spent, and how many days after its push each new version was proposed.
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
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.fakeapi

from tagbot.cli import main as tagbot  # noqa: E402
from tagbot.run import LookupOptions, open_services, plan  # noqa: E402
from tests.fakeapi import FakeTagsAPI, envelope, serving  # noqa: E402
from tests.fakehub import FakeHub  # noqa: E402
from tests.fakehub import serving as serving_hub  # noqa: E402
from tests.helpers import age_answers  # noqa: E402

MINORS = 100  # 400 tags an image, newest first, one pushed an hour
NODE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "api" / "library__node.tags.json"


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


def window_bench(root: Path, args: argparse.Namespace) -> None:
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
        age_answers(root / "cache", 7200)
        after_ttl = run_update(root / "repo", api, hub)
        cached = run_update(root / "repo", api, hub)
    ideal = (cold[2] + cold[3]) / args.rate_limit
    print("1. the window")
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


def history_bench(root: Path) -> None:
    for name in ("fixtures", "repo", "cache"):
        (root / name).mkdir()
    (root / "fixtures" / NODE.name).write_bytes(NODE.read_bytes())
    (root / "repo" / "Dockerfile").write_text("FROM node:18.20.4\n")
    (root / "tagbot.yaml").write_text("rate_limit: 500\nmax_tag_pages: 10\nregistries: {docker.io: {rate_limit: 500}}\n")
    api = FakeTagsAPI(root / "fixtures", key="bench")
    hub = FakeHub(root / "fixtures")
    print("\n2. a whole history: node:18.20.4, 9,037 tags (91 pages), max_tag_pages: 10")
    with serving(api), serving_hub(hub):
        os.environ.update(OANOR_API_KEY="bench", TAGBOT_API_URL=api.url, TAGBOT_HUB_URL=hub.url,
                          XDG_CACHE_HOME=str(root / "cache"))
        os.chdir(root)
        runs, pages = 0, []
        while True:
            seconds, result, calls, requests = run_update(root / "repo", api, hub)
            runs += 1
            pages.append(requests)
            age_answers(root / "cache", 7200)
            if not any(h["reason"].endswith("resumes next run") for h in result["held_back"]):
                break
        _, _, calls_after, requests_after = run_update(root / "repo", api, hub)
    print(f"runs to settle:  {runs}, reading {', '.join(map(str, pages))} Docker Hub pages ({sum(pages)} in all)")
    print(f"the run after:   {calls_after} tags-API call, {requests_after} Docker Hub requests (target 0)")


def month_bench(root: Path, args: argparse.Namespace) -> None:
    print(f"\n3. a month: {args.org_images} images over 30 daily runs")
    for budget in (None, 3700):
        calls, late, missed = simulate_month(root / f"month-{budget}", args.org_images, budget)
        label = f"monthly_calls: {budget}" if budget else "no budget"
        days = sorted(late)
        print(f"{label + ':':<22} {calls:5} tags-API calls; {len(days)} new versions proposed, "
              f"{sum(d == 0 for d in days)} the day they came, mean {sum(days) / max(1, len(days)):.2f} days late, "
              f"worst {max(days, default=0)}; {missed} not proposed by the month's end")


def simulate_month(root: Path, images: int, budget: int | None) -> tuple[int, list[int], int]:
    start = datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc)
    cadence = {f"org/svc{n}": 1 if n % 10 == 0 else 7 if n % 5 == 0 else 30 for n in range(images)}
    (root / "repo").mkdir(parents=True)
    (root / "repo" / "compose.yaml").write_text(
        "services:\n" + "".join(f"  s{n}:\n    image: {name}:1.0.0\n" for n, name in enumerate(cadence)))
    (root / "repo" / "tagbot.yaml").write_text("rate_limit: 1000\n" + (f"monthly_calls: {budget}\n" if budget else ""))
    api = FakeTagsAPI(root, key="bench")
    pushed: dict[tuple[str, str], int] = {}  # (image, version) -> the day it came
    found: dict[tuple[str, str], int] = {}
    with serving(api):
        os.environ.update(OANOR_API_KEY="bench", TAGBOT_API_URL=api.url)
        os.environ.pop("XDG_CACHE_HOME", None)
        for day in range(30):
            moment = start + timedelta(days=day)
            for name, every in cadence.items():
                versions = [(f"1.{d // every + 1}.0", d) for d in range(0, day + 1, every)][::-1]
                for version, on in versions:
                    pushed.setdefault((name, version), on)
                tags = [{"name": v, "digest": f"sha256:{hash((name, v)) & (2**256 - 1):064x}", "size": 1,
                         "platforms": ["linux/amd64"],
                         "last_updated": (start.replace(hour=0) + timedelta(days=on)).isoformat()} for v, on in versions]
                tags.append({"name": "1.0.0", "digest": "sha256:" + "0" * 64, "size": 1, "platforms": ["linux/amd64"],
                             "last_updated": "2026-06-01T00:00:00+00:00"})
                api.bodies[name] = envelope({"tags": tags})
            options = LookupOptions(cache_dir=root / "cache")
            with open_services(options, directory=root / "repo", clock=moment.timestamp) as services:
                result = plan([root / "repo"], services=services, base=root / "repo")
            for planned in result.updates:
                key = (planned.reference.found.image.repository.replace("library/", ""), planned.update.to_tag)
                found.setdefault(key, day)
    late = [found[key] - pushed[key] for key in found if key in pushed]
    newest = {(name, f"1.{29 // every + 1}.0") for name, every in cadence.items()}
    missed = sum(key not in found for key in newest)
    return len(api.requests), late, missed


def main() -> None:
    parser = argparse.ArgumentParser(description="Lookups against the fake tags API and Docker Hub.")
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--references", type=int, default=3000)
    parser.add_argument("--rate-limit", type=float, default=50.0, help="requests per second (the plan's rate)")
    parser.add_argument("--latency", type=float, default=0.020, help="seconds per answer")
    parser.add_argument("--org-images", type=int, default=300, help="images of the simulated month")
    parser.add_argument("--only", choices=("window", "history", "month"), help="one measure alone")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name, bench in (("window", lambda r: window_bench(r, args)), ("history", history_bench),
                            ("month", lambda r: month_bench(r, args))):
            if args.only in (None, name):
                (Path(tmp) / name).mkdir()
                bench(Path(tmp) / name)


if __name__ == "__main__":
    main()
