"""Requests and time against a real registry: `python bench/registry.py [--sizes 40,160,640]`.

Starts Debian's docker-registry on 127.0.0.1 (`apt-get install -y docker-registry`), seeds it
with 24 multi-arch images of 41 tags each (984 tags; in every fourth image the two newest tags
are amd64 only, so their decisions must refuse them and look at the current tag), and puts a
counting proxy in front of it. For repositories of 40, 160 and 640 references (Dockerfiles and
compose files naming old tags, many of them more than once) it runs `tagbot update --dry-run`
as a user would (a fresh process), cold (an empty cache) and warm (the cache of the cold run),
and prints per run:

- requests by kind (tag lists, manifest GETs, manifest HEADs, blob GETs), and per image;
- the lower bound of the workload, worked out from the seeded images alone: one tag list per
  image, plus the manifests the decisions cannot do without (each decision's candidates newest
  first up to the one it takes, and the current tag where a refused candidate lacks arm64);
- the wall time beside the time the pace alone forces: with no per-second pace (a registry's
  default) the in-flight floor, the registry's own answer times shared by 8 requests in flight;
  with `--ceiling 50` the time 50 requests a second force, as the old fixed pace did.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.registry

from tests.registry import CountingProxy, Pusher, running_registry  # noqa: E402

IMAGES = 24
MINORS = 40  # 1.0.0 .. 1.39.0, then 2.0.0
BOTH = ["linux/amd64", "linux/arm64"]
IN_FLIGHT = 8  # tagbot's default cap per registry


def tags_of(image: int) -> list[tuple[str, list[str]]]:
    """(tag, platforms), oldest first."""
    tags = [(f"1.{minor}.0", BOTH) for minor in range(MINORS)] + [("2.0.0", BOTH)]
    if image % 4 == 0:  # the two newest dropped arm64
        tags[-1] = (tags[-1][0], ["linux/amd64"])
        tags[-2] = (tags[-2][0], ["linux/amd64"])
    return tags


def references(count: int) -> list[tuple[int, str]]:
    """(image, current tag) for each reference: 120 distinct pairs at most, repeated."""
    return [(k % IMAGES, f"1.{(k * 7) % 30}.0") for k in range(count)]


def lower_bound(refs: list[tuple[int, str]]) -> int:
    """One tag list per image, and each manifest some decision cannot do without, read once."""
    needed: set[tuple[int, str]] = set()
    for image, current in set(refs):
        platforms = dict(tags_of(image))
        newer = [tag for tag, _ in reversed(tags_of(image)) if _version(tag) > _version(current)]
        for tag in newer:
            needed.add((image, tag))
            if set(BOTH) <= set(platforms[tag]):
                break
            needed.add((image, current))  # whether the current tag had arm64 decides the refusal
    return len({image for image, _ in refs}) + len(needed)


def _version(tag: str) -> tuple[int, ...]:
    return tuple(int(part) for part in tag.split("."))


def seed(url: str) -> None:
    pusher = Pusher(url)
    jobs = [(image, tag, platforms) for image in range(IMAGES) for tag, platforms in tags_of(image)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda job: pusher.image(f"bench/app{job[0]:02d}", [job[1]], job[2], salt=job[1]), jobs))


def write_repository(folder: Path, refs: list[tuple[int, str]], host: str, config: str) -> None:
    folder.mkdir(parents=True)
    (folder / "tagbot.yaml").write_text(config)
    for start in range(0, len(refs), 10):
        chunk = refs[start:start + 10]
        service = folder / f"service{start // 10:03d}"
        service.mkdir()
        if (start // 10) % 2:
            lines = [f"  s{n}:\n    image: {host}/bench/app{image:02d}:{tag}\n" for n, (image, tag) in enumerate(chunk)]
            (service / "compose.yaml").write_text("services:\n" + "".join(lines))
        else:
            lines = [f"FROM {host}/bench/app{image:02d}:{tag} AS s{n}\n" for n, (image, tag) in enumerate(chunk)]
            (service / "Dockerfile").write_text("".join(lines))


def run_tagbot(folder: Path, cache: Path, checkout: Path = ROOT) -> tuple[float, dict[str, Any]]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PYTHONPATH": str(checkout)}
    env.pop("OANOR_API_KEY", None)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tagbot", "update", "--dry-run", "--format", "json", "."], cwd=folder,
                          env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"tagbot failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, json.loads(done.stdout)


def _proposals(result: dict[str, Any]) -> str:
    """A short fingerprint of what the run proposes, to see two runs (or commits) agree."""
    proposed = sorted((u["file"], u["line"], u["to"]["tag"], u["to"]["digest"] or "") for u in result["updates"])
    return hashlib.sha256(json.dumps(proposed).encode()).hexdigest()[:10]


def main() -> None:
    parser = argparse.ArgumentParser(description="tagbot's requests and time against a loopback registry.")
    parser.add_argument("--sizes", default="40,160,640", help="reference counts, comma-separated")
    parser.add_argument("--ceiling", type=float, default=None,
                        help="a registries: rate_limit (requests/s) as a ceiling, as the old fixed pace")
    parser.add_argument("--tagbot", type=Path, default=ROOT,
                        help="the tagbot checkout to run (another commit's worktree, to compare)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_text, running_registry(Path(tmp_text) / "registry") as url:
        tmp = Path(tmp_text)
        started = time.perf_counter()
        seed(url)
        print(f"seeded {IMAGES} images, {sum(len(tags_of(i)) for i in range(IMAGES))} tags in "
              f"{time.perf_counter() - started:.1f} s")
        proxy = CountingProxy(url)
        server = ThreadingHTTPServer(("127.0.0.1", 0), proxy.handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        host = f"127.0.0.1:{server.server_port}"  # the proxy, which tagbot asks
        ceiling = f", rate_limit: {args.ceiling:g}" if args.ceiling else ""
        config = f"registries: {{'{host}': {{source: registry, insecure: true{ceiling}}}}}\n"
        print(f"{'refs':>5} {'run':<5} {'requests':>8} {'lists':>5} {'manif':>5} {'HEAD':>4} {'blobs':>5} "
              f"{'per img':>7} {'bound':>5} {'x bound':>7} {'updates':>7} {'wall s':>7} {'floor s':>7}  proposals")
        for size in (int(s) for s in args.sizes.split(",")):
            refs = references(size)
            folder = tmp / f"repo{size}"
            write_repository(folder, refs, host, config)
            cache = tmp / f"cache{size}"
            bound = lower_bound(refs)
            images = len({image for image, _ in refs})
            for run in ("cold", "warm"):
                proxy.reset()
                wall, result = run_tagbot(folder, cache, args.tagbot)
                kinds = dict(proxy.kinds)
                total = sum(kinds.values())
                floor = (total / args.ceiling) if args.ceiling else proxy.answer_seconds / IN_FLIGHT
                print(f"{size:>5} {run:<5} {total:>8} {kinds.get('tag list', 0):>5} {kinds.get('manifest GET', 0):>5} "
                      f"{kinds.get('manifest HEAD', 0):>4} {kinds.get('blob GET', 0):>5} {total / images:>7.2f} "
                      f"{bound:>5} {total / bound:>7.2f} {len(result['updates']):>7} {wall:>7.2f} {floor:>7.3f}  "
                      f"{_proposals(result)}")
                for error in result["errors"]:
                    print(f"      error: {error['message']}")
        server.shutdown()


if __name__ == "__main__":
    main()
