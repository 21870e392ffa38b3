"""Scan speed on a synthetic monorepo: `python bench/scan.py [--dockerfiles N] [--compose N]`.

Builds a git work tree of multi-stage Dockerfiles (ARGs, heredocs, mounts, digests) and compose
files (anchors, merges, variables, flow style), scans it in this one process and prints files/s
and references/s. Target: 5,000 Dockerfiles and 2,000 compose files in under 3 s on one core.

Then single hostile files that were quadratic or worse once (issue 10): each must scale
linearly, so doubling the size must about double the time (the ratio is printed).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from tagbot.scan import scan_paths

DIGEST = "sha256:" + "5e" * 32

DOCKERFILE = """\
# syntax=docker/dockerfile:1.7
ARG NODE={n}.11.0
ARG ALPINE=3.2{m}

FROM --platform=$BUILDPLATFORM node:${{NODE}}-alpine${{ALPINE}} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \\
    npm ci --omit=dev

FROM golang:1.23.{m}-bookworm AS build
RUN <<EOF
set -e
echo "FROM not-an-image:1" > /tmp/x
EOF
COPY --from=deps /app/node_modules /app/node_modules
RUN --mount=type=bind,from=ghcr.io/astral-sh/uv:0.5.{m},source=/uv,target=/bin/uv uv --version

# the runtime image
FROM gcr.io/distroless/static-debian12:nonroot@{digest} AS runtime
COPY --from=build /out/app /app
COPY --from=docker.io/library/busybox:1.37.{m}-musl /bin/busybox /bin/busybox
ENTRYPOINT ["/app"]
"""

COMPOSE = """\
x-app: &app
  image: "ghcr.io/acme/service-{n}:1.{m}.2"
  restart: unless-stopped

services:
  web:
    <<: *app
    ports: ["8080:80"]
  worker:
    <<: *app
    command: worker
  db:
    image: postgres:16.{m}-bookworm  # primary
  cache: {{image: 'redis:7.{m}-alpine'}}
  proxy:
    image: nginx:1.27.{m}@{digest}
    platform: linux/arm64
  metrics:
    image: "prom/prometheus:${{PROM_TAG:-v2.54.{m}}}"
  built:
    build: .
    image: acme/built:dev
"""


def build_tree(root: Path, dockerfiles: int, compose_files: int) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text("dist/\n")
    for i in range(dockerfiles):
        folder = root / f"services/s{i // 10}/app{i}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "Dockerfile").write_text(DOCKERFILE.format(n=18 + i % 6, m=i % 10, digest=DIGEST))
    for i in range(compose_files):
        folder = root / f"stacks/s{i // 10}/stack{i}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "compose.yaml").write_text(COMPOSE.format(n=i, m=i % 10, digest=DIGEST))


HOSTILE = {
    "FROM \\ continued, 10,000 lines": ("Dockerfile", "FROM \\\n" * 10_000 + "x\n"),
    "FROM \\ continued, 20,000 lines": ("Dockerfile", "FROM \\\n" * 20_000 + "x\n"),
    "compose, 20,000 services": ("compose.yaml", "services:\n" + "".join(f"  s{i}:\n    image: redis:7.{i}\n" for i in range(20_000))),
    "compose, 40,000 services": ("compose.yaml", "services:\n" + "".join(f"  s{i}:\n    image: redis:7.{i}\n" for i in range(40_000))),
    "merge-key tower, 40 levels": ("compose.yaml", "x-a0: &a0 {image: r:1}\n" + "".join(
        f"x-a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}]}}\n" for i in range(1, 40)) + "services:\n  s: {<<: *a39}\n"),
    "ARG doubling, 30 lines": ("Dockerfile", "ARG A0=x\n" + "".join(
        f"ARG A{i}=${{A{i - 1}}}${{A{i - 1}}}\n" for i in range(1, 31)) + "FROM r:${A30}\n"),
}


def time_hostile() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for label, (name, text) in HOSTILE.items():
            folder = Path(tmp) / label.replace(" ", "_").replace(",", "").replace("\\", "")
            folder.mkdir()
            (folder / name).write_text(text)
            started = time.perf_counter()
            scan_paths([folder], base=folder)
            print(f"  {label:<36} {time.perf_counter() - started:6.2f} s ({len(text) / 1024:,.0f} KiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description="Scan speed on a synthetic monorepo.")
    parser.add_argument("--dockerfiles", type=int, default=5000)
    parser.add_argument("--compose", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build_tree(root, args.dockerfiles, args.compose)
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            result = scan_paths([root], base=root)
            timings.append(time.perf_counter() - started)
    best = min(timings)
    references = len(result.references)
    skipped = sum(r.skipped for r in result.references)
    print(f"files scanned:  {result.files} ({args.dockerfiles} Dockerfiles, {args.compose} compose files)")
    print(f"references:     {references} ({skipped} skipped), errors: {len(result.errors)}")
    print(f"wall time:      {best:.2f} s (best of {args.runs}: {', '.join(f'{t:.2f}' for t in timings)})")
    print(f"files/s:        {result.files / best:,.0f}")
    print(f"references/s:   {references / best:,.0f}")
    print(f"target < 3 s:   {'met' if best < 3.0 else 'MISSED'}")
    print("hostile single files (linear: twice the size, about twice the time):")
    time_hostile()


if __name__ == "__main__":
    main()
