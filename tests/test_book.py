"""Structural checks of the book: every chapter is an in-sync, executed Jupytext pair in the TOC.

nbval (run on ``book/*.ipynb`` by the same ``pytest`` command) compares the outputs stored in
each ``.ipynb`` with a fresh execution; these tests make sure the ``.ipynb`` is the executed
twin of the ``.md`` a reader edits, so editing a ``.md`` without ``make sync`` fails the suite.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

from kexue_utils.claims import FIRST_ROBUSTNESS_SEED, WIDTH, Claim, parse_claims

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = sorted(p for p in BOOK.glob("*.md") if p.read_text(encoding="utf-8").startswith("---\njupytext:"))


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    return files


def _cells(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip()) for cell in nb.cells]


def _stream_text(nb: nbformat.NotebookNode) -> str:
    return "\n".join(
        output["text"]
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
    )


def _claims(md: Path) -> list[Claim]:
    return list(parse_claims(_stream_text(nbformat.read(md.with_suffix(".ipynb"), as_version=4))))


def test_there_are_chapters():
    assert CHAPTERS, "no Jupytext chapter found in book/"


def test_every_toc_entry_exists_and_every_chapter_is_in_the_toc():
    toc = _toc_files()
    for entry in toc:
        assert (ROOT / f"{entry}.md").exists(), f"_toc.yml lists {entry} but {entry}.md does not exist"
    for md in CHAPTERS:
        assert str(md.relative_to(ROOT).with_suffix("")) in toc, f"{md.name} is not in _toc.yml"


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_pair_is_in_sync(md: Path):
    nb_path = md.with_suffix(".ipynb")
    assert nb_path.exists(), f"{nb_path.name} is missing: run `make sync NB={md.relative_to(ROOT)}`"
    text_nb = jupytext.read(md)
    stored = nbformat.read(nb_path, as_version=4)
    assert text_nb.metadata["jupytext"]["formats"] == "ipynb,md:myst"
    assert stored.metadata.get("jupytext", {}).get("formats") == "ipynb,md:myst"
    assert _cells(text_nb) == _cells(stored), (
        f"{md.name} and {nb_path.name} differ: run `make sync NB={md.relative_to(ROOT)}`"
    )
    # Cell metadata (tags, figure captions) must match too: nbval reads tags from the .ipynb.
    for a, b in zip(text_nb.cells, stored.cells, strict=True):
        assert a.metadata.get("tags", []) == b.metadata.get("tags", []), f"tags differ in {md.name}"
        assert a.metadata.get("mystnb") == b.metadata.get("mystnb"), f"figure metadata differs in {md.name}"


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_stored_notebook_is_fully_executed_without_errors(md: Path):
    stored = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    counts = []
    for i, cell in enumerate(stored.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        assert cell.execution_count is not None, f"code cell {i} of {md.stem}.ipynb was never executed"
        counts.append(cell.execution_count)
        for output in cell.outputs:
            assert output.output_type != "error", f"cell {i} of {md.stem}.ipynb stored an error"
            if output.output_type == "stream":
                assert output.name == "stdout", (
                    f"cell {i} of {md.stem}.ipynb wrote to stderr: {output.text[:200]}"
                )
    assert counts == list(range(1, len(counts) + 1)), (
        f"{md.stem}.ipynb was not executed top to bottom in one run"
    )


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_skeleton(md: Path):
    text = md.read_text(encoding="utf-8")
    assert re.search(r"https://kexue\.fm/archives/\d+", text), "link to the kexue.fm article missing"
    for heading in ("## Overview", "## Setup", "## Summary", "## Exercises", "## References"):
        assert heading in text, f"{md.name} lacks the section {heading!r}"
    assert "```{bibliography}" in text
    assert "```{solution}" in text and ":class: dropdown" in text, "exercises need hidden solutions"


def test_claims_are_present_unique_and_passing():
    owner: dict[str, str] = {}
    for md in CHAPTERS:
        claims = _claims(md)
        assert claims, f"{md.stem} checks no claim"
        for claim in claims:
            assert claim.passed, f"{md.stem}: claim {claim.label} is stored as failed"
            assert claim.label not in owner, (
                f"claim label {claim.label} used in {owner.get(claim.label)} and {md.stem}"
            )
            owner[claim.label] = md.stem


def test_config_excludes_the_paired_notebooks():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert "book/*.ipynb" in config["exclude_patterns"]
    assert config["execute"]["allow_errors"] is False


def test_bibliography_keys_cited_exist():
    bib = (ROOT / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    for md in [*CHAPTERS, BOOK / "intro.md"]:
        for group in re.findall(r"\{cite(?::[a-z]+)?\}`([^`]+)`", md.read_text(encoding="utf-8")):
            for key in group.split(","):
                assert key.strip() in keys, f"{md.name} cites {key.strip()!r}, which is not in references.bib"


def test_lock_pins_every_direct_requirement():
    lock = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (ROOT / "requirements-lock.txt").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    }
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name = re.split(r"[<>=!~\[ ]", line)[0].lower().replace("_", "-")
            assert name in lock, f"{name} is in requirements.txt but not pinned in requirements-lock.txt"
    assert lock


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_errata_section_is_marked_and_gathered(md: Path):
    """The Errata page includes each chapter's errata section between two comment markers."""
    text = md.read_text(encoding="utf-8")
    heading = "## What the article gets right, and errata"
    assert heading in text, f"{md.name} lacks the section {heading!r}"
    section = text[text.index(heading) :]
    assert "% errata:start" in section and "% errata:end" in section, f"{md.name}: errata markers missing"
    body = section[section.index("% errata:start") : section.index("% errata:end")]
    # Included twice (chapter and Errata page), so it must not define labels or numbered equations.
    assert not re.search(r"^\([\w-]+\)=|\$\$ *\([\w-]+\)|:label:|:name:", body, re.MULTILINE), (
        f"{md.name}: the errata section must not define labels (it is included on the Errata page)"
    )
    errata = (BOOK / "errata.md").read_text(encoding="utf-8")
    assert f"```{{include}} {md.name}" in errata, f"book/errata.md does not include {md.name}"


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_experiments_sit_well_inside_their_bounds(md: Path):
    """A measured finding that passes by a hair is one unlucky draw from failing: margin ≥ 10 %."""
    for claim in _claims(md):
        if claim.kind == "experiment":
            where = f"{claim.measure}, {claim.tolerance}"
            assert claim.margin is not None and claim.margin >= 0.10, (
                f"{md.stem}: experiment {claim.label} is within 10 % of its bound ({where})"
            )


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_outputs_not_compared_say_why(md: Path):
    """A cell whose output nbval does not compare starts with a comment saying why (one line)."""
    for i, cell in enumerate(jupytext.read(md).cells):
        if "nbval-ignore-output" in cell.metadata.get("tags", []):
            first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
            assert re.match(r"# Machine-dependent output: \S", first), (
                f"{md.name}, cell {i}: an nbval-ignore-output cell must start with "
                f"'# Machine-dependent output: <why>', got {first!r}"
            )
        assert "nbval-skip" not in cell.metadata.get("tags", []), f"{md.name}, cell {i}: never skip a cell"


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_literal_seeds_leave_the_robustness_seeds_unused(md: Path):
    """The robustness run re-evaluates claims on seeds ≥ FIRST_ROBUSTNESS_SEED: no notebook may use them."""
    code = "\n".join(c.source for c in jupytext.read(md).cells if c.cell_type == "code")
    pattern = r"(?:seed\w*\s*=\s*|default_rng\(|random\.key\(|PRNGKey\(|SeedSequence\()(\d[\d_]*)"
    for literal in re.findall(pattern, code):
        assert int(literal.replace("_", "")) < FIRST_ROBUSTNESS_SEED, f"{md.name} uses seed {literal}"


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_printed_lines_fit_the_page(md: Path):
    """Claim lines and code lines fit the rendered column: nothing scrolls sideways."""
    for line in _stream_text(nbformat.read(md.with_suffix(".ipynb"), as_version=4)).splitlines():
        assert len(line) <= WIDTH, f"{md.stem}: printed line longer than {WIDTH} characters: {line!r}"
    for cell in jupytext.read(md).cells:
        if cell.cell_type == "code":
            for line in cell.source.splitlines():
                assert len(line) <= WIDTH, f"{md.name}: code line longer than {WIDTH} characters: {line!r}"


def _prose_code_lines(text: str) -> list[str]:
    """Lines of the plain code fences of a MyST text, looking inside directives (not code cells or math)."""
    from markdown_it import MarkdownIt

    lines: list[str] = []
    for token in MarkdownIt("commonmark").parse(text):
        if token.type != "fence":
            continue
        info = token.info.strip()
        if not info.startswith("{"):
            lines += token.content.splitlines()
        elif not info.startswith(("{code-cell}", "{math}")):
            lines += _prose_code_lines(token.content)
    return lines


@pytest.mark.parametrize("md", sorted(BOOK.glob("*.md")), ids=lambda p: p.stem)
def test_code_blocks_in_the_prose_fit_the_page(md: Path):
    """Fenced code in the text (commands, quoted output) fits the same column as the cells."""
    for line in _prose_code_lines(md.read_text(encoding="utf-8")):
        assert len(line) <= WIDTH, f"{md.name}: code line longer than {WIDTH} characters: {line!r}"


def test_robustness_summary_covers_exactly_the_claims_of_the_book():
    """book/_data/robustness.json (written by `make robustness`) lists every claim, with its kind."""
    import json

    summary = json.loads((BOOK / "_data" / "robustness.json").read_text(encoding="utf-8"))["claims"]
    printed = {c.label: (md.stem, c.kind) for md in CHAPTERS for c in _claims(md)}
    recorded = {label: (e["chapter"], e["kind"]) for label, e in summary.items()}
    assert recorded == printed, "book/_data/robustness.json is stale: run `make robustness` and commit it"
    for label, entry in summary.items():
        if entry["stochastic"]:
            assert entry["runs"] >= 10 and entry["passed"] == entry["runs"], f"{label} failed on a fresh seed"


def test_claim_quoted_in_the_intro_is_the_one_the_chapter_prints():
    """book/intro.md shows a claim as an example: it must be verbatim what the chapter prints today."""
    intro = (BOOK / "intro.md").read_text(encoding="utf-8")
    quoted = re.findall(r"```text\n(✓ .*?)\n```", intro, re.DOTALL)
    assert quoted, "book/intro.md no longer quotes a claim"
    printed = "\n".join(
        _stream_text(nbformat.read(md.with_suffix(".ipynb"), as_version=4)) for md in CHAPTERS
    )
    for block in quoted:
        assert block in printed, f"book/intro.md quotes a claim no chapter prints:\n{block}"
