"""What people read: pull request titles, bodies and commit messages; stable for a stable plan,
so a re-run edits nothing. Whatever came from a file or a server (paths, reference text,
reasons, release notes) goes through `markdown`, so it is shown and never obeyed."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timezone

from tagbot.errors import visible
from tagbot.model import HeldBack, LifeWarning, PlannedUpdate
from tagbot.platforms import short_platform
from tagbot.pr.grouping import Group
from tagbot.pr.links import NOTES_LIMIT, Links
from tagbot.pr.markdown import code, plain, quoted_notes
from tagbot.pr.state import REBASE_BOX, Proposal, state_of, with_state
from tagbot.refs import ImageRef, short_version

_NAMED_IN_TITLE = 3  # images a title names with their versions; more are counted


def pr_title(group: Group, prefix: str = "") -> str:
    """`Update postgres to 16.15 and redis to 7.4.11-alpine`, `Update 5 images (major)`, after
    `prefix` (`chore(deps):`) when the config gives one; or the `commit_message` template its
    updates' rules agree on, filled in."""
    if group.commit_message is not None:
        return _filled(group.commit_message, group, prefix)
    title = _title(group)
    return f"{prefix} {title}" if prefix else title


def _filled(template: str, group: Group, prefix: str) -> str:
    """`{prefix}update {image} to {to}` for this group: where its updates differ, a field says so
    (`3 images`, `several versions`). Every value is an image name or tag that passed the grammar."""
    images = sorted({_image(p).short_name for p in group.updates})
    image = images[0] if len(images) == 1 else " and ".join(images) if len(images) == 2 else f"{len(images)} images"

    def one(values: set[str], several: str) -> str:
        return values.pop() if len(values) == 1 else several

    return template.format(
        prefix=f"{prefix} " if prefix else "",
        image=image,
        to=one({p.update.to_text for p in group.updates}, "several versions"),
        type=one({p.update.update_type for p in group.updates}, "several types"),
        **{"from": one({short_version(p.update.from_tag, p.update.from_digest) for p in group.updates},
                       "several versions")},
    )


def _title(group: Group) -> str:
    moves = sorted({(_image(p).short_name, p.update.to_image or "", p.update.to_tag or "latest")
                    for p in group.updates if p.update.to_image})
    if moves:  # a replacement has a pull request of its own
        if len(moves) == 1:
            (old, new, same_tag), = moves
            return f"Replace {old}:{same_tag} with {new}:{same_tag}"
        return "Replace " + ", ".join(f"{old} with {new}" for old, new in sorted({(o, n) for o, n, _ in moves}))
    targets = sorted({(_image(p).short_name, p.update.to_tag, p.update.update_type) for p in group.updates})
    images = sorted({image for image, _, _ in targets})
    if len(targets) == 1:
        (image, tag, kind), = targets
        if kind == "pin":
            return f"Pin {image} to its digest"
        if kind == "digest":
            return f"Update {image}:{tag or 'latest'} digest"
        return f"Update {image} to {tag}"
    kinds = {kind for _, _, kind in targets}
    if len(images) == 1:  # one image to several tags (its variants, or several files' lines)
        tags = sorted({tag or "latest" for _, tag, _ in targets})
        to = " and ".join([", ".join(tags[:-1]), tags[-1]] if len(tags) > 1 else tags)
        return (f"Update {images[0]} to {to}" if len(tags) <= _NAMED_IN_TITLE
                else f"Update {images[0]} to {len(tags)} tags") + (f" ({kinds.pop()})" if len(kinds) == 1 else "")
    if len(targets) > _NAMED_IN_TITLE or len(images) != len(targets):
        return f"Update {len(images)} images" + (f" ({kinds.pop()})" if len(kinds) == 1 else "")
    named = [f"{image} to {tag}" if kind not in ("pin", "digest") else f"{image} ({kind})" for image, tag, kind in targets]
    return "Update " + ", ".join(named[:-1]) + f" and {named[-1]}"


def commit_message(group: Group, prefix: str = "") -> str:
    lines = [pr_title(group, prefix), ""]
    for planned in group.updates:
        reference, update = planned.reference, planned.update
        lines.append(f"- {visible(reference.file)}:{reference.line} {_image(planned).short_name} "
                     f"{short_version(update.from_tag, update.from_digest)} -> {update.to_text}")
    return "\n".join(lines) + "\n"


def pr_body(group: Group, held_back: Sequence[HeldBack], links: Mapping[tuple[str, str], Links] | None = None,
            proposed_on: date | None = None) -> str:
    """The PR description; stable for a stable plan, so a re-run edits nothing. `links`, by
    (image name, new tag): where to read what changed. Ages are told as of `proposed_on`, the
    day these versions were first proposed, so the body does not change every day."""
    proposed_on = proposed_on or today()
    rows: dict[tuple[str, str, str], list[PlannedUpdate]] = {}
    for planned in group.updates:
        update = planned.update
        key = (_image(planned).name, short_version(update.from_tag, update.from_digest), update.to_text)
        rows.setdefault(key, []).append(planned)
    lines = [
        "tagbot found newer versions of these container images.",
        "",
        "| Image | Where | Update | Type | Platforms | Size | Published |",
        "|---|---|---|---|---|---|---|",
    ]
    for (_, old, new), members in rows.items():
        first = members[0]
        update = first.update
        where = ", ".join(code(f"{p.reference.file}:{p.reference.line}", table=True) for p in members)
        platforms = _platform_list(update.platforms) or "unknown"
        published = _published(update.last_updated, proposed_on)
        lines.append(f"| {_image_link(_image(first))} | {where} | `{old}` → `{new}` | {update.update_type} "
                     f"| {platforms} | {_size(update.size, update.from_size)} | {published} |")
    lines += _links_section(group, links or {})
    dropped = {(_image(members[0]).short_name, new, _platform_list(members[0].update.platforms_dropped))
               for (_, _, new), members in rows.items() if members[0].update.platforms_dropped}
    if dropped:
        lines += ["", "**Platforms dropped**: the new version no longer runs on these; none is required here.", ""]
        lines += [f"- {image} `{new}` drops {platforms}" for image, new, platforms in sorted(dropped)]
    files = {p.reference.file for p in group.updates}
    notes = [h for h in held_back if h.reference.file in files and h.reference.found.image is not None
             and h.reference.found.image.name in {_image(p).name for p in group.updates}]
    if notes:
        lines += ["", "**Held back**", ""]
        lines += [held_back_line(h) for h in notes]
    moved = sorted({plain(p.reason) for p in group.updates if p.update.to_image})
    if moved:
        lines += ["", "**Moved**: the same tag, from the image that took this one's place.", ""]
        lines += [f"- {reason}" for reason in moved]
        lines += ["", "---", "", "To keep the old image, close this pull request: tagbot will not propose it again.",
                  "", REBASE_BOX]
    else:
        skipped: dict[str, set[str]] = {}
        for planned in group.updates:
            skipped.setdefault(_image(planned).short_name, set()).add(planned.update.to_tag or "latest")
        # One rule per image: a later rule's ignore list replaces an earlier one's.
        lines += [
            "", "---", "",
            "To skip these versions, close this pull request (tagbot will not propose them again), or tell "
            "tagbot in `tagbot.yaml`:",
            "", "```yaml", "rules:",
            *(line for image, tags in sorted(skipped.items())
              for line in (f"  - match: {image}", f"    ignore: [{', '.join(json.dumps(t) for t in sorted(tags))}]")),
            "```", "", REBASE_BOX,
        ]
    state = state_of(proposals(group), (p.reference.file for p in group.updates), proposed_on=proposed_on.isoformat())
    return with_state("\n".join(lines) + "\n", state)


def held_back_line(held: HeldBack) -> str:
    """`` - `Dockerfile:3` postgres:16.14: why `` as a Markdown list item."""
    reference = held.reference
    return f"- {code(f'{reference.file}:{reference.line}')} {code(reference.found.text)}: {plain(held.reason)}"


def life_line(warning: LifeWarning) -> str:
    """`` - `Dockerfile:3` postgres:12.20 (PostgreSQL 12 ended 2024-11-21) -> 18.6 (...)``."""
    reference = warning.reference
    return f"- {code(f'{reference.file}:{reference.line}')} {plain(warning.message)}"


def proposals(group: Group) -> list[Proposal]:
    """What the group proposes, image by image, as its pull request records it."""
    return [Proposal(_image(p).name, p.update.to_text) for p in group.updates]


def _links_section(group: Group, links: Mapping[tuple[str, str], Links]) -> list[str]:
    shown = sorted({(_image(p).short_name, p.update.to_tag, links[key]) for p in group.updates
                    if (key := (_image(p).name, p.update.to_tag or "")) in links}, key=lambda row: (row[0], row[1] or ""))
    if not shown:
        return []
    lines = ["", "**What changed**", ""]
    for image, tag, found in shown:
        parts = [f"[source]({found.source})"]
        if found.release is not None:
            parts.append(f"[release notes]({found.release.url})")
        if found.compare is not None:
            parts.append(f"[compare]({found.compare})")
        lines.append(f"- {image} `{tag}`: " + " · ".join(parts))
    for image, tag, found in shown:
        if found.release is not None and found.release.notes.strip():
            lines += ["", f"<details><summary>{image} {found.release.tag} release notes</summary>", "",
                      quoted_notes(found.release.notes, found.release.repository, NOTES_LIMIT), "", "</details>"]
    return lines


def _image(planned: PlannedUpdate) -> ImageRef:
    image = planned.reference.found.image
    assert image is not None
    return image


def _image_link(image: ImageRef) -> str:
    if not image.is_docker_hub:
        return f"`{image.name}`"
    namespace, _, name = image.repository.partition("/")
    path = f"_/{name}" if namespace == "library" else f"r/{image.repository}"
    return f"[{image.short_name}](https://hub.docker.com/{path})"


def today() -> date:
    return datetime.now(timezone.utc).date()


def _published(pushed: datetime | None, proposed_on: date) -> str:
    """`2026-08-10 (12 days old)`, the age as of the day the version was proposed."""
    if pushed is None:
        return "unknown"
    days = (proposed_on - pushed.date()).days
    return f"{pushed.date().isoformat()} ({days} day{'s' if days != 1 else ''} old)" if days >= 0 else pushed.date().isoformat()


def _size(size: int | None, before: int | None) -> str:
    if size is None:
        return "unknown"
    text = f"{size / 1e6:.1f} MB"
    if before is not None and before != size:
        text += f" ({(size - before) / 1e6:+.1f} MB)"
    return text


def _platform_list(platforms: frozenset[str]) -> str:
    return ", ".join(sorted(map(short_platform, platforms)))
