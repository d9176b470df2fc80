"""Each failure mode of ``scripts/site_check.py`` shown on a small fixture site in headless Chromium.

Run by ``make site-test`` (it needs Debian's ``chromium`` and the MathJax copy in ``_mathjax/``).
"""

from __future__ import annotations

import base64
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import site_check  # noqa: E402

MATHJAX = ROOT / "_mathjax" / "mathjax"
# A 1×1 PNG, so the fixture has a real image that loads.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def _page(body: str) -> str:
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        # As in the built book: MathJax typesets only elements of class "math", never raw page text.
        "<script>window.MathJax = {options: {processHtmlClass: 'math', ignoreHtmlClass: 'document'}};"
        "</script>"
        "<script defer src='_static/mathjax/tex-mml-chtml.js'></script></head>"
        f"<body class='document'><h1 id='top'>Fixture</h1>{body}</body></html>"
    )


GOOD = _page(
    "<p>Inline <span class='math notranslate nohighlight'>\\(x^2 + y^2\\)</span>.</p>"
    "<div class='math notranslate nohighlight'>\\[\\begin{aligned} a &= b \\end{aligned}\\]</div>"
    "<img src='pixel.png' alt='pixel'><a href='other.html#sec'>other</a> <a href='#top'>top</a>"
    "<pre>code may contain $$ and \\begin{x} freely</pre>"
)
OTHER = _page("<h2 id='sec'>Section</h2><a href='index.html'>back</a>")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    if not MATHJAX.exists():
        pytest.fail("MathJax copy missing: run `make site-test` (it installs MathJax into _mathjax/)")
    shutil.copytree(MATHJAX, tmp_path / "_static" / "mathjax")
    (tmp_path / "pixel.png").write_bytes(PIXEL)
    (tmp_path / "index.html").write_text(GOOD, encoding="utf-8")
    (tmp_path / "other.html").write_text(OTHER, encoding="utf-8")
    return tmp_path


def _problems(site: Path) -> list[str]:
    return site_check.check_site(site).problems


def test_sound_fixture_passes_with_counts(site: Path):
    report = site_check.check_site(site)
    assert report.problems == []
    assert (report.pages, report.images, report.equations) == (2, 1, 2)
    assert report.links == 3


def test_untypeset_raw_tex_is_caught(site: Path):
    (site / "raw.html").write_text(_page("<p>Forgot the math role: $$E = mc^2$$</p>"), encoding="utf-8")
    assert any("raw.html: raw TeX '$$'" in p for p in _problems(site))


def test_mathjax_error_is_caught(site: Path):
    bad = "<span class='math notranslate nohighlight'>\\(\\begin{nosuchenv} x \\end{nosuchenv}\\)</span>"
    (site / "merror.html").write_text(_page(bad), encoding="utf-8")
    assert any(p.startswith("merror.html: MathJax error") for p in _problems(site))


def test_math_without_mathjax_is_caught(site: Path):
    page = "<html><body><span class='math'>\\(x\\)</span></body></html>"
    (site / "nomj.html").write_text(page, encoding="utf-8")
    problems = _problems(site)
    assert any("nomj.html: 1 equations but MathJax did not load" in p for p in problems)
    assert any("nomj.html: equation not typeset" in p for p in problems)


def test_broken_image_is_caught(site: Path):
    (site / "img.html").write_text(_page("<img src='missing.png' alt='gone'>"), encoding="utf-8")
    assert "img.html: image did not load: missing.png" in _problems(site)


def test_dead_link_and_missing_anchor_are_caught(site: Path):
    links = "<a href='nowhere.html'>x</a><a href='other.html#nope'>y</a>"
    (site / "links.html").write_text(_page(links), encoding="utf-8")
    problems = _problems(site)
    assert "links.html: dead link 'nowhere.html'" in problems
    assert "links.html: link 'other.html#nope' points at a missing anchor #nope" in problems


def test_javascript_error_and_external_request_are_caught(site: Path):
    body = "<script>notDefinedAnywhere();</script><img src='https://example.org/x.png' alt='remote'>"
    (site / "js.html").write_text(_page(body), encoding="utf-8")
    problems = _problems(site)
    assert any(p.startswith("js.html: JavaScript error") and "notDefinedAnywhere" in p for p in problems)
    assert any(p.startswith("js.html: request leaves localhost: https://example.org/x.png") for p in problems)


def test_launch_links_follow_the_config():
    config = {
        "repository": {"url": "https://github.com/org/book", "branch": "dev"},
        "launch_buttons": {
            "binderhub_url": "https://mybinder.org",
            "colab_url": "https://colab.research.google.com",
            "notebook_interface": "jupyterlab",
        },
    }
    assert site_check.expected_launch_links(config, "book/mad") == {
        "binder": "https://mybinder.org/v2/gh/org/book/dev?urlpath=lab/tree/book/mad.ipynb",
        "colab": "https://colab.research.google.com/github/org/book/blob/dev/book/mad.ipynb",
    }


def test_missing_site_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ValueError, match="site"):
        site_check.check_site(tmp_path)


def test_code_that_scrolls_sideways_is_caught(site: Path):
    long = "x = " + "1 + " * 60 + "1"
    claim = "✓ label · identity · " + "error 1e-3 " * 25
    body = (
        f"<div class='cell_input'><div class='highlight'><pre>{long}</pre></div></div>"
        f"<div class='cell_output'><div class='highlight'><pre>{claim}</pre></div></div>"
        "<div class='highlight'><pre>short code fits</pre></div>"
    )
    (site / "wide.html").write_text(_page(body), encoding="utf-8")
    report = site_check.check_site(site)
    wide = [p for p in report.problems if "scrolls sideways" in p]
    assert len(wide) == 2, report.problems
    assert wide[0].startswith("wide.html: code cell scrolls sideways") and "x = 1 + 1" in wide[0]
    assert wide[1].startswith("wide.html: claim output scrolls sideways")
    assert report.code_blocks == 3 and report.columns and report.columns > 20


def _bilingual_page(lang: str, switch: str | None, text: str) -> str:
    link = f"<a class='btn kexue-lang-switch' href='{switch}'>switch</a>" if switch else ""
    head = f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'></head>"
    return f"{head}<body>{link}<p>{text}</p></body></html>"


@pytest.fixture
def bilingual(tmp_path: Path) -> Path:
    """An English page and its Chinese counterpart in zh/, each with a language switch to the other."""
    (tmp_path / "book").mkdir()
    (tmp_path / "zh" / "book").mkdir(parents=True)
    (tmp_path / "index.html").write_text(_bilingual_page("en", "zh/index.html", "Home"), encoding="utf-8")
    (tmp_path / "zh" / "index.html").write_text(
        _bilingual_page("zh-CN", "../index.html", "首页"), encoding="utf-8"
    )
    (tmp_path / "book" / "a.html").write_text(
        _bilingual_page("en", "../zh/book/a.html", "A"), encoding="utf-8"
    )
    (tmp_path / "zh" / "book" / "a.html").write_text(
        _bilingual_page("zh-CN", "../../book/a.html", "中文验证"), encoding="utf-8"
    )
    return tmp_path


def test_bilingual_site_passes(bilingual: Path):
    report = site_check.check_site(bilingual)
    assert report.problems == []
    assert report.languages == {"en": 2, "zh-CN": 2}
    assert report.switches == 4


def test_missing_wrong_or_one_way_language_switch_is_caught(bilingual: Path):
    page = bilingual / "zh" / "book" / "a.html"
    page.write_text(_bilingual_page("zh-CN", None, "中文"), encoding="utf-8")
    (bilingual / "zh" / "index.html").write_text(
        _bilingual_page("zh-CN", "../book/a.html", "首页"), encoding="utf-8"
    )
    problems = site_check.check_site(bilingual).problems
    assert "zh/book/a.html: no language switch to book/a.html (found none)" in problems
    assert "zh/book/a.html: its language switch does not lead back to book/a.html" in problems
    assert "zh/index.html: no language switch to index.html (found ['book/a.html'])" in problems


def test_wrong_page_language_is_caught(bilingual: Path):
    (bilingual / "zh" / "index.html").write_text(
        _bilingual_page("en", "../index.html", "首页"), encoding="utf-8"
    )
    assert "zh/index.html: <html lang='en'>, expected 'zh-CN'" in site_check.check_site(bilingual).problems
