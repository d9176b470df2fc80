"""The Chinese edition (issue 20) is complete and in step with the English text.

The catalogs ``locales/zh_CN/LC_MESSAGES/**.po`` must translate every message, none fuzzy, and hold
exactly the messages the English pages have now (pages listed in ``locales/zh_CN/pending.txt``, whose
translation is under way, are exempt until it is complete): the messages are extracted again from the book
(Sphinx's gettext builder on the executed notebooks, nothing executed; ~5 s) and compared. So an
English edit that is not carried into the translation fails here: ``python scripts/i18n.py update``
marks the changed paragraph fuzzy, and this test fails until it is translated again.

A translation must keep its message's inline math, roles (``{eq}``, ``{cite:t}``, ``{glue:text}``
…), code spans and link targets exactly. The workflow itself (extract → update → edit → fuzzy) is
shown on a two-page book built in a temporary folder.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import i18n  # noqa: E402


@pytest.fixture(scope="module")
def stats(tmp_path_factory: pytest.TempPathFactory) -> i18n.Stats:
    pots = i18n.extract(ROOT, tmp_path_factory.mktemp("gettext"))
    return i18n.check_catalogs(ROOT, pots)


def test_every_message_is_translated_and_none_is_fuzzy(stats: i18n.Stats):
    problems = stats.of_kind("untranslated", "fuzzy")
    assert not problems, "\n".join([i18n.report(stats), *problems])


def test_catalogs_are_in_step_with_the_english_text(stats: i18n.Stats):
    problems = stats.of_kind("out of step")
    assert not problems, "run `python scripts/i18n.py update`, then translate:\n" + "\n".join(problems)


def test_translations_keep_math_roles_and_code(stats: i18n.Stats):
    assert not stats.of_kind("markup"), "\n".join(stats.of_kind("markup"))


def test_ui_catalog_covers_the_config_and_the_extensions(stats: i18n.Stats):
    assert not stats.of_kind("ui"), "\n".join(stats.of_kind("ui"))


def test_pending_pages_are_really_pending(stats: i18n.Stats):
    """A page leaves ``locales/zh_CN/pending.txt`` the day its catalog is complete and in step."""
    unknown = [page for page in stats.pending if page not in stats.pages]
    waiting = {
        text.split(".po:")[0].removeprefix("locales/zh_CN/LC_MESSAGES/") for text in stats.of_kind("pending")
    }
    done = [page for page in stats.pending if page in stats.counts and page not in waiting]
    assert not unknown and not done, f"remove from locales/zh_CN/pending.txt: {unknown + done}"


def test_non_chapter_pages_are_fully_translated(stats: i18n.Stats):
    pages = ["book/intro", "book/verification", "book/errata", "book/execution", "ui"]
    assert all(page in stats.counts for page in pages), sorted(stats.counts)
    assert not set(pages) & set(stats.pending)
    assert stats.percent(pages) == 100.0, i18n.report(stats)


# ------------------------------------------------------------------------------------------------
# The pieces


def test_protected_parts_of_a_message():
    msg = "By {eq}`gp-chain`, $\\lVert x\\rVert \\le 1$ holds for `gp.backprop` ([paper](https://x.org/a))."
    assert i18n.protected(msg) == {
        "{eq}`gp-chain`": 1,
        "$\\lVert x\\rVert \\le 1$": 1,
        "`gp.backprop`": 1,
        "](https://x.org/a)": 1,
    }
    good = "由 {eq}`gp-chain`，对 `gp.backprop` 有 $\\lVert x\\rVert \\le 1$（[论文](https://x.org/a)）。"
    assert i18n.protected(good) == i18n.protected(msg)
    assert i18n.protected("由 {eq}`gp-chain`，有 $\\lVert x\\rVert < 1$。") != i18n.protected(msg)
    assert i18n.protected("costs $5 and $6") == {}  # two dollar amounts are not math


def test_glue_roles_point_at_their_notebook_in_translations():
    text = "比值为 {glue:text}`mad-ratio`，误差 {glue:text}`mad-err:.2f`，图见 {glue}`mad-fig`。"
    point_glue_at = i18n.book_extension(ROOT, "glue_includes").point_glue_at
    assert point_glue_at(text, "/book/mad.md") == (
        "比值为 {glue:text}`/book/mad.md::mad-ratio:s`，误差 {glue:text}`/book/mad.md::mad-err:.2f`，"
        "图见 {glue}`/book/mad.md::mad-fig`。"
    )


def test_emphasis_that_cjk_punctuation_keeps_open_is_caught():
    assert i18n._unclosed_emphasis("**正确：**这条线是直的。")  # shown as **正确：**
    assert not i18n._unclosed_emphasis("**正确**：这条线是直的。")
    assert not i18n._unclosed_emphasis("*identity*（恒等式）：精确的代数关系")
    assert not i18n._unclosed_emphasis("$a*b$ 与 `x * y` 以及 \\* 号")


def _tiny_book(root: Path) -> None:
    (root / "book").mkdir(parents=True)
    (root / "_config.yml").write_text(
        textwrap.dedent(
            f"""\
            title: tiny
            author: someone
            only_build_toc_files: true
            execute:
              execute_notebooks: "off"
            parse:
              myst_enable_extensions: [dollarmath]
            sphinx:
              local_extensions:
                translations: {ROOT / "book" / "_ext"}
            """
        ),
        encoding="utf-8",
    )
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/page\n")
    (root / "book" / "intro.md").write_text("# Tiny\n\nA first paragraph with $x^2$.\n", encoding="utf-8")
    (root / "book" / "page.md").write_text(
        "# Page\n\nThe mean is $\\mu$.\n\n$$\na = b\n$$\n\nIncluded text.\n", encoding="utf-8"
    )
    ui = root / "locales" / "zh_CN" / "LC_MESSAGES"
    ui.mkdir(parents=True)
    shutil.copy(ROOT / "locales" / "zh_CN" / "LC_MESSAGES" / "ui.po", ui / "ui.po")


def test_update_marks_an_edited_paragraph_fuzzy_and_check_catches_it(tmp_path: Path):
    _tiny_book(tmp_path)
    pots = i18n.update(tmp_path, tmp_path / "_build" / "gettext")
    assert sorted(pots) == ["book/intro", "book/page"]
    page = tmp_path / "locales" / "zh_CN" / "LC_MESSAGES" / "book" / "page.po"
    po = polib.pofile(str(page))
    assert [e.msgid for e in po] == ["Page", "The mean is $\\mu$.", "Included text."]  # no display math
    for entry in po:
        entry.msgstr = {
            "Page": "页面",
            "The mean is $\\mu$.": "均值为 $\\mu$。",
            "Included text.": "包含的文字。",
        }[entry.msgid]
    po.save()
    stats = i18n.check_catalogs(tmp_path, pots)
    assert [p for p in stats.problems if "page.po" in p] == []

    source = tmp_path / "book" / "page.md"
    source.write_text(source.read_text(encoding="utf-8").replace("The mean is", "The sample mean is"))
    pots = i18n.update(tmp_path, tmp_path / "_build" / "gettext")
    entry = polib.pofile(str(page)).find("The sample mean is $\\mu$.")
    assert entry is not None and entry.fuzzy
    assert entry.msgstr == "均值为 $\\mu$。" and entry.previous_msgid == "The mean is $\\mu$."
    stats = i18n.check_catalogs(tmp_path, pots)
    assert stats.of_kind("fuzzy") == [
        "locales/zh_CN/LC_MESSAGES/book/page.po: fuzzy (the English changed): 'The sample mean is $\\\\mu$.'"
    ]
