"""Dev containers (`.devcontainer.json`, `.devcontainer/devcontainer.json`,
`.devcontainer/<name>/devcontainer.json`), JSON with comments and trailing commas.

Images: `image`, and each key of `features` that is an OCI reference
(`ghcr.io/devcontainers/features/node:1`). Features are artifacts with no platforms, so only
their tag is followed; a feature named by a folder (`./local`) or a URL is none of ours.
`${localEnv:X}` and kin are known only when the container is built: skipped as variables.
"""

from __future__ import annotations

import re
from dataclasses import replace

from tagbot.scan import jsonc
from tagbot.scan.model import Found, Piece, image_found, no_platforms, skipped

KIND = "devcontainer"

_PATH = re.compile(r"(^|.*/)(\.devcontainer\.json|\.devcontainer/devcontainer\.json|\.devcontainer/[^/]+/devcontainer\.json)")
# A registry host first (`ghcr.io/`, `localhost:5000/`), by Docker's rule that a first part with
# a dot or a port is a host: a bare name is a folder or an old-style id.
_OCI_FEATURE = re.compile(r"([A-Za-z0-9][^/]*[.:][^/]*|localhost)/")


def matches(path: str) -> bool:
    return bool(_PATH.fullmatch(path))


declared_platforms = no_platforms


def extract(text: str) -> list[Found]:
    document = jsonc.parse(text)
    if document.kind != "object":
        return []
    found = []
    image = document.get("image")
    if image is not None and image.kind == "string" and image.value:
        found.append(_reference(text, image))
    features = document.get("features")
    for key, _ in features.members if features is not None else []:
        if _OCI_FEATURE.match(str(key.value)):
            found.append(replace(_reference(text, key), artifact=True))
    return found


def _reference(text: str, node: jsonc.Node) -> Found:
    written = (Piece(node.start, text[node.start : node.end]),)
    if not node.raw:
        return skipped(written, "unsupported", "escaped strings are not rewritten")
    if "$" in written[0].text:
        return skipped(written, "variable", "a ${...} variable sets it when the container is built")
    return image_found(written, written)
