"""Docker Hub's own API: no key needed, and every tag, not only the newest 100.

`GET {url}/v2/repositories/{namespace}/{repo}/tags?page_size=100&ordering=last_updated`, with
`next` followed for at most `max_pages` pages. `images[]` gives each tag's platforms. As a
source (no tags-API key) it answers the first page, as the tags API would; the walks that
read the rest once, and resume, are `sources.fill`'s.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from collections.abc import Iterator
from typing import Any


from tagbot.errors import BadResponse
from tagbot.platforms import platform_name
from tagbot.refs import ImageRef
from tagbot.sources.http import Fetcher, same_origin, without_credentials
from tagbot.sources.model import Tag, TagList, parse_timestamp

DEFAULT_HUB_URL = "https://hub.docker.com"
HUB_URL_ENV = "TAGBOT_HUB_URL"
HUB = "hub"  # the source's label in call counts
PAGE_SIZE = 100
_AUTH_HINT = "Docker Hub refused an anonymous request"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Page:
    number: int  # 1 for the newest
    tags: list[Tag]  # those holding the name filter
    listed: int  # how many entries the page listed
    last: bool
    total: int | None  # how many tags the filter holds, as Docker Hub counts them
    # The oldest push time of every entry it listed (a server that ignores the filter lists every
    # tag: what the page spans still holds for the filter's tags).
    oldest: float | None


class DockerHub:
    def __init__(self, fetcher: Fetcher, *, base_url: str = DEFAULT_HUB_URL, max_pages: int = 10) -> None:
        self.fetcher = fetcher
        self.base_url = base_url.rstrip("/")
        self.max_pages = max_pages
        self.cache_id = f"hub {without_credentials(self.base_url)} {max_pages}"

    def covers(self, image: ImageRef) -> bool:
        return image.is_docker_hub

    def list_tags(self, image: ImageRef) -> TagList:
        """The newest 100 tags, as the tags API answers: the rest are read once, by the walks
        the store resumes (`sources.fill`), not again after every `cache_ttl`."""
        page = next(self.pages(image, limit=1))
        return TagList(tuple(page.tags), complete=page.last)

    def pages(self, image: ImageRef, *, name: str = "", start: int = 1, limit: int | None = None) -> Iterator[Page]:
        """Pages newest first from page `start`, for at most `limit` (else `max_pages`) pages;
        `name` is Docker Hub's substring filter, applied here again, so a server that ignores it
        stays correct."""
        url: str | None = f"{self.base_url}/v2/repositories/{image.repository}/tags"
        params: dict[str, str | int] | None = {"page_size": PAGE_SIZE, "ordering": "last_updated"}
        if params is not None and start > 1:
            params["page"] = start
        if name and params is not None:
            params["name"] = name
        for number in range(start, start + (self.max_pages if limit is None else limit)):
            assert url is not None
            page = self.fetcher.get_json(url, params=params, auth_hint=_AUTH_HINT)
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise BadResponse("Docker Hub answered without a results list")
            tags = [_tag(entry, f"results[{i}]") for i, entry in enumerate(page["results"])]
            url, params = self._next(page.get("next")), None
            total = page.get("count")
            pushed = [t.last_updated.timestamp() for t in tags if t.last_updated is not None]
            log.debug("%s: Docker Hub page %d%s: %d tags", image.name, number, f" (name={name})" if name else "", len(tags))
            yield Page(number, [t for t in tags if name in t.name], len(tags), url is None,
                       total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None,
                       min(pushed, default=None))
            if url is None:
                return

    def _next(self, link: Any) -> str | None:
        """The next page, only on the same origin: a page never sends tagbot elsewhere."""
        if not link:
            return None
        if not isinstance(link, str) or not same_origin(link, self.base_url):
            raise BadResponse("Docker Hub's next page points to another origin")
        return link


def _tag(entry: Any, where: str) -> Tag:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
        raise BadResponse(f"Docker Hub answered: {where} has no name")
    images = entry.get("images") or []
    if not isinstance(images, list) or not all(isinstance(i, dict) for i in images):
        raise BadResponse(f"Docker Hub answered: {where}.images is not a list of objects")
    size, digest, pushed = entry.get("full_size"), entry.get("digest"), entry.get("last_updated")
    return Tag(
        name=entry["name"],
        digest=digest if isinstance(digest, str) else None,
        platforms=frozenset(platform_name(str(i["os"]), str(i["architecture"]), i.get("variant") or None)
                            for i in images if i.get("os") and i.get("architecture")),
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        last_updated=parse_timestamp(pushed, f"Docker Hub answered: {where}.last_updated") if isinstance(pushed, str) else None,
    )
