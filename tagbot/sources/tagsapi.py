"""The default source: the Docker Hub tags API (`GET {api_url}/v1/tags?name=redis&limit=100`).

Every answer is an envelope `{"data", "meta", "status", "message", "success"}`; it is read
strictly, and anything else is a `BadResponse` naming what was wrong, never a crash.
"""

from __future__ import annotations

import re
from typing import Any

from tagbot.errors import AuthError, BadResponse, printable
from tagbot.refs import ImageRef
from tagbot.sources.http import Fetcher, without_credentials
from tagbot.sources.model import ImageFacts, Tag, TagList, is_status_word, parse_timestamp

DEFAULT_API_URL = "https://api.oanor.com/docker-api"
KEY_ENV = "OANOR_API_KEY"
URL_ENV = "TAGBOT_API_URL"
KEY_HEADER = "x-oanor-key"
PAGE_LIMIT = 100  # the most the API answers in one call
TAGSAPI = "tagsapi"  # the source's label in call counts (and the one the monthly budget counts)
_AUTH_HINT = f"check the API key in {KEY_ENV}"


class TagsAPI:
    def __init__(self, fetcher: Fetcher, *, base_url: str = DEFAULT_API_URL, key: str | None) -> None:
        self.fetcher = fetcher
        self.base_url = base_url.rstrip("/")
        self._key = key
        self.cache_id = f"{TAGSAPI} {without_credentials(self.base_url)}"

    def covers(self, image: ImageRef) -> bool:
        return image.is_docker_hub

    def list_tags(self, image: ImageRef) -> TagList:
        tags = tags_from(self._get("/v1/tags", {"name": api_name(image), "limit": PAGE_LIMIT}))
        return TagList(tags, complete=len(tags) < PAGE_LIMIT)

    def image_facts(self, image: ImageRef) -> ImageFacts:
        """What `/v1/image` says of the image: its status, and whether it is deprecated."""
        data = self._get("/v1/image", {"name": api_name(image)})
        return facts_from(_field(data, "image", dict, "data"))

    def _get(self, path: str, params: dict[str, str | int]) -> dict[str, Any]:
        if not self._key:
            raise AuthError(f"no API key: set {KEY_ENV} (or run with --offline to use the cache only)")
        body = self.fetcher.get_json(
            self.base_url + path, params=params, headers={KEY_HEADER: self._key}, auth_hint=_AUTH_HINT
        )
        return unwrap(body)


def unwrap(body: Any) -> dict[str, Any]:
    """The `data` of an envelope `{"data", "meta", "status", "message", "success"}`."""
    if not isinstance(body, dict) or "success" not in body or "data" not in body:
        raise BadResponse("the tags API answered without its envelope (success, data)")
    if body["success"] is not True:
        message = body.get("message")
        said = printable(message) if isinstance(message, str) and message else "no success, no message"
        raise BadResponse(f"the tags API answered: {said}")
    data = body["data"]
    if not isinstance(data, dict):
        raise BadResponse("the tags API answered: data is not an object")
    return data


# A status other than this, or a description that says "deprecated", marks the image deprecated.
ACTIVE = "active"
_DEPRECATED = re.compile(r"\bdeprecated\b", re.IGNORECASE)
MAX_DESCRIPTION = 10_000  # characters of a description read; Docker Hub's short ones hold 100


def facts_from(image: dict[str, Any]) -> ImageFacts:
    """Only the status word and one yes-or-no are kept of what the API says: the description
    is a stranger's text, read (bounded) and never repeated."""
    status = _field(image, "status", str, "data.image")
    if not is_status_word(status):
        raise BadResponse("the tags API answered: data.image.status is not a status word")
    description = (_optional(image, "description", str, "data.image") or "")[:MAX_DESCRIPTION]
    return ImageFacts(status, status != ACTIVE or bool(_DEPRECATED.search(description)))


def tags_from(data: dict[str, Any]) -> tuple[Tag, ...]:
    """The tags of a `/v1/tags` answer's data, in the order given (newest first)."""
    tags = _field(data, "tags", list, "data")
    return tuple(_tag(entry, f"data.tags[{i}]") for i, entry in enumerate(tags))


def api_name(image: ImageRef) -> str:
    """How the API names a Docker Hub image: `nginx` for official ones, else `bitnami/redis`."""
    return image.repository.removeprefix("library/")


def _tag(entry: Any, where: str) -> Tag:
    if not isinstance(entry, dict):
        raise BadResponse(f"the tags API answered: {where} is not an object")
    name = _field(entry, "name", str, where)
    if not name:
        raise BadResponse(f"the tags API answered: {where}.name is empty")
    platforms = _optional(entry, "platforms", list, where) or []
    if not all(isinstance(p, str) for p in platforms):
        raise BadResponse(f"the tags API answered: {where}.platforms holds a non-string")
    pushed = _optional(entry, "last_updated", str, where)
    return Tag(
        name=name,
        digest=_optional(entry, "digest", str, where),
        platforms=frozenset(platforms),
        size=_optional(entry, "size", int, where),
        last_updated=parse_timestamp(pushed, f"the tags API answered: {where}.last_updated") if pushed else None,
    )


def _field(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BadResponse(f"the tags API answered: {where}.{key} is not {_KIND_NAMES[kind]}")
    return value


def _optional(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    return None if data.get(key) is None else _field(data, key, kind, where)


_KIND_NAMES = {str: "a string", int: "a number", list: "a list", dict: "an object", bool: "true or false"}
