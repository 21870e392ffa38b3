"""Any OCI registry through the distribution API: ghcr.io, quay.io, a private one, or a mirror.

`GET /v2/<name>/tags/list` (with `n` and `Link` pagination) names the tags; only the tags the
policy asks about are then described by `GET /v2/<name>/manifests/<tag>`: the digest from
`Docker-Content-Digest`, the platforms from the image index (or from the config blob of a
single manifest). Auth follows the registry's challenge: an anonymous or credentialed bearer
token from its realm, or basic credentials; credentials come from the environment variable
named in the config, or from ~/.docker/config.json.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import os
import re
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from tagbot.errors import BadResponse, Unauthorized
from tagbot.platforms import platform_name
from tagbot.refs import ImageRef, is_digest
from tagbot.sources.http import Fetcher, check_status, read_json, same_origin, without_credentials
from tagbot.sources.model import Tag, TagList, parse_timestamp

PAGE_SIZE = 100
HELPER_TIMEOUT = 10.0  # seconds a docker credential helper may take
SOURCE_LABEL = "org.opencontainers.image.source"
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json")
_ACCEPT = ", ".join(INDEX_TYPES + MANIFEST_TYPES)
_CHALLENGE_PART = re.compile(r'(\w+)="([^"]*)"')
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')

Credentials = tuple[str, str]  # (user, password or token)
INSECURE_ENV = "TAGBOT_INSECURE_REGISTRIES"  # hosts (host[:port], comma-separated) credentials may reach over http
# Docker Hub's registry answers at other names than the one images are written with.
_SAME_REGISTRY = {"docker.io": ("registry-1.docker.io", "index.docker.io")}
log = logging.getLogger(__name__)


class Registry:
    def __init__(self, fetcher: Fetcher, *, host: str, base_url: str, credentials: Credentials | None = None,
                 max_pages: int = 10, credentials_hint: str = "docker login, or name an auth_env in registries:") -> None:
        self.fetcher = fetcher
        self.host = host
        self.base_url = base_url.rstrip("/")
        self.max_pages = max_pages
        self.cache_id = f"registry {without_credentials(self.base_url)}"
        self._credentials = credentials
        self._hint = credentials_hint
        self._tokens: dict[str, str] = {}  # by scope
        self._lock = threading.Lock()

    def covers(self, image: ImageRef) -> bool:
        return image.registry == self.host

    def list_tags(self, image: ImageRef) -> TagList:
        url: str | None = f"{self.base_url}/v2/{image.repository}/tags/list"
        params: dict[str, str | int] | None = {"n": PAGE_SIZE}
        names: list[str] = []
        for _ in range(self.max_pages):
            assert url is not None
            response = self._get(url, image, params=params)
            body = read_json(response)
            tags = body.get("tags") if isinstance(body, dict) else None
            if tags is None:
                tags = []  # distribution answers null for a repository whose tags were all deleted
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise BadResponse(f"{self.host} answered a tag list that is not a list of names", host=self.host)
            names.extend(tags)
            url, params = self._next(response), None
            log.debug("%s: %d tag names from %s so far", image.name, len(names), self.host)
            if url is None:
                return TagList(tuple(Tag(name, described=False) for name in names), complete=True)
        return TagList(tuple(Tag(name, described=False) for name in names), complete=False)

    def describe(self, image: ImageRef, tag: str) -> Tag:
        """The tag with its digest and platforms, from its manifest (one or two calls)."""
        response = self._get(f"{self.base_url}/v2/{image.repository}/manifests/{tag}", image, headers={"accept": _ACCEPT})
        body = read_json(response)
        digest = response.headers.get("docker-content-digest")
        media_type = (body.get("mediaType") if isinstance(body, dict) else None) or response.headers.get("content-type", "")
        if media_type in INDEX_TYPES:
            return Tag(tag, digest, _index_platforms(body))
        if media_type in MANIFEST_TYPES:
            config = _field(body, "config", dict)
            blob = read_json(self._get(f"{self.base_url}/v2/{image.repository}/blobs/{_field(config, 'digest', str)}", image))
            layers = [layer.get("size", 0) for layer in _field(body, "layers", list) if isinstance(layer, dict)]
            created = blob.get("created") if isinstance(blob, dict) else None
            return Tag(
                tag, digest, frozenset({_platform(blob)}) if isinstance(blob, dict) and blob.get("os") else frozenset(),
                size=sum(size for size in layers if isinstance(size, int)) or None,
                last_updated=parse_timestamp(created, f"{self.host}: {tag}'s config created") if isinstance(created, str) else None,
            )
        raise BadResponse(f"{self.host} answered {tag} with an unknown manifest type {media_type!r}", host=self.host)

    def digest_of(self, image: ImageRef, tag: str) -> str | None:
        """The digest `tag` points to now, from a HEAD of its manifest (`Docker-Content-Digest`);
        None when the registry does not say, or says something that is not a digest."""
        response = self._get(f"{self.base_url}/v2/{image.repository}/manifests/{tag}", image,
                             headers={"accept": _ACCEPT}, method="HEAD")
        digest = response.headers.get("docker-content-digest")
        return digest if digest is not None and is_digest(digest) else None

    def source_url(self, image: ImageRef, tag: str) -> str | None:
        """Where the tag's image says its source is: the `org.opencontainers.image.source` label
        of its config (of the linux/amd64 image, for an index), or None. Untrusted: callers check it."""
        manifest_url = f"{self.base_url}/v2/{image.repository}/manifests"
        body = read_json(self._get(f"{manifest_url}/{tag}", image, headers={"accept": _ACCEPT}))
        if isinstance(body, dict) and body.get("mediaType") in INDEX_TYPES:
            entries = [m for m in _field(body, "manifests", list) if isinstance(m, dict) and isinstance(m.get("digest"), str)]
            entries.sort(key=lambda m: (m.get("platform") or {}).get("architecture") != "amd64")
            if not entries:
                return None
            body = read_json(self._get(f"{manifest_url}/{entries[0]['digest']}", image, headers={"accept": _ACCEPT}))
        config = _field(body, "config", dict)
        blob = read_json(self._get(f"{self.base_url}/v2/{image.repository}/blobs/{_field(config, 'digest', str)}", image))
        labels = (blob.get("config") or {}).get("Labels") if isinstance(blob, dict) else None
        value = labels.get(SOURCE_LABEL) if isinstance(labels, dict) else None
        return value if isinstance(value, str) else None

    # --- auth -------------------------------------------------------------------------------

    def _get(self, url: str, image: ImageRef, *, params: Mapping[str, str | int] | None = None,
             headers: Mapping[str, str] | None = None, method: str = "GET") -> httpx.Response:
        scope = f"repository:{image.repository}:pull"
        response = self.fetcher.get(url, params=params, headers={**(headers or {}), **self._auth_header(scope)},
                                    method=method)
        if response.status_code == 401:
            self._answer_challenge(response.headers.get("www-authenticate", ""), scope, image)
            response = self.fetcher.get(url, params=params, headers={**(headers or {}), **self._auth_header(scope)},
                                        method=method)
            if response.status_code == 401:
                raise Unauthorized(f"{self.host} refused {image.repository} (401): {self._hint}", host=self.host)
        check_status(response, f"{image.repository}: {self._hint}", refused=Unauthorized)
        return response

    def _auth_header(self, scope: str) -> dict[str, str]:
        with self._lock:
            token = self._tokens.get(scope) or self._tokens.get("basic")
        if token is None:
            return {}
        return {"authorization": token}

    def _answer_challenge(self, challenge: str, scope: str, image: ImageRef) -> None:
        scheme, _, rest = challenge.partition(" ")
        if scheme.lower() == "basic":
            if self._credentials is None:
                raise Unauthorized(f"{self.host} needs credentials for {image.repository}: {self._hint}", host=self.host)
            with self._lock:
                self._tokens["basic"] = "Basic " + _basic(self._credentials)
            return
        if scheme.lower() != "bearer":
            raise Unauthorized(f"{self.host} asks for an unknown kind of auth ({scheme or 'none'})", host=self.host)
        fields = dict(_CHALLENGE_PART.findall(rest))
        realm = fields.get("realm")
        if not realm:
            raise BadResponse(f"{self.host} sent a bearer challenge without a realm", host=self.host)
        params = {"service": fields.get("service", ""), "scope": fields.get("scope", scope)}
        # The registry names its realm, which may be another host (GitLab's is): how the
        # credentials travel there is checked as for the registry itself.
        credentials = self._credentials if self._credentials and secure_for_credentials(realm) else None
        headers = {"authorization": "Basic " + _basic(credentials)} if credentials else {}
        response = self.fetcher.get(realm, params=params, headers=headers)
        if response.status_code in (401, 403):
            raise Unauthorized(f"{self.host}'s token service refused the credentials ({response.status_code}): {self._hint}", host=self.host)
        if response.status_code != 200:
            raise BadResponse(f"{self.host}'s token service answered HTTP {response.status_code}", host=self.host)
        body = read_json(response)
        token = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise BadResponse(f"{self.host}'s token service answered without a token", host=self.host)
        with self._lock:
            self._tokens[scope] = f"Bearer {token}"

    def _next(self, response: httpx.Response) -> str | None:
        match = _NEXT_LINK.search(response.headers.get("link", ""))
        if match is None:
            return None
        link = str(response.url.join(match.group(1)))
        if not same_origin(link, self.base_url):
            raise BadResponse(f"{self.host}'s next page points to another origin", host=self.host)
        return link


def _index_platforms(body: Any) -> frozenset[str]:
    manifests = _field(body, "manifests", list)
    return frozenset(_platform(m["platform"]) for m in manifests
                     if isinstance(m, dict) and isinstance(m.get("platform"), dict) and m["platform"].get("os"))


def _platform(spec: dict[str, Any]) -> str:
    return platform_name(str(spec["os"]), str(spec.get("architecture", "unknown")), spec.get("variant") or None)


def _field(body: Any, key: str, kind: type) -> Any:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, kind):
        raise BadResponse(f"a manifest without a valid {key}")
    return value


def _basic(credentials: Credentials) -> str:
    return base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()


def may_send_credentials(url: str, host: str) -> bool:
    """Whether credentials kept for registry `host` may go to `url`: only to that host itself,
    over a transport `secure_for_credentials` allows. A repository's config chooses the url."""
    try:
        netloc = httpx.URL(url).netloc.decode().lower()
    except (httpx.InvalidURL, ValueError):
        return False
    return (netloc == host or netloc in _SAME_REGISTRY.get(host, ())) and secure_for_credentials(url)


def secure_for_credentials(url: str) -> bool:
    """https; plain http only to this machine or to a host the environment's
    $TAGBOT_INSECURE_REGISTRIES names, never because a repository's config says `insecure`.
    (A token realm may be another host, as GitLab's is: the registry, trusted with the
    credentials already, names it; only how they travel is checked.)"""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        return False
    if parsed.scheme == "https":
        return True
    insecure = {h.strip().lower() for h in os.environ.get(INSECURE_ENV, "").split(",") if h.strip()}
    return parsed.scheme == "http" and (_is_loopback(parsed.host) or parsed.netloc.decode().lower() in insecure)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name such as 127.example.com is no address


def credentials_for(host: str, auth_env: str | None) -> Credentials | None:
    """`auth_env`'s value (`user:password`, or a token used as the password), else what
    $DOCKER_CONFIG/config.json (~/.docker/config.json) holds for `host`: its credential helper
    (`credHelpers`, then `credsStore`, where Docker Desktop keeps them), or its `auths` entry."""
    if auth_env:
        value = os.environ.get(auth_env)
        if value:
            user, colon, secret = value.partition(":")
            return (user, secret) if colon else ("tagbot", value)
    folder = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(config, dict):
        return None
    helpers = config.get("credHelpers")
    helper = (helpers.get(host) if isinstance(helpers, dict) else None) or config.get("credsStore")
    if isinstance(helper, str) and helper:
        from_helper = _from_helper(helper, host)
        if from_helper is not None:
            return from_helper
    return _from_auths(config.get("auths"), host)


def _from_helper(helper: str, host: str) -> Credentials | None:
    """`docker-credential-<helper> get`, as docker runs it: the host on stdin, JSON back."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", helper):
        return None  # a helper's name is a suffix of a program's name, never a path
    try:
        result = subprocess.run([f"docker-credential-{helper}", "get"], input=host, capture_output=True,
                                text=True, timeout=HELPER_TIMEOUT, check=False)
        answer = json.loads(result.stdout) if result.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    if not isinstance(answer, dict):
        return None
    user, secret = answer.get("Username"), answer.get("Secret")
    if not isinstance(user, str) or not isinstance(secret, str) or not secret:
        return None
    return (user, secret)


def _from_auths(auths: Any, host: str) -> Credentials | None:
    entry = auths.get(host) if isinstance(auths, dict) else None
    encoded = entry.get("auth") if isinstance(entry, dict) else None
    if not isinstance(encoded, str):
        return None
    try:
        user, colon, secret = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        return None
    return (user, secret) if colon else None
