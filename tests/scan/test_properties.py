"""Scanning never crashes, and every piece it reports is the file's own text at that place."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tagbot.errors import ScanError
from tagbot.scan import compose, dockerfile
from tagbot.scan.model import Found, joined

# Image-like text: valid references, variables, and near misses.
IMAGES = st.builds(
    "".join,
    st.tuples(
        st.sampled_from(["", "ghcr.io/", "localhost:5000/", "docker.io/", "Bad/", "${REG}/"]),
        st.sampled_from(["node", "library/redis", "o/app", "a__b", "${IMG}", "x-", ""]),
        st.sampled_from(["", ":20", ":${V}", ":${V:-1.2}-alpine", ":$V", ":1.2.3-rc.1", ":-bad", ":${W-9}"]),
        st.sampled_from(["", "@sha256:" + "ab" * 32, "@sha256:ab", "@"]),
    ),
)
JUNK = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)


def dockerfile_line(image: str, kind: int, junk: str) -> str:
    return [
        f"FROM {image}",
        f"from --platform=linux/arm64 {image} AS s{len(junk)}",
        f"ARG V={image.rpartition(':')[2] or '1'} IMG=node",
        "ARG V",
        f"COPY --link --from={image} / /",
        f"RUN --mount=type=cache,target=/x --mount=type=bind,from={image},target=/y true",
        f"RUN <<EOF\nFROM {image}\nEOF",
        f"# syntax={image}",
        "# escape=`",
        f"FROM {image} \\\n  # c\n\n  AS b",
        f"FROM {image} `\n AS c",
        junk,
    ][kind]


DOCKERFILES = st.builds(
    lambda lines, eol, bom: bom + eol.join(lines).replace("\n", eol),
    st.lists(st.builds(dockerfile_line, IMAGES, st.integers(0, 11), JUNK), max_size=12),
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from(["", "\ufeff"]),
)


def compose_service(index: int, image: str, style: int, extra: int, junk: str) -> str:
    value = [image, f"'{image}'", f'"{image}"', f"&a{index} {image}", f"!!str {image}"][style]
    body = [f"    image: {value}", f"    image: {value}\n    build: .", f"    <<: *base\n    image: {value}",
            f"    image: {value}  # {junk}", f"    platform: linux/arm64\n    image: {value}"][extra]
    return f"  s{index}:\n{body}"


COMPOSE_FILES = st.builds(
    lambda base, services, eol, junk: (f"x-base: &base\n  image: {base}\n" + "services:\n"
                                       + "\n".join(services) + "\n" + junk).replace("\n", eol),
    IMAGES,
    st.lists(
        st.builds(compose_service, st.integers(0, 99), IMAGES, st.integers(0, 4), st.integers(0, 4), JUNK),
        max_size=8,
    ),
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from(["", "junk: [", "x-flow: {image: 'a:1'}", "\t"]),
)


def assert_exact(text: str, found: list[Found]) -> None:
    for item in found:
        assert joined(item.pieces) == item.text
        assert item.pieces, item
        for piece in item.pieces:
            assert text[piece.start : piece.end] == piece.text
        assert 0 <= item.anchor <= len(text)
        assert (item.image is None) == (item.skip_reason is not None)
        if item.image is not None:
            assert item.image.text == item.text


@settings(max_examples=400)
@given(st.one_of(DOCKERFILES, st.text()))
def test_dockerfile_spans_are_file_text(text: str) -> None:
    assert_exact(text, dockerfile.extract(text))


@settings(max_examples=400)
@given(st.one_of(COMPOSE_FILES, st.text()))
def test_compose_spans_are_file_text(text: str) -> None:
    try:
        found = compose.extract(text)
    except ScanError:
        return  # invalid YAML is reported, never a crash
    assert_exact(text, found)
