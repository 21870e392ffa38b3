"""Mutated real files: whatever bytes a repository holds, a scan ends quickly with references
or a ScanError, never a traceback, and an edit never reaches outside a reference's own text.

The corpus is made from the fixtures by a seeded generator, so a failure is reproducible and the
budget is fixed: MUTANTS files, each with SECONDS to finish."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tagbot.errors import RewriteError, ScanError
from tagbot.model import Update
from tagbot.rewrite import apply_edits, edits_for
from tagbot.scan import read_file
from tagbot.scan.model import NOWHERE, joined
from tests.helpers import FIXTURES
from tests.test_safety import finishes

MUTANTS = 120  # per file kind
SECONDS = 5.0
KINDS = {"dockerfile": "Dockerfile", "compose": "compose.yaml", "workflows": ".github/workflows/ci.yml",
         "bake": "docker-bake.hcl", "buildkite": ".buildkite/pipeline.yml", "quadlet": "web.container",
         "terraform": "main.tf", "nomad": "web.nomad.hcl", "ansible": "site.yml", "annotated": "Makefile"}
KIND_OF = {"dockerfile": "dockerfile", "compose": "compose", "workflows": "workflow", "bake": "bake",
           "buildkite": "buildkite", "quadlet": "quadlet", "terraform": "terraform", "nomad": "nomad",
           "ansible": "ansible", "annotated": "annotated"}
INFRA = FIXTURES / "repos" / "infra"
# Kinds with no fixture folder of their own mutate the files of the repositories they appear in.
SOURCES = {"buildkite": [FIXTURES / "repos" / "ci" / ".buildkite" / "pipeline.yml"],
           "quadlet": sorted((INFRA / "quadlet").iterdir()), "terraform": sorted((INFRA / "terraform").iterdir()),
           "nomad": sorted((INFRA / "nomad").iterdir()),
           "ansible": [INFRA / "ansible" / "site.yml", INFRA / "ansible" / "roles" / "cache" / "tasks" / "main.yml"],
           "annotated": [INFRA / "Makefile", INFRA / "README.md"]}
INSERTS = [b"\\", b"\\\n", b"${", b"${A:-", b"}", b"'", b'"', b"\x00", b"\xff\xfe", b"\xc3", b"[" * 600, b"{" * 600,
           b"&a ", b"*a ", b"<<: *a\n", b"\r", b"\t", "\ufeff".encode(), b"#", b"\n"]


def mutants(kind: str) -> list[tuple[str, bytes]]:
    sources = SOURCES.get(kind) or sorted((FIXTURES / kind).iterdir())
    rng = random.Random(f"tagbot-{kind}")
    out = []
    for number in range(MUTANTS):
        source = rng.choice(sources)
        data = bytearray(source.read_bytes())
        for _ in range(rng.randint(1, 4)):
            action = rng.choice(("flip", "truncate", "insert", "duplicate"))
            at = rng.randrange(len(data) + 1)
            if action == "flip" and data:
                data[min(at, len(data) - 1)] ^= 1 << rng.randrange(8)
            elif action == "truncate":
                del data[at:]
            elif action == "insert":
                data[at:at] = rng.choice(INSERTS)
            else:
                data[at:at] = data[at : at + rng.randint(1, 200)] * rng.randint(2, 50)
        out.append((f"{source.name}#{number}", bytes(data)))
    return out


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_mutated_files_end_in_references_or_a_scan_error(kind: str, tmp_path: Path):
    path = tmp_path / KINDS[kind]
    path.parent.mkdir(parents=True, exist_ok=True)
    for label, data in mutants(kind):
        path.write_bytes(data)
        try:
            scanned = finishes(SECONDS, lambda: read_file(path, name=KINDS[kind], kind=KIND_OF[kind]))
        except ScanError:
            continue
        except AssertionError as e:
            raise AssertionError(f"{label}: {e}") from None
        if not scanned.references:
            continue  # a file that is no text may be passed over whole (a Quadlet name, a file of no kind)
        text = data.decode("utf-8")
        for reference in scanned.references:
            found = reference.found
            assert all(p.start == NOWHERE or text[p.start : p.end] == p.text for p in found.pieces), label
            if found.image is None or found.image.tag_span is None:
                continue
            assert joined(found.pieces) == found.text, label
            update = Update(found.image.tag, None, "9.9.9", None, "major", frozenset(), None,
                            datetime(2026, 1, 1, tzinfo=timezone.utc))
            try:
                edits = edits_for(reference, update)
                written = apply_edits(text, edits)
            except RewriteError:
                continue  # refused whole, as it should be when the value is built of several pieces
            (edit,) = edits
            after = edit.start + len(edit.replacement)
            assert (written[: edit.start], written[after:]) == (text[: edit.start], text[edit.end :]), label
