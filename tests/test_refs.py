from __future__ import annotations

import pytest

from tagbot.errors import InvalidReference
from tagbot.refs import parse_ref

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("nginx", "docker.io", "library/nginx", None, None),
        ("nginx:1.27", "docker.io", "library/nginx", "1.27", None),
        ("library/nginx:1.27", "docker.io", "library/nginx", "1.27", None),
        ("docker.io/library/nginx:1.27", "docker.io", "library/nginx", "1.27", None),
        ("docker.io/nginx", "docker.io", "library/nginx", None, None),
        ("index.docker.io/library/nginx", "docker.io", "library/nginx", None, None),
        ("registry-1.docker.io/bitnami/redis:7.4", "docker.io", "bitnami/redis", "7.4", None),
        ("bitnami/postgresql:17.2.0-debian-12-r3", "docker.io", "bitnami/postgresql", "17.2.0-debian-12-r3", None),
        ("ghcr.io/org/team/app:v1.2.3", "ghcr.io", "org/team/app", "v1.2.3", None),
        ("GHCR.IO/org/app", "ghcr.io", "org/app", None, None),
        ("localhost/app:dev", "localhost", "app", "dev", None),
        ("localhost:5000/app:dev", "localhost:5000", "app", "dev", None),
        ("registry.example.com:5000/team/api", "registry.example.com:5000", "team/api", None, None),
        ("127.0.0.1:5000/a/b:1", "127.0.0.1:5000", "a/b", "1", None),
        ("[::1]:5000/a:1", "[::1]:5000", "a", "1", None),
        (f"nginx@{DIGEST}", "docker.io", "library/nginx", None, DIGEST),
        (f"nginx:1.27.3-alpine@{DIGEST}", "docker.io", "library/nginx", "1.27.3-alpine", DIGEST),
        (f"quay.io/prometheus/node-exporter:v1.8.2@{DIGEST}", "quay.io", "prometheus/node-exporter", "v1.8.2", DIGEST),
        ("my_org/my__app-x.y:1", "docker.io", "my_org/my__app-x.y", "1", None),
        ("a" * 200 + ":" + "t" * 128, "docker.io", "library/" + "a" * 200, "t" * 128, None),
        # The first component is a registry only with a '.' or ':' or as localhost.
        ("myregistry/app", "docker.io", "myregistry/app", None, None),
    ],
)
def test_parses_and_normalises(text, registry, repository, tag, digest):
    ref = parse_ref(text)
    assert (ref.text, ref.registry, ref.repository, ref.tag, ref.digest) == (text, registry, repository, tag, digest)


@pytest.mark.parametrize("text", ["nginx", "library/nginx", "docker.io/library/nginx", "index.docker.io/nginx"])
def test_spellings_of_one_hub_image_share_a_name(text):
    assert parse_ref(text).name == "docker.io/library/nginx"
    assert parse_ref(text).short_name == "nginx"


def test_short_name_keeps_other_registries_and_namespaces():
    assert parse_ref("bitnami/redis").short_name == "bitnami/redis"
    assert parse_ref("ghcr.io/org/app:1").short_name == "ghcr.io/org/app"


@pytest.mark.parametrize(
    ("text", "tag_span", "digest_span"),
    [
        ("nginx:1.27", (6, 10), None),
        (f"nginx:1.27@{DIGEST}", (6, 10), (11, 11 + len(DIGEST))),
        (f"nginx@{DIGEST}", None, (6, 6 + len(DIGEST))),
        ("localhost:5000/app:dev", (19, 22), None),
        ("localhost:5000/app", None, None),
    ],
)
def test_spans_cut_tag_and_digest_out_of_the_text(text, tag_span, digest_span):
    ref = parse_ref(text)
    assert (ref.tag_span, ref.digest_span) == (tag_span, digest_span)
    if tag_span:
        assert text[slice(*tag_span)] == ref.tag
    if digest_span:
        assert text[slice(*digest_span)] == ref.digest


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("nginx :1", "white space"),
        ("Nginx:1", "must be lowercase"),
        ("library/NGINX", "must be lowercase"),
        ("nginx:-1", "bad tag '-1'"),
        ("nginx:" + "t" * 129, "bad tag"),
        ("nginx:1.27@sha256:abc", "bad digest"),
        ("nginx@sha256:" + "AB" * 32, "64 lowercase hex"),
        ("nginx@sha256:" + "ab" * 31, "64 lowercase hex"),
        ("nginx@md5", "bad digest"),
        ("ghcr.io/", "missing repository"),
        ("a//b", "bad name component ''"),
        ("a/-b", "bad name component '-b'"),
        ("bad_host.io:x/app", "bad registry"),
        ("a" * 256, "longer than 255"),
        # The limit is on the normalised path (distribution's vectors): library/ counts, the domain does not.
        ("a" * 248, "longer than 255"),
        ("example.com/" + "a" * 256, "longer than 255"),
        ("[2001:db8:3:4::192.0.2.33]:5000/debian", "bad registry"),  # no dotted IPv4 tail in IPv6
        ("1a3f" * 16, "an image ID, not a name"),  # FROM <64 hex digits> names an image ID
        ("${BASE}", "bad name component"),
    ],
)
def test_invalid_references_say_what_is_wrong(text, problem):
    with pytest.raises(InvalidReference, match=problem.replace("(", r"\(")) as raised:
        parse_ref(text)
    assert raised.value.text == text
    assert str(raised.value).startswith(f"invalid image reference {text!r}:")


def test_the_name_limit_counts_the_normalised_path():
    assert parse_ref("a" * 247).repository == "library/" + "a" * 247
    assert parse_ref("example.com/" + "a" * 255).repository == "a" * 255
    assert parse_ref("acme/" + "a" * 250).repository == "acme/" + "a" * 250
