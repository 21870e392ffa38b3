"""Moved and deprecated images: which image took another's place, and which are deprecated.

The moves their publishers document and the deprecated official images are shipped as
`tagbot/data/replacements.json` (its source and date inside; `scripts/rebuild_replacements.py`
rebuilds it); the config's `replacements:` add to them and come first. A move names an image
(`openjdk` -> `eclipse-temurin`) or every image under a registry or namespace
(`k8s.gcr.io/*` -> `registry.k8s.io/*`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from tagbot.errors import InvalidReference
from tagbot.refs import ImageRef, parse_ref

CONFIG_SOURCE = "replacements: in the config"


@dataclass(frozen=True)
class Move:
    old: str  # an image name, or a prefix ending in `/*`
    new: str
    source: str  # where the publisher says so, or CONFIG_SOURCE

    def successor(self, image: ImageRef) -> str | None:
        """The name `image` moved to, as it is to be written; None when the move is not its."""
        if not self.old.endswith("/*"):
            return self.new if self.old in image.names else None
        prefix = self.old[:-1]
        for name in image.names:
            if name.startswith(prefix) and len(name) > len(prefix):
                return self.new[:-1] + name[len(prefix):]
        return None


@dataclass(frozen=True)
class Successor:
    image: ImageRef  # the successor, with the moved reference's tag
    written: str  # its name as the rewrite writes it: `eclipse-temurin`, `registry.k8s.io/pause`
    move: Move


@dataclass(frozen=True)
class Moves:
    moves: tuple[Move, ...]
    deprecated: Mapping[str, str]  # short name of a deprecated official image -> its notice's address

    def successor_of(self, image: ImageRef) -> Successor | None:
        """Where `image` moved, with the same tag (and no digest), by the first move naming it."""
        for move in self.moves:
            name = move.successor(image)
            if name is None:
                continue
            try:
                return Successor(parse_ref(f"{name}:{image.effective_tag}"), name, move)
            except InvalidReference:
                return None  # a prefix move whose result no image can be named
        return None

    def deprecation(self, image: ImageRef) -> str | None:
        """The address of the notice that deprecates an official image, if one does."""
        return self.deprecated.get(image.short_name) if image.is_docker_hub else None

    def with_config(self, replacements: Sequence[tuple[str, str]]) -> Moves:
        extra = tuple(Move(old, new, CONFIG_SOURCE) for old, new in replacements)
        return Moves(extra + self.moves, self.deprecated)


@lru_cache(maxsize=1)
def shipped_moves() -> Moves:
    text = resources.files("tagbot").joinpath("data/replacements.json").read_text(encoding="utf-8")
    return moves_from(json.loads(text))


def moves_from(data: Mapping[str, Any]) -> Moves:
    return Moves(tuple(Move(m["from"], m["to"], m["source"]) for m in data["moves"]), dict(data["deprecated"]))


def check_move(old: str, new: str) -> str | None:
    """What is wrong with a move written in the config, or None."""
    if old.endswith("/*") != new.endswith("/*"):
        return f"{old}: a move of everything under a prefix (/*) goes to another prefix (/*), not to {new}"
    for name in (old, new):
        bare = name[:-2] if name.endswith("/*") else name
        if "*" in bare or "?" in bare:
            return f"{name}: only a trailing /* may stand for every image under a prefix"
        try:
            image = parse_ref(f"{bare}/x" if name.endswith("/*") else bare)
        except InvalidReference as e:
            return f"{name}: {e.problem}"
        if image.tag is not None or image.digest is not None:
            return f"{name}: an image name, without a tag or digest"
    return None
