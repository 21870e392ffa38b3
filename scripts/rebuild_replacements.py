"""Rebuild tagbot/data/replacements.json: images that moved, and official images that are deprecated.

    git clone https://github.com/docker-library/docs /tmp/docker-library-docs
    python scripts/rebuild_replacements.py /tmp/docker-library-docs

The deprecated official images are those whose page in docker-library/docs carries a
`deprecated.md` notice: the fact and the notice's address are kept, not its words. The moves are the ones their
publishers document, listed below with the page that says so: a deprecation notice names
alternatives in prose, and which one is *the* successor (with the same tags) is a judgement
made here, once, with its source.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from source_checkout import revision

SOURCE = "https://github.com/docker-library/docs"
OUTPUT = Path(__file__).resolve().parent.parent / "tagbot" / "data" / "replacements.json"

# (from, to, the publisher's word): an image name, or a registry or namespace ending in `/*`.
MOVES = [
    ("k8s.gcr.io/*", "registry.k8s.io/*",
     "https://kubernetes.io/blog/2023/02/06/k8s-gcr-io-freeze-announcement/"),
    ("openjdk", "eclipse-temurin", "https://github.com/docker-library/docs/blob/master/openjdk/deprecated.md"),
    # Its page (and notice) is gone from the docs since; the pull request that deprecated it stays.
    ("adoptopenjdk", "eclipse-temurin", "https://github.com/docker-library/docs/pull/2008"),
    ("emqx", "emqx/emqx", "https://github.com/docker-library/docs/blob/master/emqx/deprecated.md"),
    ("liquibase", "liquibase/liquibase", "https://github.com/docker-library/docs/blob/master/liquibase/deprecated.md"),
    ("rockylinux", "rockylinux/rockylinux", "https://github.com/docker-library/docs/blob/master/rockylinux/deprecated.md"),
]
# Pages whose `deprecated.md` is a notice, not a deprecation of the image, and why.
NOT_DEPRECATED = {
    "amazonlinux": "only the 1 and 2018.03 tags ended",
    "nextcloud": "a note on how to use it",
    "plone": "only Plone 4 and 5 ended",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="a clone of docker-library/docs")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if not args.checkout.is_dir():
        parser.error(f"{args.checkout}: not found (expected a clone of {SOURCE})")
    commit, date = revision(args.checkout)
    deprecated = {
        notice.parent.name: f"{SOURCE}/blob/master/{notice.parent.name}/deprecated.md"
        for notice in sorted(args.checkout.glob("*/deprecated.md"))
        if notice.parent.name not in NOT_DEPRECATED
    }
    table = {
        "source": SOURCE,
        "commit": commit,
        "date": date,
        "rebuild": "python scripts/rebuild_replacements.py CLONE_OF_DOCKER_LIBRARY_DOCS",
        "moves": [{"from": old, "to": new, "source": source} for old, new, source in MOVES],
        "deprecated": deprecated,
    }
    args.output.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    print(f"{args.output}: {len(MOVES)} moves, {len(deprecated)} deprecated images, as of {date} ({commit[:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
