"""Everything tagbot prints on stdout: tables for people, JSON for tools.

No line of it starts a GitHub Actions workflow command, whatever the files are called: the
runner obeys a line that starts (after white space) with `::`, and `##[command]` anywhere in a
line, and in a pull request's CI the files are named by its author. Paths are shown with their
control characters escaped (`visible`) and `./` before one that starts like a command; every
table and text goes through `workflow_safe`, JSON escapes `#` where it would start a command,
and under Actions the CLI frames the whole run with `CommandFrame`. A diff's own lines are the
files' lines as they are (a diff must still apply): only the frame guards them.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

from tagbot.errors import V1_COMMAND, V1_COMMAND_SHOWN, ScanError, printable, visible
from tagbot.model import Action, Failure, Monthly, OutputFormat, Plan, PlannedUpdate
from tagbot.platforms import short_platform
from tagbot.refs import ImageRef, short_digest, short_version
from tagbot.run import Explanation
from tagbot.scan import ScanResult
from tagbot.scan.model import Reference
from tagbot.sources.http import Calls
from tagbot.sources.hub import HUB
from tagbot.versioning import parse_tag


def workflow_safe(text: str) -> str:
    """`text` with no line a workflow runner would obey: `##[` and a leading `::` are shown
    escaped (`\\x23#[`, `\\x3a:`)."""
    return "\n".join(_safe_line(line) for line in text.replace(V1_COMMAND, V1_COMMAND_SHOWN).split("\n"))


def _safe_line(line: str) -> str:
    stripped = line.lstrip()
    if not stripped.startswith("::"):
        return line
    return line[: len(line) - len(stripped)] + "\\x3a" + stripped[1:]


def shown_path(path: str) -> str:
    """A file name as a line may start with it: control characters escaped, and `./` before a
    name that starts with white space or `::` (the same file, and plainly a path)."""
    shown = visible(path)
    return f"./{shown}" if shown[:1].isspace() or shown.startswith("::") else shown


# Raised when a field changes meaning or goes; a field added keeps it (readers ignore what they do not know).
JSON_SCHEMA_VERSION = 1


def error_line(label: str, message: str, place: str | None = None) -> str:
    """`file:line: error: message` for an error about a place (`place` is the `file:line` the
    message starts with), as compilers and linters print it, for editors' problem matchers and
    pre-commit users; `tagbot: error: message` for one about none. The place is the error's to
    say, never guessed from the text: `localhost:5000: cannot connect` names no file."""
    if place is None or not message.startswith(f"{place}: "):
        return f"tagbot: {label}: {printable(message, limit=1000)}"
    file, _, line = place.rpartition(":")
    return f"{shown_path(file)}:{line}: {label}: {printable(message[len(place) + 2:], limit=1000)}"


def _write(out: TextIO, text: str) -> None:
    out.write(workflow_safe(text))


def _write_json(out: TextIO, data: Any) -> None:
    # `\u0023` is `#` to every JSON reader; to the runner it is no `##[` command.
    out.write(json.dumps(data, indent=2).replace(V1_COMMAND, "\\u0023#[") + "\n")


class CommandFrame:
    """GitHub's guard for untrusted output: `::stop-commands::<token>` makes the runner obey
    nothing until `::<token>::`, and the token is new each run, so no file can end the frame.
    `resumed()` lets tagbot's own commands (its annotations) through."""

    def __init__(self, enabled: bool, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.enabled = enabled
        self._out, self._err = out, err
        self._token = secrets.token_hex(16)

    def __enter__(self) -> CommandFrame:
        self._say(f"::stop-commands::{self._token}")
        return self

    def __exit__(self, *exc: object) -> None:
        self._say(f"::{self._token}::")

    @contextmanager
    def resumed(self) -> Iterator[None]:
        self._say(f"::{self._token}::")
        try:
            yield
        finally:
            self._say(f"::stop-commands::{self._token}")

    def _say(self, line: str) -> None:
        if not self.enabled:
            return
        out, err = self._out or sys.stdout, self._err or sys.stderr
        err.flush()  # so what stderr already holds reaches the runner on the right side of the line
        out.write(line + "\n")
        out.flush()


def print_scan(result: ScanResult, fmt: OutputFormat, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    if fmt == "json":
        _write_json(out, scan_json(result))
    else:
        _write(out, scan_table(result.references))


def scan_json(result: ScanResult) -> dict[str, Any]:
    """The `tagbot scan --format json` contract, described by tagbot/schemas/scan-output.schema.json."""
    return {
        "schema": JSON_SCHEMA_VERSION,
        "references": [_reference_json(r) for r in result.references],
        "errors": [{"kind": "scan", "file": e.file, "line": e.line, "message": e.problem} for e in result.errors],
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
    rows = [("FILE", "KIND", "IMAGE", "TAG", "DIGEST", "NOTE")]
    for reference in references:
        found, image = reference.found, reference.found.image
        where = f"{shown_path(reference.file)}:{reference.line}"
        if image is None:
            rows.append((where, reference.kind, found.text, "", "", f"skipped ({found.skip_reason}): {found.detail}"))
            continue
        note = (f"platform {found.platform}" if found.platform else "feature (no platforms)" if found.artifact
                else "in a block of YAML" if found.in_block else "")
        rows.append((where, reference.kind, image.short_name, image.tag or "", short_digest(image.digest), note))
    return _aligned(rows)


def _aligned(rows: Sequence[tuple[str, ...]]) -> str:
    rows = [tuple(visible(cell) for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines) + "\n"


# --- update and check ---------------------------------------------------------------------

def plan_json(plan: Plan, calls: Calls) -> dict[str, Any]:
    """The `tagbot update --format json` contract, described by tagbot/schemas/update-output.schema.json."""
    return {
        "schema": JSON_SCHEMA_VERSION,
        "updates": [_update_json(p) for p in plan.updates],
        "held_back": [
            {"file": h.reference.file, "line": h.reference.line, "image": h.reference.found.text, "reason": h.reason}
            for h in plan.held_back
        ],
        "errors": [*map(_scan_error_json, plan.scan_errors), *map(_failure_json, (*plan.errors, *plan.rewrite_errors))],
        "calls": {"api": calls.network, "cached": calls.cached, "docker_hub": calls.by_source.get(HUB, 0)},
        **({"monthly": _monthly_json(plan.monthly)} if plan.monthly else {}),
        "stale": [{"image": name, "known_at": at.isoformat(), "why": "monthly budget"} for name, at in plan.stale],
        "life": [{"file": w.reference.file, "line": w.reference.line, "column": w.reference.column,
                  "image": w.reference.found.text, "kind": w.kind,
                  "message": w.message, "successor": w.successor} for w in plan.life],
    }


def _monthly_json(monthly: Monthly) -> dict[str, Any]:
    return {"month": monthly.month, "limit": monthly.limit, "used": monthly.used, "this_run": monthly.this_run,
            "projected": monthly.projected}


def knowledge_lines(plan: Plan) -> list[str]:
    """What the monthly budget did: which images were decided from older knowledge, and the
    month's calls (`calls this month: 1,204 of 3,700; ...`)."""
    lines = []
    if plan.stale:
        days = sorted({at.date().isoformat() for _, at in plan.stale})
        when = days[0] if len(days) == 1 else f"{days[0]} to {days[-1]}"
        count = len(plan.stale)
        lines.append(f"{count} image{'s' if count != 1 else ''} decided from knowledge of {when} (monthly budget)")
    if plan.monthly is not None:
        m = plan.monthly
        lines.append(f"calls this month: {m.used:,} of {m.limit:,}; at {m.this_run:,} a run, about "
                     f"{m.projected:,} by the month's end")
    return lines


def _failure_json(failure: Failure) -> dict[str, Any]:
    # "image" names the subject for lookups and files alike: the key tools already read.
    return {"image": failure.subject, "kind": failure.kind, "message": failure.message, "host": failure.host}


def _scan_error_json(error: ScanError) -> dict[str, Any]:
    return {"image": None, "kind": "scan", "message": str(error), "host": None, "file": error.file, "line": error.line}


def _update_json(planned: PlannedUpdate) -> dict[str, Any]:
    reference, update = planned.reference, planned.update
    image = reference.found.image
    return {
        "file": reference.file,
        "line": reference.line,
        "column": reference.column,
        "image": reference.found.text,
        "repository": image.name if image else None,
        "from": {"tag": update.from_tag, "digest": update.from_digest},
        "to": {"tag": update.to_tag, "digest": update.to_digest, **({"image": update.to_image} if update.to_image else {})},
        "update_type": update.update_type,
        "platforms": _platforms(update.platforms),
        "platforms_dropped": _platforms(update.platforms_dropped),
        "size": update.size,
        "last_updated": update.last_updated.isoformat() if update.last_updated else None,
        "reason": planned.reason,
    }


def _platforms(platforms: frozenset[str]) -> list[str]:
    return sorted(map(short_platform, platforms))


def print_plan(plan: Plan, calls: Calls, fmt: OutputFormat, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    if fmt == "json":
        _write_json(out, plan_json(plan, calls))
    elif fmt == "diff":
        out.write("".join(change.diff() for change in plan.changes))
    else:
        _write(out, plan_table(plan))


def plan_table(plan: Plan) -> str:
    """Updates and held-back notes: the results. What the run cost, and errors, go to stderr
    (`calls_summary`, `print_errors`), said once."""
    parts = []
    if plan.updates:
        rows = [("FILE", "IMAGE", "FROM", "TO", "TYPE", "NOTE")]
        for planned in plan.updates:
            reference, update = planned.reference, planned.update
            note = f"drops {', '.join(_platforms(update.platforms_dropped))}" if update.platforms_dropped else ""
            rows.append((f"{shown_path(reference.file)}:{reference.line}", _image_name(reference),
                         short_version(update.from_tag, update.from_digest),
                         update.to_text, update.update_type, note))
        parts.append(_aligned(rows))
    elif plan.errors:  # "up to date" would claim what was not checked
        count = len(plan.errors)
        parts.append(f"no updates among the images looked up; {count} image{'s' if count != 1 else ''} could not be looked up\n")
    else:
        parts.append("everything is up to date\n")
    for held in plan.held_back:
        parts.append(f"{place(held.reference)}: {visible(_image_name(held.reference))}: held back: {visible(held.reason)}\n")
    parts.append(life_lines(plan))
    return "".join(parts)


def life_lines(plan: Plan) -> str:
    """`file:line:column: end of life: postgres:12.20 (PostgreSQL 12 ended 2024-11-21) -> 18.6 (...)`."""
    return "".join(f"{place(w.reference)}: {LIFE_LABELS[w.kind]}: {visible(w.message)}\n" for w in plan.life)


LIFE_LABELS = {"ended": "end of life", "ending": "end of life", "abandoned": "abandoned", "moved": "moved",
               "deprecated": "deprecated"}


def place(reference: Reference) -> str:
    """`file:line:column`, the form compilers print and editors' problem matchers read."""
    return f"{shown_path(reference.file)}:{reference.line}:{reference.column}"


def print_check(plan: Plan, out: TextIO | None = None, *, life: bool = False) -> None:
    out = out or sys.stdout
    _write(out, check_lines(plan))
    if life:
        _write(out, life_lines(plan))
    for violation in plan.violations:
        _write(out, f"{place(violation.reference)}: {visible(_image_name(violation.reference))}: "
                    f"{visible(violation.problem)}\n")


def check_lines(plan: Plan) -> str:
    """One line per available update: `file:line:column: image: from -> to`, for CI logs and pre-commit."""
    return "".join(
        f"{place(p.reference)}: {visible(_image_name(p.reference))}: "
        f"{short_version(p.update.from_tag, p.update.from_digest)} -> {p.update.to_text}\n"
        for p in plan.updates
    )


def print_errors(*groups: Sequence[ScanError | Failure], label: str = "error") -> None:
    """Every error, one line each, on stderr: the one place people read them. A host's failure
    that many images share (down, quota spent, the deadline) is one line naming them."""
    for group in groups:
        shared: dict[tuple[str, str], list[str]] = {}
        for error in group:
            # An image the monthly budget left for a later run is a warning, whatever the command.
            said = "warning" if isinstance(error, Failure) and error.kind == "deferred" else label
            if isinstance(error, Failure) and error.shared:
                shared.setdefault((said, error.message), []).append(error.subject)
                continue
            text = str(error) if isinstance(error, ScanError) else error.text
            print(error_line(said, text, error.place), file=sys.stderr)
        for (said, message), subjects in shared.items():
            named = ", ".join(subjects[:3]) + (f" and {len(subjects) - 3} more" if len(subjects) > 3 else "")
            print(f"tagbot: {said}: {printable(message, limit=600)} ({len(subjects)} image{'s' if len(subjects) != 1 else ''}: "
                  f"{printable(named, limit=400)})", file=sys.stderr)


def print_warnings(*groups: Sequence[ScanError | Failure]) -> None:
    """As `print_errors`, for failures a run goes on past."""
    print_errors(*groups, label="warning")


def calls_summary(calls: Calls) -> str:
    hub = calls.by_source.get(HUB, 0)
    summary = f"{calls.network} API call{'s' if calls.network != 1 else ''}, {calls.cached} from cache"
    summary += f", {hub} of them Docker Hub request{'s' if hub != 1 else ''}" if hub else ""
    slowest = max(calls.waited.items(), key=lambda item: item[1], default=("", 0.0))
    if slowest[1] >= SLOW:  # whose pace the run waited on, so the right rate_limit gets raised
        summary += f"; waited {slowest[1]:.1f} s on {_source_name(slowest[0])}'s pace"
    return summary


SLOW = 2.0  # seconds of waiting on one source's pace worth a mention


def _source_name(label: str) -> str:
    return {"tagsapi": "the tags API", HUB: "Docker Hub"}.get(label, label)


# Where explain says a candidate is known from.
_SOURCE_NAMES = {"tagsapi": "tags API", HUB: "Docker Hub", "registry": "registry", "store": "store", "cache": "store"}


def _image_name(reference: Reference) -> str:
    image = reference.found.image
    return image.short_name if image else reference.found.text


# --- explain ------------------------------------------------------------------------------

def print_explain(explanation: Explanation, *, show_all: bool = False, out: TextIO | None = None) -> None:
    _write(out or sys.stdout, explain_text(explanation, show_all=show_all))


def explain_text(explanation: Explanation, *, show_all: bool = False) -> str:
    image, decision, tags = explanation.image, explanation.decision, explanation.tags
    lines = [f"{image.text} ({image.name})"]
    rules = ", ".join(f"line {n}" for n in explanation.rule_lines) or "none"
    lines.append(f"config: {explanation.config_path or 'none (defaults)'}; matching rules: {rules}")
    searched = f"{len(tags.tags)} tags" + ("" if tags.complete else f" (only the newest {len(tags.tags)} were searched)")
    lines.append(f"tags searched: {searched}")
    if decision.line:
        lines.append(f"release line: {decision.line}")
    if explanation.moved:
        lines.append(f"moved: {explanation.moved}")
    if explanation.hub_pages:
        lines.append(f"docker hub: {explanation.hub_pages} page{'s' if explanation.hub_pages != 1 else ''} "
                     "read for this decision")
    required = ", ".join(_platforms(decision.platforms_required)) or "none"
    lines.append(f"platforms required: {required}")
    if decision.platforms_from:
        lines.append(f"  from: {decision.platforms_from}")
    shown = [v for v in decision.verdicts if show_all or v.check not in ("shape", "suffix") or _same_family(v.tag, image)]
    others = len(decision.verdicts) - len(shown)
    hidden = f" ({others} of other shapes or variants not listed; --all lists them)" if others else ""
    lines.append(f"newer candidates: {len(decision.verdicts)}{hidden}")
    known_from = {tag.name: tag.known_from for tag in tags.tags}
    for verdict in shown:
        said = "ok: " + verdict.detail if verdict.check is None else f"{verdict.check}: {verdict.detail}"
        origin = _SOURCE_NAMES.get(known_from.get(verdict.tag) or "", "")
        lines.append(f"  {verdict.tag:<32} {said}" + (f"  [{origin}]" if origin else ""))
    update = decision.update
    if update is None:
        lines.append(f"decision: no update: {decision.reason}")
    else:
        lines.append(f"decision: {short_version(update.from_tag, update.from_digest) or image.text} -> "
                     f"{short_version(update.to_tag, update.to_digest)} ({update.update_type})")
        if update.platforms_dropped:
            lines.append(f"drops: {', '.join(_platforms(update.platforms_dropped))} (not required)")
    lines.extend(f"held back: {note}" for note in decision.held_back)
    return "\n".join(lines) + "\n"


def _same_family(tag: str, image: ImageRef) -> bool:
    current, candidate = parse_tag(image.effective_tag), parse_tag(tag)
    return current is not None and candidate is not None and candidate.suffix_family == current.suffix_family


# --- pull requests ------------------------------------------------------------------------

def print_actions(actions: Sequence[Action], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    rows = [("ACTION", "BRANCH", "TITLE", "NOTE")]
    rows += [(a.kind, a.branch, a.title, " ".join(x for x in (a.note, a.url) if x)) for a in actions]
    _write(out, _aligned(rows) if actions else "no pull requests to open, update or close\n")
