"""Buildx bake files (`docker-bake.hcl`, `docker-bake.json`, and their `.override` files): the
`platforms` lists of their targets, which say what the repository builds images for.

Both syntaxes write the list the same way, `platforms = ["linux/amd64", ...]` in HCL and
`"platforms": [...]` in JSON, so one pattern reads both; interpolations (`"${PLATFORM}"`)
are known only at build time and say nothing.
"""

from __future__ import annotations

import re

from tagbot.scan.model import Found

KIND = "bake"

_NAME = re.compile(r"docker-bake(\.[^/]+)?\.(hcl|json)")
_LIST = re.compile(r"""(^[ \t]*)("?)platforms\2[ \t]*[=:][ \t]*\[([^\]]*)\]""", re.MULTILINE)
_STRING = re.compile(r'"([^"$\\]*)"')
_PLATFORM = re.compile(r"[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?")


def matches(path: str) -> bool:
    return bool(_NAME.fullmatch(path.rsplit("/", 1)[-1]))


def extract(text: str) -> list[Found]:
    return []  # bake files name the images they build, not ones to update


def declared_platforms(text: str, found: list[Found]) -> list[tuple[int, str]]:
    declared = []
    for match in _LIST.finditer(text):
        for string in _STRING.finditer(match.group(3)):
            if _PLATFORM.fullmatch(string.group(1).lower()):
                declared.append((match.start(3) + string.start(1), string.group(1)))
    return declared
