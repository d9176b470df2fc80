"""Numbers in a chapter's prose are computed, not typed: they are glued, or listed with a reason.

A figure in the text that comes from a computation must be inserted with myst-nb's ``{glue:text}`` so
that prose and outputs cannot disagree. Everything else numeric that a reader sees in the prose — a
parameter the author chose, a figure quoted from a paper, an exact constant — is listed in
``tests/prose_numbers/<chapter>.txt`` (one ``<number>  # why`` per line). This test finds every number
in the prose that is neither.

What counts as a number: outside math, a token with a decimal point, a ``%`` sign, an exponent, or an
integer of two digits or more (years 1900–2099 and arXiv identifiers excepted); inside math, a token
with a decimal point. Code cells, inline code, roles (``{eq}``, ``{cite}``, glue …), labels, URLs and
comments are not prose.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
ALLOWED = Path(__file__).resolve().parent / "prose_numbers"
CHAPTERS = sorted(p for p in BOOK.glob("*.md") if p.read_text(encoding="utf-8").startswith("---\njupytext:"))

_NUMBER = re.compile(r"(?<![\w.,])\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-−+]?\d+|[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)?%?(?![\w])")
_FENCE = re.compile(r"^(```+|:::+)\s*(\{[\w:-]+\})?\s*(.*)$")
_NOT_PROSE_FENCES = {None, "{code-block}", "{code}", "{bibliography}", "{glue:figure}", "{tableofcontents}"}
_STRIP = [
    re.compile(r"<!--.*?-->", re.DOTALL),  # HTML comments
    re.compile(r"^%.*$", re.MULTILINE),  # MyST comments
    re.compile(r"^\([\w-]+\)=\s*$", re.MULTILINE),  # labels
    re.compile(r"\{[\w:-]+\}`[^`]*`"),  # roles: {glue:text}`x`, {eq}`x`, {cite:t}`x`, {ref}`x` …
    re.compile(r"``[^`]*``|`[^`]*`"),  # inline code
    re.compile(r"\]\([^)]*\)"),  # link targets (the link text stays)
    re.compile(r"https?://\S+"),
    re.compile(r"arXiv[:\s]*\d{4}\.\d{4,5}(v\d+)?", re.IGNORECASE),
    re.compile(r"^\s*:[\w-]+:.*$", re.MULTILINE),  # directive options (:label:, :class: …)
]
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.DOTALL)


def _prose_and_math(text: str) -> tuple[str, str]:
    """Split markdown into (prose, math); fenced code and non-prose directives are dropped."""
    kept: list[str] = []
    fence: str | None = None  # the fence of the block we are in
    mode = "prose"  # in a block: "prose" (admonitions, theorems …), "math" or "drop" (code …)
    for line in text.splitlines():
        m = _FENCE.match(line.strip())
        if fence is None and m and (m.group(2) or m.group(1).startswith("`")):
            fence, directive = m.group(1), m.group(2)
            mode = "math" if directive == "{math}" else "drop" if directive in _NOT_PROSE_FENCES else "prose"
            kept.append({"math": "$$", "drop": "", "prose": m.group(3)}[mode])  # a title is prose
            continue
        if fence is not None and line.strip() == fence:
            kept.append("$$" if mode == "math" else "")
            fence, mode = None, "prose"
            continue
        if mode != "drop" and not line.startswith("Article:"):  # the article line: title, link, date
            kept.append(line)
    body = "\n".join(kept)
    for pattern in _STRIP:
        body = pattern.sub(" ", body)
    math = " ".join(_MATH.findall(body))
    return _MATH.sub(" ", body), math


def flagged_numbers(md: Path) -> dict[str, list[str]]:
    """Every number in the chapter's prose that must be glued or allow-listed, with a little context."""
    found: dict[str, list[str]] = defaultdict(list)
    nb = jupytext.read(md)
    texts = [c.source for c in nb.cells if c.cell_type == "markdown"]
    texts += [
        c.metadata["mystnb"]["figure"].get("caption", "")
        for c in nb.cells
        if c.cell_type == "code" and isinstance(c.metadata.get("mystnb", {}).get("figure"), dict)
    ]
    for text in texts:
        prose, math = _prose_and_math(text)
        for m in _NUMBER.finditer(prose):
            token = m.group(0)
            plain = token.replace(",", "")
            if re.fullmatch(r"\d+", plain) and (
                int(plain) < 10 or (len(plain) == 4 and 1900 <= int(plain) <= 2099)
            ):
                continue
            found[token].append(prose[max(0, m.start() - 40) : m.end() + 20].replace("\n", " "))
        for m in re.finditer(r"(?<![\w.])\d*\.\d+", math):
            found[m.group(0)].append(f"(math) …{math[max(0, m.start() - 30) : m.end() + 10]}…")
    return found


def allowlist(chapter: str) -> dict[str, str]:
    path = ALLOWED / f"{chapter}.txt"
    entries: dict[str, str] = {}
    if not path.exists():
        return entries
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        number, _, why = line.partition("#")
        assert why.strip(), f"{path.name}:{n}: say why {number.strip()!r} is typed, after a '#'"
        entries[number.strip()] = why.strip()
    return entries


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_numbers_in_prose_are_glued_or_listed(md: Path):
    found = flagged_numbers(md)
    allowed = allowlist(md.stem)
    typed = {k: v for k, v in found.items() if k not in allowed}
    assert not typed, (
        f"{md.name}: numbers in the prose that are neither glued ({{glue:text}}) nor listed in "
        f"tests/prose_numbers/{md.stem}.txt:\n"
        + "\n".join(f"  {k!r}: {v[0]!r}" for k, v in sorted(typed.items()))
    )
    stale = sorted(set(allowed) - set(found))
    assert not stale, f"tests/prose_numbers/{md.stem}.txt lists numbers the prose no longer has: {stale}"


def test_the_scanner_sees_what_it_should():
    prose, math = _prose_and_math(
        "FD falls by 3.5 % in 10 of 12 seeds (2024), see {glue:text}`x_y` and `code 12.5`.\n"
        "$$ a = 0.25 b^{12} $$ (lab)\n\n```python\nz = 77.7\n```\n:::{note} Title 42\nbody 13\n:::\n"
        "[a link 64](https://example.org/88) arXiv 2303.13506 and $x_{10} = 1.5$\n"
    )
    tokens = [m.group(0) for m in _NUMBER.finditer(prose)]
    assert tokens == ["3.5", "10", "12", "2024", "42", "13", "64"]
    assert re.findall(r"(?<![\w.])\d*\.\d+", math) == ["0.25", "1.5"]
