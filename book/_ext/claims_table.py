"""Sphinx extension: the book's Verification page, assembled from the executed chapters.

Every chapter prints one line per numerical claim (see :mod:`kexue_utils.claims`). While Sphinx
reads a chapter, the cells have just been executed by MyST-NB and their outputs are in the
doctree; this extension collects the claim lines from those outputs. The ``{claims-table}``
directive on the Verification page is then replaced, once every document has been read, by a
table of all claims of all chapters. Nothing in the table is typed by hand.

Each row shows the claim's kind of evidence, its margin (how far inside its tolerance or bound the
value is) and, for claims that depend on random draws, how many fresh seeds it passed in the robustness
run (``make robustness`` writes ``book/_data/robustness.json``; CI re-runs it and fails if it is stale).

A claim printed as failed, the same claim label in two places, or a stochastic claim that failed on a
fresh seed is reported as a Sphinx warning, which fails the build under ``-W``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.locale import get_translation
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from kexue_utils.claims import KINDS, Claim, parse_claims

logger = logging.getLogger(__name__)
# The summary above the table is translated in the Chinese edition (locales/zh_CN/LC_MESSAGES/ui.po).
_ = get_translation("ui")

_COLUMNS = [
    ("Claim", 14),
    ("Chapter", 10),
    ("Kind", 9),
    ("Statement", 34),
    ("Measured (tolerance)", 18),
    ("Margin", 6),
    ("Seeds", 9),
    ("", 3),
]
ROBUSTNESS = Path("book") / "_data" / "robustness.json"


class claims_table_node(nodes.General, nodes.Element):
    """Placeholder replaced by the table once all chapters have been read."""


class ClaimsTableDirective(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        tables = _state(self.env)["tables"]
        tables.add(self.env.docname)
        return [claims_table_node()]


def _state(env: BuildEnvironment) -> dict[str, Any]:
    if not hasattr(env, "kexue_claims"):
        env.kexue_claims = {"claims": {}, "tables": set()}  # type: ignore[attr-defined]
    return env.kexue_claims  # type: ignore[attr-defined,no-any-return]


def collect_claims(app: Sphinx, doctree: nodes.document) -> None:
    """Record the claims printed in the outputs of the document just read."""
    found: list[Claim] = []
    for block in doctree.findall(nodes.literal_block):
        if "output" not in block.get("classes", []):
            continue
        for claim in parse_claims(block.astext()):
            if claim is not None:
                found.append(claim)
                if not claim.passed:
                    logger.warning(
                        "claim %r failed: %s (%s)",
                        claim.label,
                        claim.measure,
                        claim.tolerance,
                        location=block,
                    )
    if found:
        _state(app.env)["claims"][app.env.docname] = found


def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    state = _state(env)
    state["claims"].pop(docname, None)
    state["tables"].discard(docname)


def merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    state, theirs = _state(env), _state(other)
    state["claims"].update(theirs["claims"])
    state["tables"].update(theirs["tables"])


def always_outdated(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """The Verification page depends on every chapter, so it is rebuilt whenever anything is."""
    return sorted(_state(env)["tables"])


def _row(cells: list[nodes.Node]) -> nodes.row:
    row = nodes.row()
    for cell in cells:
        entry = nodes.entry()
        entry += cell if isinstance(cell, nodes.paragraph) else nodes.paragraph("", "", cell)
        row += entry
    return row


def _chapter_order(app: Sphinx) -> list[str]:
    """Documents with claims, in the order of the table of contents (then any others, sorted)."""
    env = app.env
    visited: list[str] = []

    def walk(docname: str) -> None:
        for child in env.toctree_includes.get(docname, []):
            if child not in visited:
                visited.append(child)
                walk(child)

    walk(env.config.root_doc)
    claims = _state(env)["claims"]
    order = [d for d in visited if d in claims]
    return order + sorted(d for d in claims if d not in order)


def _robustness(app: Sphinx) -> dict[str, Any]:
    path = Path(app.srcdir) / ROBUSTNESS
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8")).get("claims", {})  # type: ignore[no-any-return]


def _seeds_cell(claim: Claim, fresh: dict[str, Any] | None) -> str:
    parts = [f"{claim.seeds} seed{'s' if claim.seeds != 1 else ''}"] if claim.seeds is not None else []
    if fresh and fresh.get("stochastic"):
        parts.append(f"fresh {fresh['passed']}/{fresh['runs']}")
    return "; ".join(parts) or "—"


def _summary(claims: list[Claim], robust: dict[str, Any], n_chapters: int) -> list[nodes.paragraph]:
    n_failed = sum(not c.passed for c in claims)
    kinds = Counter(c.kind for c in claims)
    stochastic = [robust[c.label] for c in claims if robust.get(c.label, {}).get("stochastic")]
    perfect = sum(e["passed"] == e["runs"] for e in stochastic)
    verdict = (
        _("{claims} claims in {chapters} chapters; all hold.")
        if n_failed == 0
        else _("{claims} claims in {chapters} chapters; {failed} FAILED.")
    )
    evidence = _(
        "By kind: {kinds} (demonstrations illustrate a point and are not counted as evidence). "
        "{stochastic} claims depend on random draws; {perfect} of them held on every one of "
        "the fresh seeds of the robustness run."
    )
    by_kind = ", ".join(f"{kinds.get(k, 0)} {k}" for k in KINDS)
    return [
        nodes.paragraph("", str(verdict).format(claims=len(claims), chapters=n_chapters, failed=n_failed)),
        nodes.paragraph("", str(evidence).format(kinds=by_kind, stochastic=len(stochastic), perfect=perfect)),
    ]


def build_table(app: Sphinx, doctree: nodes.document, fromdocname: str) -> None:
    """Replace each ``{claims-table}`` placeholder with the table of every claim in the book."""
    placeholders = list(doctree.findall(claims_table_node))
    if not placeholders:
        return
    env = app.env
    claims = _state(env)["claims"]
    seen: dict[str, str] = {}
    for docname, found in claims.items():
        for claim in found:
            if claim.label in seen:
                logger.warning(
                    "claim label %r is used twice (%s, %s)", claim.label, seen[claim.label], docname
                )
            seen[claim.label] = docname
    order = _chapter_order(app)
    robust = _robustness(app)
    every = [c for d in order for c in claims[d]]
    for claim in every:
        fresh = robust.get(claim.label, {})
        if fresh.get("stochastic") and fresh["passed"] != fresh["runs"]:
            logger.warning(
                "claim %r failed on %d of %d fresh seeds",
                claim.label,
                fresh["runs"] - fresh["passed"],
                fresh["runs"],
            )
    for placeholder in placeholders:
        table = nodes.table(classes=["kexue-claims"])
        group = nodes.tgroup(cols=len(_COLUMNS))
        table += group
        for _name, width in _COLUMNS:
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        head += _row([nodes.Text(name) for name, _width in _COLUMNS])
        group += head
        body = nodes.tbody()
        for docname in order:
            title = env.titles[docname].astext() if docname in env.titles else docname
            for claim in claims[docname]:
                link = nodes.reference("", title, internal=True)
                link["refuri"] = app.builder.get_relative_uri(fromdocname, docname)
                margin = "—" if claim.margin is None else f"{claim.margin:.0%}"
                body += _row(
                    [
                        nodes.literal(claim.label, claim.label),
                        link,
                        nodes.Text(claim.kind),
                        nodes.Text(claim.statement),
                        nodes.Text(f"{claim.measure} ({claim.tolerance})"),
                        nodes.Text(margin),
                        nodes.Text(_seeds_cell(claim, robust.get(claim.label))),
                        nodes.Text("✓" if claim.passed else "✗"),
                    ]
                )
        group += body
        if not every:
            logger.warning("the Verification page found no claims in any chapter", location=placeholder)
        placeholder.replace_self([*_summary(every, robust, len(order)), table])


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_node(claims_table_node)
    app.add_directive("claims-table", ClaimsTableDirective)
    app.connect("doctree-read", collect_claims)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-get-outdated", always_outdated)
    app.connect("doctree-resolved", build_table)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
