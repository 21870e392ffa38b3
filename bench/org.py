"""An organisation's run end to end: `python bench/org.py [--repositories N] [--per-job K]`.

A fake organisation on loopback (the fake GitHub, a bare git remote per repository) whose
repositories name 10 images among them, and the fake tags API with the recorded tag lists.
Times `tagbot org plan`, `tagbot org lookup` and the matrix jobs' `tagbot pr --offline` (run
one after another here; Actions runs them in parallel), and counts tags-API calls: the cost
model is one call per unique image per run, whatever the number of repositories.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for the tests' fakes

from tagbot.cli import main as tagbot  # noqa: E402
from tests.fakeapi import FakeTagsAPI, serving  # noqa: E402
from tests.fakegithub import FakeGitHub, FakeOrganisation, serving_organisation  # noqa: E402
from tests.fakehub import FakeHub  # noqa: E402
from tests.fakehub import serving as serving_hub  # noqa: E402
from tests.gitworld import git  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "api"
IMAGES = ["nginx:1.31.3-alpine", "postgres:16.4-bookworm", "redis:7.2.5-alpine", "alpine:3.20", "python:3.11.16",
          "golang:1.25.14", "node:22.23.2-alpine", "prom/prometheus:v2.54.1", "acme/tiny:1.1.0", "ubuntu:22.04"]
CONFIG = "links: false\nrate_limit: 50\n"


def build(root: Path, count: int) -> FakeOrganisation:
    org = FakeOrganisation("acme")
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        remote, seed = root / f"svc{i}.git", root / f"seed{i}"
        git(root, "init", "-q", "--bare", str(remote))
        git(root, "init", "-q", str(seed))
        (seed / "Dockerfile").write_text(f"FROM {IMAGES[i % 10]} AS build\nFROM {IMAGES[(i + 3) % 10]}\n")
        (seed / "compose.yaml").write_text(f"services:\n  side:\n    image: {IMAGES[(i + 7) % 10]}\n")
        (seed / "tagbot.yaml").write_text(CONFIG)
        git(seed, "add", ".")
        git(seed, "commit", "-qm", "Initial")
        git(seed, "push", "-q", str(remote), "HEAD:main")
        org.add(FakeGitHub(remote, repository=f"acme/svc{i}"))
    return org


def quietly(*args: str) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return tagbot(list(args))


def main() -> None:
    parser = argparse.ArgumentParser(description="An organisation's tagbot run on loopback.")
    parser.add_argument("--repositories", type=int, default=30)
    parser.add_argument("--per-job", type=int, default=1)
    args = parser.parse_args()
    import tagbot.pr.github as github_seam

    github_seam.SECONDS_BETWEEN_WRITES = github_seam.SECONDS_BETWEEN_REQUESTS = 0.0  # no secondary limits on loopback
    with tempfile.TemporaryDirectory() as tmp, serving(FakeTagsAPI(FIXTURES)) as api, \
            serving_hub(FakeHub(FIXTURES)) as hub:
        root = Path(tmp)
        org = build(root / "remotes", args.repositories)
        with serving_organisation(org):
            os.environ.update({"GITHUB_TOKEN": org.token, "GITHUB_API_URL": org.url, "OANOR_API_KEY": api.key,
                               "TAGBOT_API_URL": api.url, "TAGBOT_HUB_URL": hub.url, "XDG_CACHE_HOME": str(root / "xdg")})
            os.chdir(root)
            (root / "tagbot.yaml").write_text(CONFIG)
            started = time.perf_counter()
            assert quietly("org", "plan", "--owner", "acme", "--per-job", str(args.per_job)) == 0
            planned = time.perf_counter()
            assert quietly("org", "lookup", "--owner", "acme", "--cache-dir", str(root / "cache")) == 0
            looked_up = time.perf_counter()
            lookup_calls = sum(r.startswith("/v1/tags") for r in api.requests)
            for name in sorted(org.repositories):
                checkout = root / "checkouts" / name
                git(root, "clone", "-q", str(org.repositories[name].remote), str(checkout))
                os.chdir(checkout)
                assert quietly("pr", "--repository", name, "--offline", "--cache-dir", str(root / "cache")) == 0
            done = time.perf_counter()
        opened = sum(len(fake.open_pulls()) for fake in org.repositories.values())
        calls = sum(r.startswith("/v1/tags") for r in api.requests)
    print(f"repositories:       {args.repositories} ({args.per_job} a job)")
    print(f"unique images:      {len(IMAGES)}")
    print(f"tags-API calls:     {calls} ({lookup_calls} by lookup, {calls - lookup_calls} by the jobs)")
    print(f"Docker Hub fills:   {len(hub.requests)} requests")
    print(f"pull requests:      {opened} opened")
    print(f"org plan:           {planned - started:.2f} s")
    print(f"org lookup:         {looked_up - planned:.2f} s")
    print(f"pr jobs, in a row:  {done - looked_up:.2f} s ({(done - looked_up) / args.repositories:.2f} s a repository)")


if __name__ == "__main__":
    main()
