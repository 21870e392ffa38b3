"""Rebuild tagbot/data/release-lines.json from a checkout of endoflife.date.

    git clone https://github.com/endoflife-date/endoflife.date /tmp/endoflife.date
    python scripts/rebuild_release_lines.py /tmp/endoflife.date

The project publishes, per product, its release cycles: when each was released, whether (and
from when) it is a long-term-support line, and when its support ends. Those facts, and which
Docker images carry each product, are all that is taken: none of the project's code.

Which images carry a product comes from the product's own `pkg:docker/...` identifiers, and for
the products that list none, from IMAGES_WITHOUT_IDENTIFIERS below.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from source_checkout import revision

SOURCE = "https://github.com/endoflife-date/endoflife.date"
OUTPUT = Path(__file__).resolve().parent.parent / "tagbot" / "data" / "release-lines.json"

# Products whose page names no Docker image, and the images that carry them (names as people
# write them: Docker Hub's official images bare).
IMAGES_WITHOUT_IDENTIFIERS = {
    "alpine-linux": ["alpine"],
    "apache-http-server": ["httpd"],
    "debian": ["debian"],
    "eclipse-temurin": ["eclipse-temurin"],
    "ibm-semeru": ["ibm-semeru-runtimes"],
    "microsoft-build-of-openjdk": ["mcr.microsoft.com/openjdk/jdk"],
    "mongodb": ["mongo", "bitnami/mongodb"],
    "nginx": ["nginx"],
    "openjdk-builds-from-oracle": ["openjdk"],
    "php": ["php"],
    "sapmachine": ["sapmachine"],
    "ubuntu": ["ubuntu"],
}
# The codenames tags are written with (`noble-20260810`, `bookworm-slim`): distributions only.
CODENAME_PRODUCTS = {"ubuntu", "debian"}
_CYCLE = re.compile(r"\d{1,4}(?:\.\d{1,4}){0,2}")
_DOCKER_PURL = re.compile(r"pkg:docker/([a-z0-9._/-]+)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="a clone of endoflife.date")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    products_dir = args.checkout / "products"
    if not products_dir.is_dir():
        parser.error(f"{products_dir}: not found (expected a clone of {SOURCE})")
    commit, date = revision(args.checkout)
    products = {}
    for path in sorted(products_dir.glob("*.md")):
        product = _product(path)
        if product is not None:
            products[path.stem] = product
    _drop_shared_images(products)
    table = {
        "source": SOURCE,
        "license": "MIT (the endoflife.date project's content)",
        "commit": commit,
        "date": date,
        "rebuild": "python scripts/rebuild_release_lines.py CLONE_OF_ENDOFLIFE_DATE",
        "products": products,
    }
    args.output.write_text(json.dumps(table, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    lines = sum(len(p["lines"]) for p in products.values())
    print(f"{args.output}: {len(products)} products, {lines} release lines, as of {date} ({commit[:12]})")
    return 0


def _product(path: Path) -> dict[str, Any] | None:
    front = _front_matter(path)
    images = sorted({_short(name) for name in _DOCKER_PURL.findall(json.dumps(front.get("identifiers", [])))}
                    | set(IMAGES_WITHOUT_IDENTIFIERS.get(path.stem, [])))
    if not images:
        return None
    lines = [line for release in front.get("releases", []) if (line := _line(release, path.stem)) is not None]
    return {"title": front.get("title", path.stem), "images": images, "lines": lines} if lines else None


def _front_matter(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return {}
    head = text.split("---", 2)[1]
    data = yaml.safe_load(head)
    return data if isinstance(data, dict) else {}


def _short(purl_name: str) -> str:
    return purl_name.removeprefix("library/")


def _line(release: Any, product: str) -> dict[str, Any] | None:
    if not isinstance(release, dict):
        return None
    cycle = str(release.get("releaseCycle", ""))
    if not _CYCLE.fullmatch(cycle):
        return None  # `1.0-python-2` and the like: no version a tag could carry
    line: dict[str, Any] = {"line": cycle}
    for key, name in (("releaseDate", "released"), ("lts", "lts"), ("eol", "eol")):
        value = _fact(release.get(key))
        if value is not None:
            line[name] = value
    codename = release.get("codename")
    if product in CODENAME_PRODUCTS and isinstance(codename, str) and codename.strip():
        line["codename"] = codename.split()[0].lower()
    return line


def _fact(value: Any) -> str | bool | None:
    """A date as `YYYY-MM-DD`, or true/false; anything else is not a fact the table keeps."""
    if isinstance(value, bool):
        return value
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return None


def _drop_shared_images(products: dict[str, dict[str, Any]]) -> None:
    """An image two products claim has no one set of lines: it is left out of both."""
    owners: dict[str, list[str]] = {}
    for name, product in products.items():
        for image in product["images"]:
            owners.setdefault(image, []).append(name)
    for image, names in owners.items():
        if len(names) > 1:
            print(f"warning: {image} is claimed by {', '.join(names)}; left out", file=sys.stderr)
            for name in names:
                products[name]["images"].remove(image)
    for name in [n for n, p in products.items() if not p["images"]]:
        del products[name]


if __name__ == "__main__":
    sys.exit(main())
