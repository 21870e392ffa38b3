"""Everything tagbot prints on stdout: tables for people, JSON for tools."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from tagbot.scan import ScanResult
from tagbot.scan.model import Reference

SHORT_DIGEST = 12  # hex digits shown in tables, as `docker images` does


def print_scan(result: ScanResult, fmt: str, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    if fmt == "json":
        json.dump(scan_json(result), out, indent=2)
        out.write("\n")
    else:
        out.write(scan_table(result.references))


def scan_json(result: ScanResult) -> dict[str, Any]:
    """The `tagbot scan --format json` contract."""
    return {
        "references": [_reference_json(r) for r in result.references],
        "errors": [{"file": e.file, "line": e.line, "message": e.problem} for e in result.errors],
    }


def _reference_json(reference: Reference) -> dict[str, Any]:
    found, image = reference.found, reference.found.image
    return {
        "file": reference.file,
        "line": reference.line,
        "column": reference.column,
        "kind": reference.kind,
        "text": found.text,
        "registry": image.registry if image else None,
        "repository": image.repository if image else None,
        "tag": image.tag if image else None,
        "digest": image.digest if image else None,
        "platform": found.platform,
        "skipped": found.skip_reason is not None,
        "skip_reason": found.skip_reason,
        "detail": found.detail,
    }


def scan_table(references: Sequence[Reference]) -> str:
    rows = [("FILE", "IMAGE", "TAG", "DIGEST", "NOTE")]
    for reference in references:
        found, image = reference.found, reference.found.image
        where = f"{reference.file}:{reference.line}"
        if image is None:
            rows.append((where, found.text, "", "", f"skipped ({found.skip_reason}): {found.detail}"))
            continue
        note = f"platform {found.platform}" if found.platform else ""
        rows.append((where, image.short_name, image.tag or "", _short(image.digest), note))
    return _aligned(rows)


def _short(digest: str | None) -> str:
    if digest is None:
        return ""
    algorithm, _, hex_part = digest.partition(":")
    return f"{algorithm}:{hex_part[:SHORT_DIGEST]}"


def _aligned(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines) + "\n"
