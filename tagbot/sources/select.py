"""Which source looks up an image: `registries:` in the config, else `auto` (the tags API for
Docker Hub images when its key is set, Docker Hub's own API when not)."""

from __future__ import annotations

import httpx

from tagbot.config import RunSettings
from tagbot.refs import DOCKER_HUB, ImageRef
from tagbot.sources import Source
from tagbot.sources.http import Calls, Fetcher, RateLimiter
from tagbot.sources.hub import DEFAULT_HUB_URL, DockerHub
from tagbot.sources.tagsapi import TagsAPI


class SourceSet:
    def __init__(self, client: httpx.Client, run: RunSettings, calls: Calls, *, api_url: str, key: str | None,
                 offline: bool = False) -> None:
        registries = dict(run.registries)
        # A docker.io `url` names Docker Hub's API or a mirror of it, whether chosen or deep-searched.
        hub_url = registries[DOCKER_HUB].url if DOCKER_HUB in registries else None
        # One limiter per source: each service has its own allowance; the call budget is the run's.
        self.tagsapi = TagsAPI(Fetcher(client, limiter=RateLimiter(run.rate_limit), calls=calls), base_url=api_url, key=key)
        self.hub = DockerHub(Fetcher(client, limiter=RateLimiter(run.rate_limit), calls=calls),
                             base_url=hub_url or DEFAULT_HUB_URL, max_pages=run.max_tag_pages)
        self._registries = registries
        # Offline, `auto` reads what the tags API left in the cache: the hook's no-key path.
        self._prefer_tagsapi = bool(key) or offline

    def for_image(self, image: ImageRef) -> Source | None:
        """The source for `image`, or None when no source covers its registry yet."""
        setting = self._registries.get(image.registry)
        kind = setting.source if setting else "auto"
        if kind == "auto":
            kind = "tagsapi" if self._prefer_tagsapi else "hub"
        source: Source = self.tagsapi if kind == "tagsapi" else self.hub
        return source if source.covers(image) else None

    def for_deep_search(self, image: ImageRef) -> Source | None:
        """Where to read every tag when the first answer held only the newest ones."""
        return self.hub if self.hub.covers(image) and self.for_image(image) is not self.hub else None
