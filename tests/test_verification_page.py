"""The Verification page is assembled from the executed chapters by ``book/_ext/claims_table.py``.

These tests build a two-page fixture book with Jupyter Book (in a temporary folder) and check that
the page lists exactly the claims the executed notebook printed, and that a duplicate claim label
fails the build under ``-W``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CONFIG = f"""
title: fixture
only_build_toc_files: true
execute:
  execute_notebooks: force
  allow_errors: false
sphinx:
  local_extensions:
    claims_table: {ROOT / "book" / "_ext"}
  config:
    nb_execution_raise_on_error: true
"""
TOC = """
format: jb-book
root: intro
chapters:
  - file: chapter
  - file: verification
"""
HEADER = """---
jupytext:
  formats: ipynb,md:myst
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""
CHAPTER = (
    HEADER
    + """
# Fixture chapter

```{code-cell} ipython3
from kexue_utils import check, check_bound
check("fix-sum", 0.1 + 0.2, 0.3, kind="identity", rtol=1e-9, statement="floating-point sum")
print("an ordinary line that is not a claim")
```

```{code-cell} ipython3
x = 2.0 ** 0.5
check_bound("fix-root", x, kind="experiment", seeds=3, lower=1.41, upper=1.42,
            statement="√2 lies in (1.41, 1.42)")
check("LABEL2", 1.0, 1.0, kind="demonstration", atol=0.1, statement="second claim")
```
"""
)


def _build(tmp_path: Path, second_label: str) -> tuple[int, str, Path]:
    (tmp_path / "_config.yml").write_text(CONFIG)
    (tmp_path / "_toc.yml").write_text(TOC)
    (tmp_path / "intro.md").write_text("# Fixture\n\nIntro.\n")
    (tmp_path / "chapter.md").write_text(CHAPTER.replace("LABEL2", second_label))
    (tmp_path / "verification.md").write_text("# Verification\n\n```{claims-table}\n```\n")
    (tmp_path / "book" / "_data").mkdir(parents=True)
    (tmp_path / "book" / "_data" / "robustness.json").write_text(
        '{"claims": {"fix-root": {"stochastic": true, "runs": 10, "passed": 10},'
        ' "fix-sum": {"stochastic": false}}}'
    )
    jb = Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run(
        [str(jb), "build", str(tmp_path), "--all", "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    return proc.returncode, proc.stdout + proc.stderr, tmp_path / "_build" / "html"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_page_lists_exactly_the_printed_claims(tmp_path: Path):
    code, log, html = _build(tmp_path, "fix-second")
    assert code == 0, log[-3000:]
    page = _text((html / "verification.html").read_text(encoding="utf-8"))
    assert "3 claims in 1 chapters; all hold." in page
    assert "By kind: 1 identity, 0 independent, 1 experiment, 1 demonstration" in page
    assert "1 claims depend on random draws; 1 of them held on every one of the fresh seeds" in page
    for expected in (
        "fix-sum Fixture chapter identity floating-point sum rounding-level error (tol 1.0e-09) 100% — ✓",
        "fix-root Fixture chapter experiment √2 lies in (1.41, 1.42)"
        " value 1.414 (bound &gt; 1.41 and &lt; 1.42) 80% 3 seeds; fresh 10/10 ✓",
        "fix-second Fixture chapter demonstration second claim rounding-level error (tol 1.0e-01) 100% — ✓",
    ):
        assert expected.replace("<", "&lt;") in page, page[-1500:]
    assert "ordinary line" not in page


def test_duplicate_label_fails_the_build(tmp_path: Path):
    code, log, _ = _build(tmp_path, "fix-sum")
    assert code != 0
    assert "claim label 'fix-sum' is used twice (chapter, chapter)" in log, log[-3000:]
