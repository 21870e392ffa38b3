"""The registry source against Debian's docker-registry on loopback, with images pushed
through the distribution API; token auth against a small token server of the test's own."""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tagbot.errors import NotFound, Unauthorized
from tagbot.refs import parse_ref
from tagbot.sources.http import Calls
from tagbot.sources.registry import INDEX_TYPES, Registry, credentials_for
from tests.helpers import loopback_fetcher
from tests.loopback import serve
from tests.registry import Pusher, running_registry

AMD_ARM = ["linux/amd64", "linux/arm64/v8"]


def registry_source(url: str, credentials: tuple[str, str] | None = None, max_pages: int = 10) -> tuple[Registry, Calls]:
    fetcher, calls = loopback_fetcher()
    host = httpx.URL(url).netloc.decode()
    return Registry(fetcher, host=host, base_url=url, credentials=credentials, max_pages=max_pages), calls


@pytest.fixture(scope="module")
def oci(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """An anonymous registry holding acme/app (multi-arch) and acme/solo (single manifests)."""
    with running_registry(tmp_path_factory.mktemp("registry")) as url:
        pusher = Pusher(url)
        digests = {
            "1.0.0": pusher.image("acme/app", ["1.0.0"], AMD_ARM, salt="a"),
            "1.1.0": pusher.image("acme/app", ["1.1.0", "1.1"], AMD_ARM, salt="b"),
            "1.2.0": pusher.image("acme/app", ["1.2.0"], ["linux/amd64"], salt="c"),
            "2.0.0-rc1": pusher.image("acme/app", ["2.0.0-rc1"], AMD_ARM, salt="d"),
            "solo": pusher.single("acme/solo", "1.1"),
        }
        pusher.single("acme/solo", "1.0")
        pusher.feature("acme/features/node", ["1.0.0", "1"])
        digests["feature 2"] = pusher.feature("acme/features/node", ["2.1.0", "2"])
        yield url, digests


def test_tags_are_listed_by_name_only(oci):
    url, _ = oci
    source, calls = registry_source(url)
    tags = source.list_tags(parse_ref(f"{httpx.URL(url).netloc.decode()}/acme/app:1.0.0"))
    assert sorted(t.name for t in tags.tags) == ["1.0.0", "1.1", "1.1.0", "1.2.0", "2.0.0-rc1"]
    assert not any(t.described for t in tags.tags) and tags.complete
    assert calls.network == 1


def test_an_index_gives_digest_and_platforms(oci):
    url, digests = oci
    source, calls = registry_source(url)
    tag = source.describe(parse_ref(f"{httpx.URL(url).netloc.decode()}/acme/app"), "1.1.0")
    assert (tag.name, tag.digest, tag.platforms) == ("1.1.0", digests["1.1.0"], frozenset(AMD_ARM))
    assert calls.network == 1  # an index needs no second call


def test_a_single_manifest_reads_its_platform_from_the_config(oci):
    url, digests = oci
    source, calls = registry_source(url)
    tag = source.describe(parse_ref(f"{httpx.URL(url).netloc.decode()}/acme/solo"), "1.1")
    assert (tag.digest, tag.platforms) == (digests["solo"], frozenset({"linux/amd64"}))
    assert tag.last_updated == datetime(2026, 7, 1, tzinfo=timezone.utc) and tag.size
    assert calls.network == 2


def test_an_unknown_repository_is_not_found(oci):
    url, _ = oci
    source, _ = registry_source(url)
    with pytest.raises(NotFound, match="not found at 127.0.0.1"):
        source.list_tags(parse_ref(f"{httpx.URL(url).netloc.decode()}/acme/none"))


class PagedTags(BaseHTTPRequestHandler):
    """distribution 2.8 ignores `n`, so `Link` paging is served by this stand-in."""

    pages = {None: ["1.0", "1.1"], "1.1": ["1.2", "1.3"], "1.3": ["2.0"]}

    def do_GET(self) -> None:  # noqa: N802
        query = parse_qs(urlsplit(self.path).query)
        last = query.get("last", [None])[0]
        tags = self.pages[last]
        self.send_response(200)
        if last != "1.3":
            self.send_header("Link", f'</v2/acme/app/tags/list?n=2&last={tags[-1]}>; rel="next"')
        body = json.dumps({"name": "acme/app", "tags": tags}).encode()
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize(("max_pages", "names", "complete"), [(10, ["1.0", "1.1", "1.2", "1.3", "2.0"], True),
                                                              (2, ["1.0", "1.1", "1.2", "1.3"], False)])
def test_link_pagination_is_followed_within_the_bound(max_pages, names, complete):
    with serve(PagedTags) as url:
        source, calls = registry_source(url, max_pages=max_pages)
        tags = source.list_tags(parse_ref(f"{httpx.URL(url).netloc.decode()}/acme/app"))
        assert ([t.name for t in tags.tags], tags.complete, calls.network) == (names, complete, min(max_pages, 3))


def test_credentials_from_the_environment_and_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GHCR_TOKEN", "ghp_abc")
    assert credentials_for("ghcr.io", "GHCR_TOKEN") == ("tagbot", "ghp_abc")
    monkeypatch.setenv("GHCR_TOKEN", "me:pw")
    assert credentials_for("ghcr.io", "GHCR_TOKEN") == ("me", "pw")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"quay.io": {"auth": base64.b64encode(b"bob:s3").decode()}}}))
    assert credentials_for("quay.io", None) == ("bob", "s3")
    assert credentials_for("ghcr.io", None) is None


def test_credentials_from_docker_credential_helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Docker Desktop keeps logins in a helper (`credsStore`), some registries in their own
    (`credHelpers`); docker asks `docker-credential-<name> get` with the host on stdin."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, user in (("desktop", "desk"), ("ecr-login", "AWS")):
        helper = bin_dir / f"docker-credential-{name}"
        helper.write_text(f"#!/bin/sh\nread host\n[ \"$host\" = nowhere.io ] && exit 1\n"
                          f"printf '{{\"ServerURL\":\"%s\",\"Username\":\"{user}\",\"Secret\":\"s-%s\"}}' \"$host\" \"$host\"\n")
        helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({
        "credsStore": "desktop",
        "credHelpers": {"123.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login", "odd.io": "../evil"},
        "auths": {"nowhere.io": {"auth": base64.b64encode(b"old:pw").decode()}},
    }))
    assert credentials_for("ghcr.io", None) == ("desk", "s-ghcr.io")
    assert credentials_for("123.dkr.ecr.eu-west-1.amazonaws.com", None) == ("AWS", "s-123.dkr.ecr.eu-west-1.amazonaws.com")
    assert credentials_for("nowhere.io", None) == ("old", "pw")  # the helper knows nothing: auths still count
    assert credentials_for("odd.io", None) is None  # a helper name is never a path


# --- token auth -------------------------------------------------------------------------------

class TokenServer:
    """Answers the registry's bearer challenge: alice:secret may pull and push anything; without
    credentials, only repositories under public/ may be pulled."""

    def __init__(self, folder: Path) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tagbot test token issuer")])
        now = datetime.now(timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                     .not_valid_after(now + timedelta(days=1)).sign(self.key, hashes.SHA256()))
        self.cert_path = folder / "token-cert.pem"
        self.cert_path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        self.requests: list[str] = []

    def token(self, user: str | None, scope: str, service: str) -> str:
        _, repository, actions = scope.split(":")
        granted = actions.split(",") if user == "alice" else (["pull"] if repository.startswith("public/") else [])
        now = int(time.time())
        claims = {"iss": "test-issuer", "sub": user or "", "aud": service, "exp": now + 300, "nbf": now - 10, "iat": now,
                  "jti": secrets.token_hex(8), "access": [{"type": "repository", "name": repository, "actions": granted}]}
        x5c = [base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()]
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"x5c": x5c})

    def handler(self, *args: object) -> BaseHTTPRequestHandler:
        tokens = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
                tokens.requests.append(query.get("scope", ""))
                auth = self.headers.get("Authorization", "")
                user = None
                if auth.startswith("Basic "):
                    name, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                    if (name, password) != ("alice", "secret"):
                        self.send_response(401)
                        self.end_headers()
                        return
                    user = name
                body = json.dumps({"token": tokens.token(user, query["scope"], query["service"])}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler(*args)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, TokenServer, str]]:
    folder = tmp_path_factory.mktemp("secured")
    tokens = TokenServer(folder)
    with serve(tokens.handler) as token_url:
        auth = {"token": {"realm": f"{token_url}/token", "service": "test-registry",
                          "issuer": "test-issuer", "rootcertbundle": str(tokens.cert_path)}}
        with running_registry(folder, auth=auth) as url:
            digests = []
            for repository in ("private/app", "public/app"):
                scope = f"repository:{repository}:pull,push"
                pusher = Pusher(url, {"Authorization": f"Bearer {tokens.token('alice', scope, 'test-registry')}"})
                digests.append(pusher.image(repository, ["1.0.0", "1.1.0"], AMD_ARM))
            yield url, tokens, digests[0]


def test_token_auth_with_credentials(secured):
    url, tokens, digest = secured
    source, calls = registry_source(url, credentials=("alice", "secret"))
    image = parse_ref(f"{httpx.URL(url).netloc.decode()}/private/app:1.0.0")
    assert sorted(t.name for t in source.list_tags(image).tags) == ["1.0.0", "1.1.0"]
    assert source.describe(image, "1.1.0").platforms == frozenset(AMD_ARM)
    # challenge, token, retry; then the token is reused for the manifest
    assert calls.network == 4
    assert tokens.requests[-1] == "repository:private/app:pull"


def test_anonymous_token_for_a_public_repository(secured):
    url, _, _ = secured
    source, _ = registry_source(url)
    image = parse_ref(f"{httpx.URL(url).netloc.decode()}/public/app:1.0.0")
    assert len(source.list_tags(image).tags) == 2


def test_a_private_repository_without_credentials_is_refused_clearly(secured):
    url, _, _ = secured
    source, _ = registry_source(url)
    host = httpx.URL(url).netloc.decode()
    with pytest.raises(Unauthorized, match=rf"{host} refused private/app \(401\): docker login"):
        source.list_tags(parse_ref(f"{host}/private/app:1.0.0"))


def test_wrong_credentials_are_refused_clearly(secured):
    url, _, _ = secured
    source, _ = registry_source(url, credentials=("alice", "wrong"))
    with pytest.raises(Unauthorized, match=r"token service refused the credentials \(401\)"):
        source.list_tags(parse_ref(f"{httpx.URL(url).netloc.decode()}/private/app:1.0.0"))


# --- end to end: tagbot update against the registry -------------------------------------------

def run_update(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, dockerfile: str, config: str = "",
               name: str = "Dockerfile") -> dict:
    host = httpx.URL(url).netloc.decode()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OANOR_API_KEY", raising=False)
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(dockerfile.replace("HOST", host))
    (tmp_path / "tagbot.yaml").write_text(f"rate_limit: 200\nregistries: {{'{host}': {{source: registry, insecure: true}}}}\n"
                                          + config)
    from tagbot.cli import main

    out = tmp_path / "out.json"
    with open(out, "w") as stream:
        monkeypatch.setattr("sys.stdout", stream)
        code = main(["update", "--dry-run", "--format", "json", "--no-cache"])
    result = json.loads(out.read_text())
    result["exit"] = code
    return result


def test_update_picks_the_newest_tag_that_keeps_every_platform(oci, tmp_path, monkeypatch):
    url, digests = oci
    result = run_update(tmp_path, monkeypatch, url, f"FROM HOST/acme/app:1.0.0@{digests['1.0.0']}\n")
    (update,) = result["updates"]
    assert (update["to"]["tag"], update["to"]["digest"], update["update_type"]) == ("1.1.0", digests["1.1.0"], "minor")
    assert update["platforms"] == ["linux/amd64", "linux/arm64"]
    assert [h["reason"] for h in result["held_back"]] == ["newer 1.2.0 lacks linux/arm64"]
    # tags/list, then manifests of the current tag and of the two candidates, newest first;
    # never of 1.1 (another shape), 2.0.0-rc1 (a pre-release) or anything older.
    assert result["calls"] == {"api": 4, "cached": 0, "docker_hub": 0}
    assert result["exit"] == 0


@pytest.fixture(scope="module")
def lazy(oci) -> tuple[str, str]:
    """acme/lazy: 1.0.0 and 1.1.0 on amd64 and arm64, 2.0.0 on amd64 and arm64 too."""
    url, _ = oci
    pusher = Pusher(url)
    for tag in ("1.0.0", "1.1.0", "2.0.0"):
        pusher.image("acme/lazy", [tag], AMD_ARM, salt=tag)
    return url, httpx.URL(url).netloc.decode()


def test_a_best_candidate_that_qualifies_costs_one_manifest(lazy, tmp_path, monkeypatch):
    url, _ = lazy
    result = run_update(tmp_path, monkeypatch, url, "FROM HOST/acme/lazy:1.0.0\n")
    assert [u["to"]["tag"] for u in result["updates"]] == ["2.0.0"]
    # The tag list and 2.0.0's manifest: it has amd64 and arm64, so what 1.0.0 had cannot matter,
    # and `update` offers nothing apart from the newest.
    assert result["calls"]["api"] == 2


def test_pull_requests_also_read_the_non_major_they_offer_apart(lazy, tmp_path, monkeypatch):
    from tagbot.run import LookupOptions, open_services, plan

    url, host = lazy
    monkeypatch.delenv("OANOR_API_KEY", raising=False)
    (tmp_path / "Dockerfile").write_text(f"FROM {host}/acme/lazy:1.0.0\n")
    (tmp_path / "tagbot.yaml").write_text(f"registries: {{'{host}': {{source: registry, insecure: true}}}}\n")
    with open_services(LookupOptions(no_cache=True), directory=tmp_path) as services:
        result = plan([tmp_path], services=services, base=tmp_path, for_pull_requests=True)
    assert sorted((u.update.to_tag, u.beside) for u in result.updates) == [("1.1.0", True), ("2.0.0", False)]
    assert services.calls.network == 3  # the list, 2.0.0, and 1.1.0 for the pull request beside the major


def test_an_unpinned_floating_tag_on_a_registry_costs_no_request(lazy, tmp_path, monkeypatch):
    url, _ = lazy
    result = run_update(tmp_path, monkeypatch, url, "FROM HOST/acme/lazy AS a\nFROM HOST/acme/lazy:stable\n")
    assert (result["updates"], result["errors"], result["calls"]["api"], result["exit"]) == ([], [], 0, 0)
    # A versioned tag is looked up as before: the list, and its manifest for the pin.
    pinned = run_update(tmp_path, monkeypatch, url, "FROM HOST/acme/lazy:2.0.0\n", "pin_digests: true\n")
    assert pinned["calls"]["api"] == 2 and pinned["updates"][0]["update_type"] == "pin"


def test_a_declared_platform_list_reads_the_candidate_only(oci, tmp_path, monkeypatch):
    url, _ = oci
    result = run_update(tmp_path, monkeypatch, url, "FROM HOST/acme/app:1.0.0\n", "platforms: [linux/amd64]\n")
    assert [u["to"]["tag"] for u in result["updates"]] == ["1.2.0"]
    assert result["calls"]["api"] == 2


def test_platforms_current_still_reads_the_current_tag(lazy, tmp_path, monkeypatch):
    url, _ = lazy
    result = run_update(tmp_path, monkeypatch, url, "FROM HOST/acme/lazy:1.0.0\n", "platforms: current\n")
    assert [u["to"]["tag"] for u in result["updates"]] == ["2.0.0"]
    assert result["calls"]["api"] == 3  # the list, 2.0.0 and 1.0.0


def test_references_of_one_tag_in_many_files_are_described_once(lazy, tmp_path, monkeypatch):
    url, _ = lazy
    result = run_update(tmp_path, monkeypatch, url, "FROM HOST/acme/lazy:1.0.0 AS a\nFROM HOST/acme/lazy:1.1.0 AS b\n"
                                                    "FROM HOST/acme/lazy:1.0.0 AS c\n")
    assert [u["to"]["tag"] for u in result["updates"]] == ["2.0.0"] * 3
    assert result["calls"]["api"] == 2  # 2.0.0 is the best of both tags


def test_a_second_repository_naming_the_same_tags_reads_nothing_new(lazy, tmp_path, monkeypatch):
    url, host = lazy
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    from tagbot.cli import main

    calls = []
    for name in ("one", "two"):
        repo = tmp_path / name
        repo.mkdir()
        (repo / "Dockerfile").write_text(f"FROM {host}/acme/lazy:1.0.0\n")
        (repo / "tagbot.yaml").write_text(f"registries: {{'{host}': {{source: registry, insecure: true}}}}\n")
        monkeypatch.chdir(repo)
        out = repo / "out.json"
        with open(out, "w") as stream:
            monkeypatch.setattr("sys.stdout", stream)
            assert main(["update", "--dry-run", "--format", "json"]) == 0
        calls.append(json.loads(out.read_text())["calls"])
    assert calls[0]["api"] == 2
    assert calls[1]["api"] == 0 and calls[1]["cached"] >= 1


def test_a_tag_described_before_is_only_asked_whether_it_moved_and_an_alias_shares_its_manifest(oci, tmp_path, monkeypatch):
    from http.server import ThreadingHTTPServer
    import threading

    from tagbot.cli import main
    from tests.helpers import age_answers
    from tests.registry import CountingProxy

    url, _ = oci
    pusher = Pusher(url)
    old = pusher.image("acme/moving", ["1.0.0", "latest"], AMD_ARM, salt="old")
    new = pusher.image("acme/moving", ["1.1.0"], AMD_ARM, salt="new")
    proxy = CountingProxy(url)
    server = ThreadingHTTPServer(("127.0.0.1", 0), proxy.handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"127.0.0.1:{server.server_port}"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Dockerfile").write_text(f"FROM {host}/acme/moving:latest@{old} AS a\nFROM {host}/acme/moving:1.0.0\n")
    (tmp_path / "tagbot.yaml").write_text(f"registries: {{'{host}': {{source: registry, insecure: true}}}}\n")

    def run() -> dict:
        out = tmp_path / "out.json"
        with open(out, "w") as stream:
            monkeypatch.setattr("sys.stdout", stream)
            main(["update", "--dry-run", "--format", "json"])
        return json.loads(out.read_text())

    try:
        first = run()
        assert sorted(u["to"]["tag"] for u in first["updates"]) == ["1.1.0"]  # latest has not moved
        assert dict(proxy.kinds) == {"tag list": 1, "manifest GET": 2}  # latest (pinned), and 1.1.0
        # latest moves onto 1.1.0's manifest; a day later the answers are past cache_ttl.
        index = httpx.get(f"{url}/v2/acme/moving/manifests/1.1.0", headers={"accept": INDEX_TYPES[0]})
        httpx.put(f"{url}/v2/acme/moving/manifests/latest", content=index.content,
                  headers={"content-type": INDEX_TYPES[0]}).raise_for_status()
        age_answers(tmp_path / "cache", 86_400)
        proxy.reset()
        second = run()
    finally:
        server.shutdown()
    moved = next(u for u in second["updates"] if u["to"]["tag"] == "latest")
    assert moved["to"]["digest"] == new and moved["update_type"] == "digest"
    # Each tag is asked whether it moved (HEAD): 1.1.0 did not, and latest moved onto a manifest
    # the store knows by its digest: no manifest is read again.
    assert dict(proxy.kinds) == {"tag list": 1, "manifest HEAD": 2}


def test_pins_take_the_index_digest(oci, tmp_path, monkeypatch):
    url, digests = oci
    result = run_update(tmp_path, monkeypatch, url, "FROM HOST/acme/app:1.1.0\n", "pin_digests: true\n")
    (update,) = result["updates"]
    assert (update["update_type"], update["to"]["tag"], update["to"]["digest"]) == ("pin", "1.1.0", digests["1.1.0"])


def test_devcontainer_features_follow_their_tag_with_no_platform_rule(oci, tmp_path, monkeypatch):
    """A feature is an artifact with no platforms; the platforms a config requires of images
    must not hold it back."""
    url, digests = oci
    devcontainer = '{\n  "image": "HOST/acme/app:1.0.0",\n  "features": {"HOST/acme/features/node:1": {}},\n}\n'
    result = run_update(tmp_path, monkeypatch, url, devcontainer, "platforms: [linux/amd64, linux/arm64]\n",
                        name=".devcontainer/devcontainer.json")
    feature, image = sorted(result["updates"], key=lambda u: u["line"], reverse=True)
    assert (feature["line"], feature["to"]["tag"], feature["update_type"]) == (3, "2", "major")
    assert feature["platforms"] == [] and feature["platforms_dropped"] == []
    # The image beside it still answers to the rule: 1.2.0 is amd64 only.
    assert image["to"]["tag"] == "1.1.0"
    assert [h["reason"] for h in result["held_back"]] == ["newer 1.2.0 lacks linux/arm64"]


def test_single_manifest_images_update_too(oci, tmp_path, monkeypatch):
    url, digests = oci
    result = run_update(tmp_path, monkeypatch, url, "FROM HOST/acme/solo:1.0\n", "pin_digests: true\n")
    (update,) = result["updates"]
    assert (update["to"]["tag"], update["to"]["digest"], update["platforms"]) == ("1.1", digests["solo"], ["linux/amd64"])


def test_a_refused_image_is_reported_and_the_others_go_on(secured, tmp_path, monkeypatch):
    url, _, _ = secured
    result = run_update(tmp_path, monkeypatch, url, "FROM HOST/private/app:1.0.0\nFROM HOST/public/app:1.0.0\n")
    host = httpx.URL(url).netloc.decode()
    assert [u["to"]["tag"] for u in result["updates"]] == ["1.1.0"]
    assert result["errors"] == [{"image": f"{host}/private/app", "kind": "unauthorized", "host": host,
                                 "message": f"{host} refused private/app (401): set credentials: docker login {host}, "
                                            f"or auth_env for {host} in registries:"}]
    assert result["exit"] == 2


def test_credentials_from_auth_env(secured, tmp_path, monkeypatch):
    url, _, digest = secured
    monkeypatch.setenv("PRIVATE_REGISTRY", "alice:secret")
    host = httpx.URL(url).netloc.decode()
    config = f"registries: {{'{host}': {{source: registry, insecure: true, auth_env: PRIVATE_REGISTRY}}}}\n"
    result = run_update(tmp_path, monkeypatch, url, "FROM HOST/private/app:1.0.0\n", "")
    assert result["errors"]  # without the variable named, refused
    (tmp_path / "tagbot.yaml").write_text("rate_limit: 200\n" + config)
    from tagbot.cli import main

    out = tmp_path / "out2.json"
    with open(out, "w") as stream:
        monkeypatch.setattr("sys.stdout", stream)
        assert main(["update", "--dry-run", "--format", "json", "--no-cache"]) == 0
    assert [u["to"]["tag"] for u in json.loads(out.read_text())["updates"]] == ["1.1.0"]


def test_a_rebuilt_tag_moves_a_pinned_digest(oci, tmp_path, monkeypatch):
    url, digests = oci
    result = run_update(tmp_path, monkeypatch, url, f"FROM HOST/acme/app:1.1.0@{digests['1.0.0']}\n")
    (update,) = result["updates"]
    assert (update["update_type"], update["to"]["tag"], update["to"]["digest"]) == ("digest", "1.1.0", digests["1.1.0"])


def test_docker_hub_images_through_a_mirror(tmp_path, monkeypatch):
    with running_registry(tmp_path / "mirror") as url:
        pusher = Pusher(url)
        pusher.image("library/nginx", ["1.27.0"], AMD_ARM, salt="x")
        newest = pusher.image("library/nginx", ["1.27.1"], AMD_ARM, salt="y")
        monkeypatch.chdir(tmp_path)
        (tmp_path / "Dockerfile").write_text("FROM nginx:1.27.0\n")
        (tmp_path / "tagbot.yaml").write_text(f"pin_digests: true\nregistries: {{docker.io: {{source: registry, url: '{url}'}}}}\n")
        from tagbot.cli import main

        out = tmp_path / "out.json"
        with open(out, "w") as stream:
            monkeypatch.setattr("sys.stdout", stream)
            assert main(["update", "--dry-run", "--format", "json", "--no-cache"]) == 0
        (update,) = json.loads(out.read_text())["updates"]
        assert (update["repository"], update["to"]["tag"], update["to"]["digest"]) == ("docker.io/library/nginx", "1.27.1", newest)


def test_a_missing_registry_binary_skips_outside_ci_and_fails_under_it(monkeypatch):
    from tests.registry import registry_binary

    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="docker-registry is not installed"):
        registry_binary()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="under CI=true the registry tests must run"):
        registry_binary()
