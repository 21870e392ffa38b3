"""Which source looks up an image: `registries:` in the config, else `auto`: for Docker Hub
images the tags API when its key is set and Docker Hub's own API when not, and the registry's
own distribution API for every other registry."""

from __future__ import annotations

import time
from dataclasses import replace
from collections.abc import Callable

import httpx

from tagbot.config import RegistrySettings, RunSettings, duration_text
from tagbot.refs import DOCKER_HUB, ImageRef
from tagbot.sources import Source
from tagbot.sources.http import Calls, Fetcher, InFlightLimiter, Limiter, RateLimiter
from tagbot.sources.hub import DEFAULT_HUB_URL, HUB, DockerHub
from tagbot.sources.registry import Registry, credentials_for, may_send_credentials
from tagbot.sources.tagsapi import TAGSAPI, TagsAPI


# Docker Hub allows anonymous API clients a few requests a second. A registry is asked by a
# cap on requests in flight, not by a per-second guess: it answers as fast as it can, and says
# (429, RateLimit headers) when that is too fast; `rate_limit:` is then a ceiling on top.
DEFAULT_HUB_RATE = 5.0
DEFAULT_IN_FLIGHT = 8


class SourceSet:
    def __init__(self, client: httpx.Client, run: RunSettings, calls: Calls, *, api_url: str, key: str | None,
                 offline: bool = False, fail_fast: bool = False, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, hub_url: str | None = None) -> None:
        registries = dict(run.registries)
        # A docker.io `url` names Docker Hub's API or a mirror of it, whether chosen or deep-searched.
        hub_setting = registries.get(DOCKER_HUB)
        hub_url = hub_url or (hub_setting.url if hub_setting and hub_setting.source in ("auto", "hub") else None)
        self._client, self._run, self._calls = client, run, calls
        self._fail_fast, self._monotonic, self._sleep = fail_fast, monotonic, sleep
        # One deadline for every source's requests, from when the run's lookups could start.
        deadline = run.lookup_deadline.total_seconds()
        self._deadline = monotonic() + deadline if deadline else None
        self._deadline_setting = f"lookup_deadline ({duration_text(run.lookup_deadline)})"
        self.tagsapi = TagsAPI(self._fetcher(TAGSAPI, run.rate_limit), base_url=api_url, key=key)
        hub_rate = (hub_setting.rate_limit if hub_setting else None) or DEFAULT_HUB_RATE
        self.hub = DockerHub(self._fetcher(HUB, hub_rate), base_url=hub_url or run.hub_url or DEFAULT_HUB_URL,
                             max_pages=run.max_tag_pages)
        self._registries = registries
        self._oci: dict[str, Registry] = {}
        # Offline, `auto` reads what the tags API left in the cache: the hook's no-key path.
        self._prefer_tagsapi = bool(key) or offline

    def for_image(self, image: ImageRef) -> Source | None:
        """The source for `image`, or None when lookups are off for its registry."""
        setting = self._registries.get(image.registry, RegistrySettings())
        kind = setting.source
        if kind == "auto" and image.is_docker_hub:
            kind = "tagsapi" if self._prefer_tagsapi else "hub"
        if kind == "off":
            return None
        if kind == "tagsapi":
            return self.tagsapi
        if kind == "hub":
            return self.hub
        return self._registry(image.registry, setting)

    def registry_for(self, image: ImageRef) -> Registry | None:
        """The image's registry itself (registry-1.docker.io for Docker Hub's), for what only
        image configs hold; None when lookups are off for it."""
        setting = self._registries.get(image.registry, RegistrySettings())
        if setting.source == "off":
            return None
        if image.is_docker_hub and setting.source != "registry":
            setting = replace(setting, url=None)  # a docker.io url names Docker Hub's API or a mirror
        return self._registry(image.registry, setting)

    def _registry(self, host: str, setting: RegistrySettings) -> Registry:
        if host not in self._oci:
            default = "https://registry-1.docker.io" if host == DOCKER_HUB else f"{'http' if setting.insecure else 'https'}://{host}"
            base_url = setting.url or default
            # A repository's config chooses the url; credentials kept for `host` go to nowhere else.
            credentials = credentials_for(host, setting.auth_env) if may_send_credentials(base_url, host) else None
            limiter = InFlightLimiter(DEFAULT_IN_FLIGHT, rate=setting.rate_limit, clock=self._monotonic, sleep=self._sleep)
            self._oci[host] = Registry(self._fetcher(host, limiter=limiter), host=host, base_url=base_url,
                                       credentials=credentials,
                                       max_pages=self._run.max_tag_pages,
                                       credentials_hint=_hint(host, setting))
        return self._oci[host]

    def _fetcher(self, label: str, rate: float | None = None, *, limiter: Limiter | None = None) -> Fetcher:
        """A limiter of its own per source, at that source's pace: the tags API plan's rate must
        not slow a registry that allows more. The call budget is the run's."""
        limiter = limiter or RateLimiter(rate or DEFAULT_HUB_RATE, clock=self._monotonic, sleep=self._sleep)
        return Fetcher(self._client, limiter=limiter, calls=self._calls, sleep=self._sleep, fail_fast=self._fail_fast,
                       label=label, clock=self._monotonic, deadline=self._deadline, deadline_setting=self._deadline_setting)

    def hub_fills(self, image: ImageRef) -> bool:
        """Whether Docker Hub's API may fill what `image`'s first answer lacked (the newest 100
        tags, from the tags API or Docker Hub itself): any Docker Hub image."""
        return self.hub.covers(image)


def _hint(host: str, setting: RegistrySettings) -> str:
    if setting.auth_env:
        return f"check the credentials in ${setting.auth_env}"
    return f"set credentials: docker login {host}, or auth_env for {host} in registries:"
