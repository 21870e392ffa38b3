"""Text from elsewhere placed in a pull request or issue body so that it is shown, never obeyed:
file names and reference text as code, messages as plain text, release notes quoted with their
HTML reduced to a small balanced subset and their code fences closed.

Nothing placed here can open an HTML comment (so nothing passes for one of tagbot's own marks),
start a line of its own, end the `<details>` block it stands in, notify a person or a team, or
put a back-reference into another repository's timeline. A zero-width space (U+200B) is what
breaks a mention or a comment without changing what people read, as Dependabot and Renovate do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tagbot.errors import visible

ZERO_WIDTH = "\u200b"
# Tags release notes keep, without their attributes; every other `<` is shown as a character.
_KEPT_TAGS = frozenset({
    "b", "i", "em", "strong", "code", "sub", "sup", "kbd", "del", "s", "br", "hr", "p", "ul", "ol", "li",
    "details", "summary", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
})
_VOID_TAGS = frozenset({"br", "hr"})
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)(?:\s[^<>]*)?\s*/?>")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
# What GitHub turns into a notification or a cross-reference, in one pass.
_NOTIFYING = re.compile(
    r"(?P<url>https://github\.com/)"
    r"|(?<![\w@/.-])(?P<slug>[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9_.-]+)#(?P<slug_number>\d+)\b"
    r"|(?<![\w&/#])(?:#|GH-)(?P<number>\d+)\b"
    r"|(?<![\w`])@(?=[A-Za-z0-9])"
)


def code(text: str, *, table: bool = False) -> str:
    """`text` as an inline code span that shows it exactly: control characters escaped, no
    backtick able to end the span, and (in a table cell) no `|` able to end the cell."""
    shown = _no_comment(visible(text))
    if table:
        shown = shown.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", shown)), default=0) + 1)
    pad = " " if shown[:1] == "`" or shown[-1:] == "`" or (shown[:1] == " " and shown[-1:] == " ") else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def plain(text: str) -> str:
    """`text` as Markdown text on one line: HTML shown as characters, and no mention or issue
    reference that notifies or links anyone."""
    shown = visible(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _quiet(shown, None)


def quoted_notes(notes: str, repository: str | None, limit: int) -> str:
    """Release notes as a pull request may quote them: at most `limit` characters, cut at a
    line; HTML reduced to `_KEPT_TAGS` without attributes, every tag balanced; fences closed;
    `#12` and `owner/name#12` linked to `repository`'s issues through GitHub's redirect host
    (so no back-reference lands in their timelines); mentions broken."""
    whole = notes.replace("\r\n", "\n").replace("\r", "\n").strip()
    text = _cut(whole, limit)
    lines: list[str] = []
    fence: str | None = None  # the open fence's run of backticks or tildes
    open_tags: list[str] = []
    for line in text.split("\n"):
        line = _shown_line(line)
        run = _FENCE.match(line)
        if fence is None and run:
            fence = run.group(1)
            lines.append(_no_comment(line))
        elif fence is not None:
            if run and run.group(1)[0] == fence[0] and len(run.group(1)) >= len(fence) and not line[run.end():].strip():
                fence = None
            lines.append(_no_comment(line))
        else:
            lines.append(_markdown_line(line, repository, open_tags))
    if fence is not None:
        lines.append(fence)
    lines.extend(f"</{name}>" for name in reversed(open_tags))
    return "\n".join(lines) + ("\n\n…" if len(text) < len(whole) else "")


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    return text[: cut if cut > 0 else limit].rstrip()


def _shown_line(line: str) -> str:
    """A line with its control characters escaped; tabs kept, since code indents with them."""
    return "\t".join(visible(part) for part in line.split("\t"))


def _markdown_line(line: str, repository: str | None, open_tags: list[str]) -> str:
    return "".join(_no_comment(piece) if is_code else _html_kept(piece, repository, open_tags)
                   for is_code, piece in _code_spans(line))


def _code_spans(line: str) -> Iterator[tuple[bool, str]]:
    """The line in pieces, each a code span (True) or not: a run of backticks opens a span that
    the next run of the same length closes; a run that nothing closes is plain text."""
    at = 0
    runs = list(re.finditer(r"`+", line))
    index = 0
    while index < len(runs):
        opening = runs[index]
        closing = next((k for k in range(index + 1, len(runs)) if len(runs[k].group()) == len(opening.group())), None)
        if closing is None:
            index += 1
            continue
        yield False, line[at:opening.start()]
        yield True, line[opening.start():runs[closing].end()]
        at, index = runs[closing].end(), closing + 1
    yield False, line[at:]


def _html_kept(text: str, repository: str | None, open_tags: list[str]) -> str:
    """Text outside code: kept tags without attributes, each closing one matched to an open one
    (or shown as text), every other `<` shown as a character."""
    out, at = [], 0
    for tag in _TAG.finditer(text):
        out.append(_text(text[at:tag.start()], repository))
        out.append(_balanced(tag.group(1) == "/", tag.group(2).lower(), tag.group(), open_tags))
        at = tag.end()
    out.append(_text(text[at:], repository))
    return "".join(out)


def _balanced(closing: bool, name: str, written: str, open_tags: list[str]) -> str:
    if name not in _KEPT_TAGS:
        return _text_of_tag(written)
    if name in _VOID_TAGS:
        return f"<{name}>"
    if not closing:
        open_tags.append(name)
        return f"<{name}>"
    if name not in open_tags:
        return _text_of_tag(written)
    closed = []
    while open_tags:
        top = open_tags.pop()
        closed.append(f"</{top}>")
        if top == name:
            break
    return "".join(closed)


def _text_of_tag(written: str) -> str:
    return written.replace("<", "&lt;").replace(">", "&gt;")


def _text(text: str, repository: str | None) -> str:
    return _quiet(_no_comment(text).replace("<", "&lt;"), repository)


def _quiet(text: str, repository: str | None) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group("url"):
            return "https://redirect.github.com/"
        if match.group("slug"):
            slug, number = match.group("slug"), match.group("slug_number")
            return f"[{slug}#{number}](https://redirect.github.com/{slug}/issues/{number})"
        if match.group("number"):
            number = match.group("number")
            if repository is None:
                return match.group().replace("#", "#" + ZERO_WIDTH).replace("GH-", "GH-" + ZERO_WIDTH)
            return f"[{match.group()}](https://redirect.github.com/{repository}/issues/{number})"
        return "@" + ZERO_WIDTH

    return _NOTIFYING.sub(replace, text)


def _no_comment(text: str) -> str:
    """Text that can neither open nor close an HTML comment, inside code where entities would
    show as written."""
    return text.replace("<!--", "<!" + ZERO_WIDTH + "--").replace("-->", "--" + ZERO_WIDTH + ">")
