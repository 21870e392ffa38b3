"""Images in any file: annotations (`# tagbot: image`) on the line before, and the config's
`patterns:`, each edited only in the characters it points at, never twice where a kind's own
reader finds the same reference, and bounded: a file of no kind is read only when it holds an
annotation, and a repository's expression runs with a time limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagbot.config import parse_config
from tagbot.errors import ConfigError, ScanError
from tagbot.scan import annotated, patterns, read_file, scan_paths
from tagbot.scan.patterns import compiled, found_by
from tests.helpers import found_rows

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize("comment", ["# tagbot: image", "// tagbot: image", "<!-- tagbot: image -->", "-- tagbot: image",
                                     "; tagbot: image", "  #tagbot:image", "/* tagbot: image */"])
def test_every_comment_style_points_at_the_next_lines_reference(comment: str):
    text = f"{comment}\nENV BASE=node:20.10.0\n"
    assert found_rows(annotated.extract(text), text) == [("node:20.10.0", None)]


def test_annotations_find_references_tags_and_variables_in_the_line_after():
    text = (f"# tagbot: image\nIMAGE ?= postgres:16.4\n"
            "# tagbot: image=postgres\nPG_VERSION=16.4\n"
            "<!-- tagbot: image -->\n    docker run --rm -p 8080:80 nginx:1.27.0.\n"
            f"# tagbot: image=redis\nredis: \"7.2.5@{DIGEST}\"  # pinned\n"
            "# tagbot: image\nIMG := $(REGISTRY)/app:1.0\n"
            "# tagbot: image\nuses: docker://alpine:3.20\n"
            "# tagbot: image\nnothing to see here\n"
            "# tagbot: image")
    assert found_rows(annotated.extract(text), text) == [
        ("postgres:16.4", None), ("postgres:16.4", None),
        ("nginx:1.27.0", None),  # not the port mapping 8080:80, nor the sentence's full stop
        (f"redis:7.2.5@{DIGEST}", None),
        ("$(REGISTRY)/app:1.0", "variable"), ("alpine:3.20", None),
        ("# tagbot: image", "invalid"), ("# tagbot: image", "invalid"),  # a typo is seen, not passed over
    ]


def test_an_annotation_mentioned_in_prose_points_at_nothing():
    text = "Write `# tagbot: image` above a line to update it.\nFROM x\n"
    assert annotated.extract(text) == []


def test_an_annotated_line_a_kind_reads_itself_is_one_reference(tmp_path: Path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("# tagbot: image\nFROM node:20.10.0\n# tagbot: image\nENV BASE=python:3.12.1\n")
    scanned = scan_paths([tmp_path], base=tmp_path)
    assert [(r.kind, r.line, r.found.text) for r in scanned.references] == [
        ("dockerfile", 2, "node:20.10.0"), ("annotated", 4, "python:3.12.1")]


def test_files_of_no_kind_are_read_only_for_annotations_and_not_counted_otherwise(tmp_path: Path):
    (tmp_path / "Makefile").write_text("# tagbot: image\nIMAGE ?= postgres:16.4\n")
    (tmp_path / "main.py").write_text("print('node:20')\n")  # no annotation: not read
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\xff# tagbot: image\nnode:20.1\n")  # no text: not ours
    (tmp_path / "big.txt").write_text("# tagbot: image\nnode:20.1\n" + "x" * (2 << 20))
    (tmp_path / "compose.yaml").write_text("services: {a: {image: redis:7.2.5}}\n")
    scanned = scan_paths([tmp_path], base=tmp_path)
    assert [(r.file, r.kind, r.found.text) for r in scanned.references] == [
        ("Makefile", "annotated", "postgres:16.4"), ("compose.yaml", "compose", "redis:7.2.5")]
    assert (scanned.files, scanned.errors) == (2, ())
    only_compose = scan_paths([tmp_path], base=tmp_path, kinds={"compose"})
    assert [r.file for r in only_compose.references] == ["compose.yaml"]  # `kinds:` without annotated: none read


def makefile_pattern(**overrides: object) -> patterns.Pattern:
    entry = {"files": ["Makefile", "**/*.sh"], "match": r"(?P<image>[\w./-]+):(?P<tag>[\w.-]+)\s+# image", "image": None}
    entry.update(overrides)
    return compiled("patterns[0]", entry["files"], entry["match"], entry["image"])  # type: ignore[arg-type]


def test_a_pattern_edits_its_groups_and_a_written_whole_reference_can_take_a_digest():
    text = "BASE := node:20.10.0  # image\nX := 1\nDB=postgres:16.4 # image\n"
    found = found_by(makefile_pattern(), text, "Makefile")
    assert found_rows(found, text) == [("node:20.10.0", None), ("postgres:16.4", None)]
    assert [f.composed for f in found] == [False, False]  # one run of text: a pin can follow it


def test_a_pattern_with_its_image_in_the_entry_finds_tags_and_digests():
    pattern = makefile_pattern(match=r"PG_VERSION=(?P<tag>[\w.]+)(?:@(?P<digest>sha256:\w+))?", image="postgres")
    text = f"PG_VERSION=16.4\nexport PG_VERSION=17.0@{DIGEST}\nPG_VERSION=${{V}}\n"
    assert found_rows(found_by(pattern, text, "x.sh"), text) == [
        ("postgres:16.4", None), (f"postgres:17.0@{DIGEST}", None)]
    variable = makefile_pattern(match=r"PG_VERSION=(?P<tag>\S+)", image="postgres")
    assert found_rows(found_by(variable, "PG_VERSION=${V}\n", "x.sh"), "PG_VERSION=${V}\n") == [("${V}", "variable")]


def test_patterns_find_images_in_files_of_their_globs_even_those_a_kind_reads(tmp_path: Path):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "run.sh").write_text("docker run redis:7.2.5 # image\n")
    (tmp_path / "Makefile").write_text("IMG = node:20.10.0 # image\n")
    (tmp_path / "other.sh").write_text("docker run redis:7.2.5 # image\n")  # not under the globs
    scanned = scan_paths([tmp_path], base=tmp_path, kinds={"compose"},
                         patterns=[makefile_pattern(files=["Makefile", "scripts/*.sh"])])
    assert [(r.file, r.kind, r.line, r.column, r.found.text) for r in scanned.references] == [
        ("Makefile", "pattern", 1, 7, "node:20.10.0"), ("scripts/run.sh", "pattern", 1, 12, "redis:7.2.5")]


def test_a_slow_expression_is_an_error_naming_the_file_and_pattern_not_a_stuck_run(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(patterns, "TIME_LIMIT", 0.2)  # the limit's mechanism is under test, not its 2 s
    slow = makefile_pattern(match=r"(?P<tag>\w+)\s*=.*\1\1x", image="postgres")
    with pytest.raises(ScanError) as raised:
        found_by(slow, "abc = " * 4000, "Makefile")
    assert str(raised.value) == "Makefile: patterns[0].match took more than 0.2 s on this file; nothing it found here is used"
    everything = makefile_pattern(match=r"(?P<tag>)", image="postgres")
    with pytest.raises(ScanError, match="matches more than 10,000 times"):
        found_by(everything, "x" * 20_000, "Makefile")


def test_a_slow_pattern_fails_its_file_and_the_others_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(patterns, "TIME_LIMIT", 0.2)
    (tmp_path / "slow.txt").write_text("abc = " * 4000)
    (tmp_path / "fine.txt").write_text("abc = 1\n")
    scanned = scan_paths([tmp_path], base=tmp_path, patterns=[
        makefile_pattern(files=["*.txt"], match=r"(?P<tag>\w+)\s*=.*\1\1x|abc = (?P<t2>1)", image="postgres")])
    assert [str(e) for e in scanned.errors] == [
        "slow.txt: patterns[0].match took more than 0.2 s on this file; nothing it found here is used"]


@pytest.mark.parametrize(("entry", "message"), [
    ("- {files: [Makefile], match: '(?P<image>x):(?P<tag>y'}",
     "tagbot.yaml:2: patterns[0].match: not a regular expression: missing ) at position 22"),
    ("- {files: [Makefile], match: '(?P<image>x)'}",
     "tagbot.yaml:2: patterns[0].match: needs a (?P<tag>...) group (or (?P<digest>...)) saying what to update"),
    ("- {files: [Makefile], match: '(?P<tag>x)'}",
     "tagbot.yaml:2: patterns[0].match: needs an (?P<image>...) group, or image: in the entry, one of the two"),
    ("- files: [Makefile]\n  match: '(?P<tag>x)'\n  image: nginx:1.27",
     "tagbot.yaml:4: patterns[0].image: nginx:1.27 names a tag or digest; give the repository alone"),
    ("- {match: '(?P<tag>x)', image: nginx}", "tagbot.yaml:2: patterns[0]: needs files:"),
    ("- {files: [a], match: '(?P<tag>x)', image: nginx, datasource: docker}",
     "tagbot.yaml:2: patterns[0].datasource: unknown key (known: files, match, image)"),
    ("  files: [a]", "tagbot.yaml:2: patterns: expected a list of {files:, match:} entries"),
    ("- {files: [a], match: 12, image: nginx}", "tagbot.yaml:2: patterns[0].match: expected a regular expression"),
])
def test_a_bad_pattern_is_one_line_naming_its_place(entry: str, message: str):
    with pytest.raises(ConfigError) as raised:
        parse_config(f"patterns:\n{entry}\n", name="tagbot.yaml")
    assert str(raised.value) == message


def test_a_good_pattern_is_read_into_the_run_settings():
    config = parse_config("patterns:\n- files: ['**/*.sh']\n  match: 'PG=(?P<tag>\\S+)'\n  image: postgres\n",
                          name="tagbot.yaml")
    (pattern,) = config.run.patterns
    assert (pattern.where, pattern.image, pattern.files.match("a/b.sh"), pattern.files.match("b.py")) == (
        "patterns[0]", "postgres", True, False)


def test_an_annotated_file_that_is_no_text_is_passed_over_quietly(tmp_path: Path):
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"# tagbot: image\nnode:20.1\n\xff\xfe")
    assert read_file(binary, name="blob.bin", kind="annotated").references == []
