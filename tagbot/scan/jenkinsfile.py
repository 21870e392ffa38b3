"""Jenkins pipelines (`Jenkinsfile`, `Jenkinsfile.*`, `*.jenkinsfile`): the images a pipeline
runs in, as Groovy writes them:
- declarative agents, `agent { docker { image 'node:20.11' } }` and `agent { docker 'node:20.11' }`;
- scripted pipelines, `docker.image('maven:3.9.6').inside { ... }`.
A string with `$` in it is interpolated when the pipeline runs: skipped as a variable. Lines commented out with `//` are not read.
"""

from __future__ import annotations

import re

from tagbot.scan.model import Found, Piece, image_found, no_platforms, skipped

KIND = "jenkinsfile"

# `Jenkinsfile.release` is a pipeline; `Jenkinsfile.md` is about one.
_PATH = re.compile(r"(.*/)?(?:[Jj]enkinsfile(?:\.(?!(?:md|txt|rst)$)[^/]+)?|[^/]+\.[Jj]enkinsfile)")
# `image 'x'`, `image "x"`, `docker 'x'`, `docker.image('x')`: the string's characters.
_IMAGE = re.compile(
    r"""(?:\bimage\s+|\bdocker\s+|\bdocker\.image\(\s*)(?P<quote>['"])(?P<value>[^'"\n]+)(?P=quote)"""
)

declared_platforms = no_platforms


def matches(path: str) -> bool:
    return bool(_PATH.fullmatch(path))


def extract(text: str) -> list[Found]:
    found = []
    for match in _IMAGE.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        if "//" in text[line_start:match.start()]:
            continue  # commented out (or after a URL's `//` on the line: rare, and then read as text)
        written = (Piece(match.start("value"), match.group("value")),)
        if "$" in match.group("value"):
            found.append(skipped(written, "variable", "Groovy interpolates it when the pipeline runs"))
        else:
            found.append(image_found(written, written))
    return found
