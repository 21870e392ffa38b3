"""What a pull request tells later runs about itself, in a hidden comment at the end of its body:
the updates it proposes, the files they touch, and whether tagbot closed it. The pull request
carries it, so a change of grouping, a deleted branch or a lost cache forgets nothing; a pull
request a person closed without merging declines exactly the versions it proposed.

The rebase box is the one part of the body meant for people: ticking it asks for a rebuild.

Only tagbot's own pull requests and dashboard are read here (`identity` says which), and even
those are read as untrusted text: in one linear pass, at most `MAX_BODY` characters, one state
mark and JSON a few levels deep, every image and version checked by the reference grammar. A
body that breaks any of it has no state (`parse_state` says why), and no run ends on it. What
tagbot writes cannot be forged from the text it embeds: the state's JSON escapes `<` and `>`,
and every other part of a body escapes comments (`markdown`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tagbot.errors import InvalidReference
from tagbot.refs import is_tag, parse_ref

MAX_BODY = 65_536  # characters: GitHub's own limit on a body, so a longer one did not come from it
_MAX_DEPTH = 3  # {"proposals": [[image, version]]}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SHORT_DIGEST = re.compile(r"sha(?:256|512):[0-9a-f]{1,128}")
_STATE_MARK, _MARK_END = "<!-- tagbot:state ", " -->"
REBASE_BOX = "- [ ] <!-- tagbot:rebase --> Rebase this pull request on its base branch (tick to ask)"
DASHBOARD_MARK = "<!-- tagbot:dashboard -->"
_TICKED = ("- [x] ", "- [X] ")
_UNDECLINE = "<!-- tagbot:undecline "


@dataclass(frozen=True, order=True)
class Proposal:
    """One update a pull request proposes: the image (its full name) and the version it moves to."""

    image: str
    version: str  # as `short_version` writes it: `1.2.1`, `1.2.1@sha256:abcdef123456`

    @property
    def short_image(self) -> str:
        return short_image_name(self.image)


def short_image_name(name: str) -> str:
    """`postgres` for docker.io/library/postgres: the name as people write it; a name read back
    from a pull request that is no reference is shown as it is."""
    try:
        return parse_ref(name).short_name
    except InvalidReference:
        return name


def checked_proposal(image: object, version: object) -> Proposal | None:
    """The proposal read back from a body, or None unless `image` is a full image name and
    `version` a tag, a short digest or both, by the grammar."""
    if not isinstance(image, str) or not isinstance(version, str) or not version:
        return None
    try:
        if parse_ref(image).name != image:
            return None
    except InvalidReference:
        return None
    tag, at, digest = version.partition("@")
    if (tag and not is_tag(tag)) or (at and _SHORT_DIGEST.fullmatch(digest) is None) or not (tag or at):
        return None
    return Proposal(image, version)


@dataclass(frozen=True)
class State:
    proposals: tuple[Proposal, ...]
    files: tuple[str, ...] = ()
    closed_by_tagbot: bool = False
    undeclined: bool = False  # a person ticked its box on the dashboard: propose these again
    proposed_on: str = ""  # the day these versions were first proposed (ISO): ages are told as of then

    @property
    def declines(self) -> bool:
        """Whether, closed without merging, it declines its proposals."""
        return not (self.closed_by_tagbot or self.undeclined)

    @property
    def images(self) -> frozenset[str]:
        return frozenset(p.image for p in self.proposals)


def state_of(proposals: Iterable[Proposal], files: Iterable[str], *, proposed_on: str = "") -> State:
    return State(tuple(sorted(set(proposals))), tuple(sorted(set(files))), proposed_on=proposed_on)


def with_state(body: str, state: State) -> str:
    """`body` ending in `state` (replacing the one it had)."""
    data: dict[str, Any] = {"proposals": [[p.image, p.version] for p in state.proposals], "files": list(state.files)}
    if state.closed_by_tagbot:
        data["closed_by"] = "tagbot"
    if state.undeclined:
        data["undeclined"] = True
    if state.proposed_on:
        data["proposed_on"] = state.proposed_on
    # `<` and `>` only stand inside JSON strings here, so escaping them keeps the JSON the same
    # and lets no file name open a comment or end the mark early.
    encoded = json.dumps(data, separators=(",", ":"), sort_keys=True).replace("<", "\\u003c").replace(">", "\\u003e")
    return _without_state(body).rstrip("\n") + "\n\n" + _STATE_MARK + encoded + _MARK_END + "\n"


def _without_state(body: str) -> str:
    start = body.find(_STATE_MARK)
    end = body.find(_MARK_END, start) if start >= 0 else -1
    return body if end < 0 else body[:start] + body[end + len(_MARK_END):]


def read_state(body: str | None) -> State | None:
    """The state a body carries, or None: a pull request of an older tagbot, a body a person
    rewrote, or one whose state cannot be read."""
    return parse_state(body)[0]


def parse_state(body: str | None) -> tuple[State | None, str]:
    """The state a body carries, and why it cannot be read ("" when it can, or has none)."""
    body = body or ""
    if len(body) > MAX_BODY:
        return None, f"the body is longer than {MAX_BODY:,} characters"
    start = body.find(_STATE_MARK)
    if start < 0:
        return None, ""
    if body.find(_STATE_MARK, start + 1) >= 0:
        return None, "the body holds more than one state mark"
    end = body.find(_MARK_END, start)
    if end < 0:
        return None, "the state mark is not closed"
    text = body[start + len(_STATE_MARK):end]
    if _nesting(text) > _MAX_DEPTH:
        return None, f"the state is nested more than {_MAX_DEPTH} levels deep"
    try:
        data = json.loads(text)
    except ValueError:
        return None, "the state is not JSON"
    state = _state_from(data)
    return (state, "") if state is not None else (None, "the state does not hold what tagbot writes")


def _state_from(data: Any) -> State | None:
    if not isinstance(data, dict) or not isinstance(data.get("proposals"), list) or not isinstance(data.get("files", []), list):
        return None
    pairs = [p for p in data["proposals"] if isinstance(p, list) and len(p) == 2]
    proposals = [checked_proposal(image, version) for image, version in pairs]
    files = data.get("files", [])
    if len(pairs) != len(data["proposals"]) or None in proposals or not all(isinstance(f, str) for f in files):
        return None
    proposed_on = data.get("proposed_on")
    return State(tuple(p for p in proposals if p is not None), tuple(files), data.get("closed_by") == "tagbot",
                 data.get("undeclined") is True,
                 proposed_on if isinstance(proposed_on, str) and _DATE.fullmatch(proposed_on) else "")


def _nesting(text: str) -> int:
    """How deep JSON text nests, counted in one pass outside strings, before it is parsed."""
    depth = deepest = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (c == "\\", c != '"')
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    return deepest


def undecline_box(proposal: Proposal, text: str) -> str:
    return f"- [ ] {_UNDECLINE}{proposal.image} {proposal.version} --> {text}"


def undeclines_requested(body: str | None) -> set[Proposal]:
    """The declined versions whose dashboard box a person ticked."""
    ticked = set()
    for line in _lines(body):
        if line.startswith(_TICKED) and line[len(_TICKED[0]):].startswith(_UNDECLINE):
            image, _, rest = line[len(_TICKED[0]) + len(_UNDECLINE):].partition(" ")
            version, _, end = rest.partition(" ")
            proposal = checked_proposal(image, version) if end.startswith("-->") else None
            if proposal is not None:
                ticked.add(proposal)
    return ticked


def rebase_requested(body: str | None) -> bool:
    ticked = tuple(box + "<!-- tagbot:rebase -->" for box in _TICKED)
    return any(line.startswith(ticked) for line in _lines(body))


def is_dashboard(body: str | None) -> bool:
    return (body or "").startswith(DASHBOARD_MARK)


def _lines(body: str | None) -> list[str]:
    body = body or ""
    return [] if len(body) > MAX_BODY else body.splitlines()
