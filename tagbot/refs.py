"""Image references by the Docker reference grammar: `[registry[:port]/]path[:tag][@digest]`.

The only module that parses references. An `ImageRef` keeps the text as written (rewrites edit
it in place) beside the normalised name (lookups and de-duplication use it), so `nginx`,
`library/nginx` and `docker.io/library/nginx` are one image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tagbot.errors import InvalidReference

DOCKER_HUB = "docker.io"
# Other spellings of Docker Hub that docker itself treats as docker.io.
HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
NAME_MAX = 255

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
# IPv6 as distribution writes it: hex and colons only, no dotted IPv4 tail.
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])"
_REGISTRY = re.compile(rf"{_HOST}(?::[0-9]+)?")
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = re.compile(r"([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*):([0-9a-fA-F]{32,})")
_SPACE = re.compile(r"\s")
_IMAGE_ID = re.compile(r"[a-f0-9]{64}")
_LOWER_HEX = re.compile(r"[0-9a-f]+")
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha512": 128}


@dataclass(frozen=True)
class ImageRef:
    """One parsed reference; `text` is exactly what was written."""

    text: str
    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """The normalised image name, the key for lookups: `docker.io/library/nginx`."""
        return f"{self.registry}/{self.repository}"

    @property
    def is_docker_hub(self) -> bool:
        return self.registry == DOCKER_HUB

    @property
    def effective_tag(self) -> str:
        """The tag docker pulls: the one written, or `latest` when none is."""
        return self.tag or "latest"

    @property
    def names(self) -> tuple[str, ...]:
        """Every name people use for the image, for globs in rules and groups: `nginx`,
        `library/nginx` and `docker.io/library/nginx` are all Docker Hub's nginx."""
        if self.is_docker_hub:
            return (self.short_name, self.repository, self.name)
        return (self.name,)

    @property
    def short_name(self) -> str:
        """The name as people write it: `nginx`, `bitnami/redis`, `ghcr.io/org/app`."""
        if self.is_docker_hub:
            return self.repository.removeprefix("library/")
        return self.name

    @property
    def tag_span(self) -> tuple[int, int] | None:
        """Where the tag sits in `text`, as (start, end)."""
        if self.tag is None:
            return None
        end = len(self.text) - (len(self.digest) + 1 if self.digest else 0)
        return end - len(self.tag), end

    @property
    def name_span(self) -> tuple[int, int]:
        """Where the name (registry and repository, as written) sits in `text`."""
        end = len(self.text) - (len(self.digest) + 1 if self.digest else 0) - (len(self.tag) + 1 if self.tag else 0)
        return 0, end

    @property
    def digest_span(self) -> tuple[int, int] | None:
        """Where the digest (`sha256:...`, without the `@`) sits in `text`."""
        if self.digest is None:
            return None
        return len(self.text) - len(self.digest), len(self.text)


def is_tag(text: object) -> bool:
    """Whether `text` is a tag by the grammar: what a source answers must be, before any use."""
    return isinstance(text, str) and _TAG.fullmatch(text) is not None and text.isascii()


def is_digest(text: object) -> bool:
    """Whether `text` is a digest of a registered algorithm, with exactly its length in lowercase hex."""
    if not isinstance(text, str) or not text.isascii():
        return False
    algorithm, _, hex_part = text.partition(":")
    length = _DIGEST_HEX_LENGTH.get(algorithm)
    return length is not None and len(hex_part) == length and _LOWER_HEX.fullmatch(hex_part) is not None


SHORT_DIGEST = 12  # hex digits people are shown, as `docker images` does


def short_digest(digest: str | None) -> str:
    """`sha256:3f06a298e364` for a full digest; empty for none."""
    if digest is None:
        return ""
    algorithm, _, hex_part = digest.partition(":")
    return f"{algorithm}:{hex_part[:SHORT_DIGEST]}"


def short_version(tag: str | None, digest: str | None) -> str:
    """A tag and digest as reports and pull requests show them: `1.27.3@sha256:3f06a298e364`."""
    return (tag or "") + (f"@{short_digest(digest)}" if digest else "")


def parse_ref(text: str) -> ImageRef:
    """Parse `text` as written; raise `InvalidReference` saying what is wrong."""
    if not text:
        raise InvalidReference(text, "empty")
    if _SPACE.search(text):
        raise InvalidReference(text, "contains white space")
    if _IMAGE_ID.fullmatch(text):
        raise InvalidReference(text, "64 hexadecimal digits are an image ID, not a name")

    remainder, digest = _split_digest(text)
    name, tag = _split_tag(text, remainder)
    registry, path = _split_registry(text, name)
    if len(path) > NAME_MAX:  # before the components are matched: no regex runs over a megabyte
        raise InvalidReference(text, f"name is longer than {NAME_MAX} characters")
    for component in path.split("/"):
        if _PATH_COMPONENT.fullmatch(component):
            continue
        if _PATH_COMPONENT.fullmatch(component.lower()):
            raise InvalidReference(text, f"repository name {path!r} must be lowercase")
        raise InvalidReference(text, f"bad name component {component!r}")

    registry = registry.lower()
    if registry in HUB_ALIASES:
        registry = DOCKER_HUB
        if "/" not in path:
            path = f"library/{path}"
    # On the normalised path, as distribution counts it: `library/` in, the registry out.
    if len(path) > NAME_MAX:
        raise InvalidReference(text, f"name is longer than {NAME_MAX} characters")
    return ImageRef(text=text, registry=registry, repository=path, tag=tag, digest=digest)


def _split_digest(text: str) -> tuple[str, str | None]:
    if "@" not in text:
        return text, None
    remainder, digest = text.split("@", 1)
    match = _DIGEST.fullmatch(digest)
    if match is None:
        raise InvalidReference(text, f"bad digest {digest!r} (expected algorithm:hex)")
    algorithm, hex_part = match.groups()
    expected = _DIGEST_HEX_LENGTH.get(algorithm)
    if expected is not None and (len(hex_part) != expected or hex_part != hex_part.lower()):
        raise InvalidReference(text, f"bad {algorithm} digest: needs {expected} lowercase hex digits")
    return remainder, digest


def _split_tag(text: str, remainder: str) -> tuple[str, str | None]:
    # A ':' after the last '/' starts the tag; before it, it is a registry port.
    colon = remainder.rfind(":")
    if colon <= remainder.rfind("/"):
        return remainder, None
    name, tag = remainder[:colon], remainder[colon + 1 :]
    if not _TAG.fullmatch(tag):
        raise InvalidReference(text, f"bad tag {tag!r}")
    return name, tag


def _split_registry(text: str, name: str) -> tuple[str, str]:
    first, slash, rest = name.partition("/")
    if slash and (("." in first or ":" in first) or first == "localhost"):
        if not _REGISTRY.fullmatch(first):
            raise InvalidReference(text, f"bad registry {first!r}")
        if not rest:
            raise InvalidReference(text, "missing repository after the registry")
        return first, rest
    return DOCKER_HUB, name
