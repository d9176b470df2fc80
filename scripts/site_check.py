"""Open every page of the built book in headless Chromium and check what a reader sees.

Usage (``make site-test`` runs it after building the book in both languages)::

    python scripts/site_check.py _build/html --screenshots _build/screenshots

The English site is ``_build/html``; each translation is a subfolder of it (the Chinese edition is
``_build/html/zh``, see ``scripts/i18n.py``), and every page of every language is checked alike.
For every HTML page the site is served on localhost (nothing else is reachable: any request that
leaves localhost is blocked and reported) and Chromium, driven by Playwright with the system's
``chromium`` binary, asserts that

* all math is typeset by the site's own MathJax: every ``.math`` element holds an ``mjx-container``,
  no ``mjx-merror`` node exists and no raw ``$$`` / ``\\begin{`` / ``\\(`` is left in the page text;
* every image has loaded (``naturalWidth > 0``);
* no JavaScript error is raised or logged on the console;
* nothing scrolls sideways at the default width (1280 px): no code cell, output (claim lines
  included) or code block is wider than its box (``scrollWidth > clientWidth``), solutions and
  other folded blocks opened;
* on each chapter page (in every language), the Binder and Colab buttons point at that chapter's
  ``.ipynb`` on the configured repository and branch, and the download buttons deliver the
  ``.ipynb`` and ``.md``;
* on a translated page, the text is drawn with a font that has CJK glyphs (two different
  characters do not render as the same empty box).

Independently of the browser, every internal link and ``#anchor`` of every page is resolved
against the built files, and when the site has translations every page must declare its language
(``<html lang="en">`` / ``"zh-CN"``) and carry a language switch whose link is the same page in the
other language, and back. A screenshot of each chapter's first screen in every language (and one
in dark mode) is saved. The script prints the number of pages, images, equations, code blocks and
links checked, lists every problem, and exits with status 1 if there is any.
"""

from __future__ import annotations

import argparse
import functools
import html.parser
import http.server
import importlib.util
import json
import os
import re
import shutil
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {"_static", "_sources", "_images", "_sphinx_design_static"}


def _book_languages() -> dict[str, tuple[str, str, str]]:
    """Language → (subfolder of the site, …), as ``book/_ext/lang_switch.py`` builds the book."""
    spec = importlib.util.spec_from_file_location(
        "kexue_lang_switch", ROOT / "book" / "_ext" / "lang_switch.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.LANGUAGES  # type: ignore[no-any-return]


#: subfolder of the site → the ``<html lang>`` its pages declare ("" is the English site itself)
SITE_LANGUAGES = {
    subdir: language.replace("_", "-") for language, (subdir, _, _) in _book_languages().items()
}


@dataclass
class Report:
    """Counts of what was checked, and every problem found (empty when the site is sound)."""

    pages: int = 0
    images: int = 0
    equations: int = 0
    links: int = 0
    chapters: int = 0
    code_blocks: int = 0
    switches: int = 0
    columns: int | None = None  # characters of the code font that fit in the narrowest code box
    languages: dict[str, int] = field(default_factory=dict)  # <html lang> → pages
    screenshots: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        per_language = ", ".join(f"{n} {lang}" for lang, n in sorted(self.languages.items()))
        return (
            f"site check: {self.pages} pages ({per_language or 'no language declared'}), "
            f"{self.images} images, "
            f"{self.equations} equations, {self.code_blocks} code blocks (they fit {self.columns} columns), "
            f"{self.links} internal links, "
            f"{self.switches} language switches, {self.chapters} chapters' launch/download buttons; "
            f"{len(self.problems)} problems"
        )


class _LinkParser(html.parser.HTMLParser):
    """Collects element ids and the targets of ``<a href>`` of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.switches: list[str] = []  # hrefs of the language switch (book/_ext/lang_switch.py)
        self.lang: str | None = None
        self.redirect: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang")
        if tag == "a" and "kexue-lang-switch" in (attributes.get("class") or "").split():
            self.switches.append(str(attributes.get("href") or ""))
        if tag == "meta" and (attributes.get("http-equiv") or "").lower() == "refresh":
            content = attributes.get("content") or ""
            if "url=" in content.lower():
                self.redirect = content[content.lower().index("url=") + 4 :].strip()
                self.hrefs.append(self.redirect)
        for key in ("id", "name"):
            if attributes.get(key) and (key == "id" or tag == "a"):
                self.ids.add(str(attributes[key]))
        if tag == "a" and attributes.get("href") is not None:
            self.hrefs.append(str(attributes["href"]))


def html_pages(site: Path) -> list[Path]:
    """All HTML pages a reader can open (theme assets and sources excluded)."""
    pages = []
    for path in sorted(site.rglob("*.html")):
        if not SKIP_DIRS.intersection(path.relative_to(site).parts[:-1]):
            pages.append(path)
    return pages


@functools.cache
def _parse(path: Path) -> _LinkParser:
    parser = _LinkParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def check_internal_links(site: Path, pages: list[Path], report: Report) -> None:
    """Resolve every internal ``href`` (file and ``#anchor``) of every page against the built files."""
    parse = _parse
    for page in pages:
        for href in parse(page).hrefs:
            url = urllib.parse.urlsplit(href)
            if url.scheme or url.netloc or href.startswith(("mailto:", "javascript:")):
                continue  # external: not reachable offline, not checked here
            report.links += 1
            target = page if not url.path else (page.parent / urllib.parse.unquote(url.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            where = page.relative_to(site)
            if not target.exists():
                report.problems.append(f"{where}: dead link {href!r}")
                continue
            fragment = urllib.parse.unquote(url.fragment)
            if fragment and target.suffix == ".html" and fragment not in parse(target).ids:
                report.problems.append(f"{where}: link {href!r} points at a missing anchor #{fragment}")


def page_language(site: Path, page: Path) -> tuple[str, str]:
    """(subfolder of the site holding the page's language, page path within that language's site)."""
    parts = page.relative_to(site).parts
    if len(parts) > 1 and parts[0] in SITE_LANGUAGES and parts[0]:
        return parts[0], "/".join(parts[1:])
    return "", "/".join(parts)


def check_languages(site: Path, pages: list[Path], report: Report) -> None:
    """Each page declares its language, and links the same page in every other language, both ways.

    Checked only when the site has a translation (a subfolder listed in ``SITE_LANGUAGES``).
    """
    present = [d for d in SITE_LANGUAGES if not d or (site / d / "index.html").exists()]
    for page in pages:
        subdir, rel = page_language(site, page)
        lang = _parse(page).lang
        report.languages[lang or "?"] = report.languages.get(lang or "?", 0) + 1
        if len(present) < 2:
            continue
        where = page.relative_to(site)
        if lang != SITE_LANGUAGES[subdir]:
            report.problems.append(f"{where}: <html lang={lang!r}>, expected {SITE_LANGUAGES[subdir]!r}")
        targets = {
            (page.parent / urllib.parse.unquote(urllib.parse.urlsplit(href).path)).resolve()
            for href in _parse(page).switches
        }
        for other in present:
            if other == subdir:
                continue
            counterpart = (site / other / rel).resolve()
            if counterpart not in targets:
                found = sorted(
                    str(t.relative_to(site.resolve())) for t in targets if t.is_relative_to(site.resolve())
                )
                report.problems.append(
                    f"{where}: no language switch to {counterpart.relative_to(site.resolve())}"
                    f" (found {found or 'none'})"
                )
                continue
            report.switches += 1
            if not counterpart.exists():
                continue  # reported as a dead link
            back = {
                (counterpart.parent / urllib.parse.unquote(urllib.parse.urlsplit(h).path)).resolve()
                for h in _parse(counterpart).switches
            }
            if page.resolve() not in back:
                report.problems.append(
                    f"{counterpart.relative_to(site.resolve())}: its language switch does "
                    f"not lead back to {where}"
                )


@contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve ``site`` on an ephemeral localhost port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


_PAGE_PROBE = """
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const math = Array.from(document.querySelectorAll('.math'));
  const clone = document.body.cloneNode(true);
  const skip = 'pre, code, script, style, .highlight, mjx-container, .math';
  clone.querySelectorAll(skip).forEach(e => e.remove());
  const text = clone.textContent;
  const raw = ['$$', '\\\\begin{', '\\\\(', '\\\\['].filter(s => text.includes(s));
  return {
    mathjax: !!(window.MathJax && MathJax.startup),
    math: math.length,
    untypeset: math.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 60)),
    merrors: Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent.slice(0, 60)),
    raw: raw,
    images: Array.from(document.images).map(
      i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0})),
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
  };
}
"""


# Two different CJK characters drawn in the page's body font: identical pixels mean both fell back to
# the same empty box (no CJK font available to the browser).
_CJK_PROBE = """
() => {
  const font = getComputedStyle(document.querySelector('article') || document.body).fontFamily;
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 40;
  const g = canvas.getContext('2d');
  const draw = (text) => {
    g.clearRect(0, 0, 64, 40); g.font = `28px ${font}`; g.fillStyle = '#000'; g.fillText(text, 4, 32);
    return Array.from(g.getImageData(0, 0, 64, 40).data).join(',');
  };
  const a = draw('中'), b = draw('验'), blank = draw('');
  return {font: font, glyphs: a !== b && a !== blank && b !== blank};
}
"""

# Every code block (code cell, output, code in the text), with folded blocks (solutions) opened: the
# ones wider than their box scroll sideways.
_OVERFLOW_PROBE = """
() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
  const blocks = Array.from(document.querySelectorAll('div.highlight pre'));
  const kind = (pre) => {
    if (pre.closest('.cell_input')) return 'code cell';
    if (pre.closest('.cell_output')) {
      return /^[✓✗] /m.test(pre.textContent) ? 'claim output' : 'output';
    }
    return 'code block';
  };
  // How many characters of the code font fit in the narrowest code box of the page.
  let columns = null;
  for (const pre of blocks) {
    if (!pre.clientWidth) continue;
    const probe = document.createElement('span');
    probe.textContent = '0'.repeat(100);
    pre.appendChild(probe);
    const style = getComputedStyle(pre);
    const inner = pre.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const fit = Math.floor(inner / (probe.getBoundingClientRect().width / 100));
    probe.remove();
    columns = columns === null ? fit : Math.min(columns, fit);
  }
  return {
    blocks: blocks.length,
    columns: columns,
    wide: blocks.filter(p => p.scrollWidth > p.clientWidth + 1).map(p => ({
      kind: kind(p),
      excess: p.scrollWidth - p.clientWidth,
      width: p.clientWidth,
      line: p.textContent.split('\\n').reduce((a, b) => (b.length > a.length ? b : a), '').slice(0, 100),
    })),
  };
}
"""


def expected_launch_links(config: dict, chapter: str) -> dict[str, str]:
    """The Binder and Colab URLs a chapter page must carry, from ``_config.yml``."""
    repo = config["repository"]["url"].rstrip("/")
    branch = config["repository"].get("branch", "main")
    org_repo = urllib.parse.urlsplit(repo).path.strip("/")
    binder = config["launch_buttons"]["binderhub_url"].rstrip("/")
    colab = config["launch_buttons"]["colab_url"].rstrip("/")
    notebook = f"{chapter}.ipynb"
    interface = {"jupyterlab": "lab/tree/", "classic": "tree/"}[
        config["launch_buttons"]["notebook_interface"]
    ]
    return {
        "binder": f"{binder}/v2/gh/{org_repo}/{branch}?urlpath={interface}{notebook}",
        "colab": f"{colab}/github/{org_repo}/blob/{branch}/{notebook}",
    }


def check_in_browser(
    site: Path,
    pages: list[Path],
    report: Report,
    *,
    chapters: list[str],
    config: dict | None,
    screenshots: Path | None,
    chromium: str,
) -> None:
    """Open every page in headless Chromium; see the module docstring for what is asserted."""
    from playwright.sync_api import sync_playwright

    with serve(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        for dark in (False, True):
            if dark and not (screenshots and chapters):
                break
            context = browser.new_context(
                viewport={"width": 1280, "height": 900}, color_scheme="dark" if dark else "light"
            )
            if dark:
                context.add_init_script(
                    "localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');"
                )
            targets = [site / f"{chapters[0]}.html"] if dark else pages
            for page_path in targets:
                _check_page(context, base, site, page_path, report, chapters, config, screenshots, dark)
            context.close()
        browser.close()


def _check_page(context, base, site, page_path, report, chapters, config, screenshots, dark) -> None:
    rel = page_path.relative_to(site).as_posix()
    subdir, rel_in_language = page_language(site, page_path)
    chapter = rel_in_language[: -len(".html")] if rel_in_language[: -len(".html")] in chapters else None
    errors: list[str] = []
    page = context.new_page()
    page.on(
        "console",
        lambda msg: errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: errors.append(f"JavaScript error: {exc}"))

    def route(r) -> None:
        host = urllib.parse.urlsplit(r.request.url).hostname
        if host in ("127.0.0.1", "localhost") or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            errors.append(f"request leaves localhost: {r.request.url[:120]}")
            r.abort()

    page.route("**/*", route)
    page.goto(base + rel, wait_until="load")
    probe = page.evaluate(_PAGE_PROBE)
    if not dark:
        report.pages += 1
        report.equations += probe["math"]
        report.images += len(probe["images"])
        if probe["math"] and not probe["mathjax"]:
            errors.append(f"{probe['math']} equations but MathJax did not load")
        errors += [f"equation not typeset: {t!r}" for t in probe["untypeset"]]
        errors += [f"MathJax error in equation: {t!r}" for t in probe["merrors"]]
        errors += [f"raw TeX {s!r} left in the page text" for s in probe["raw"]]
        errors += [f"image did not load: {i['src']}" for i in probe["images"] if not i["ok"]]
        if subdir:
            cjk = page.evaluate(_CJK_PROBE)
            if not cjk["glyphs"]:
                errors.append(f"no CJK font: Chinese characters render as empty boxes (font {cjk['font']!r})")
        if chapter and config is not None:
            report.chapters += 1
            errors += _check_buttons(page, base, chapter, config, probe["links"])
    if screenshots is not None and chapter:
        screenshots.mkdir(parents=True, exist_ok=True)
        shot = screenshots / (rel[: -len(".html")].replace("/", "_") + ("-dark" if dark else "") + ".png")
        page.screenshot(path=str(shot))
        report.screenshots.append(str(shot))
    if not dark:
        overflow = page.evaluate(_OVERFLOW_PROBE)
        report.code_blocks += overflow["blocks"]
        if overflow["columns"] is not None:
            report.columns = min(report.columns or overflow["columns"], overflow["columns"])
        errors += [
            f"{w['kind']} scrolls sideways ({w['excess']} px wider than its {w['width']} px box): "
            f"{w['line']!r}"
            for w in overflow["wide"]
        ]
    page.close()
    report.problems += [f"{rel}: {e}" for e in errors]


def _check_buttons(page, base: str, chapter: str, config: dict, links: list[str]) -> list[str]:
    problems = []
    for name, url in expected_launch_links(config, chapter).items():
        if url not in links:
            found = [link for link in links if name in link]
            problems.append(f"{name} button should open {url}, found {found}")
    if not (ROOT / f"{chapter}.ipynb").exists():
        problems.append(f"launch buttons point at {chapter}.ipynb, which is not in the repository")
    for suffix in (".ipynb", ".md"):
        wanted = [
            link
            for link in links
            if link.startswith(base) and link.split("?")[0].endswith(f"{chapter}{suffix}")
        ]
        if not wanted:
            problems.append(f"no download button for the {suffix} file")
            continue
        response = page.request.get(wanted[0])
        body = response.body().decode("utf-8", errors="replace")
        if response.status != 200:
            problems.append(f"download of {suffix} returned HTTP {response.status}")
        elif suffix == ".ipynb" and "cells" not in json.loads(body):
            problems.append("downloaded .ipynb is not a notebook")
        elif suffix == ".md" and "jupytext" not in body[:300]:
            problems.append("downloaded .md is not the chapter's MyST notebook source")
    return problems


def chromium_executable() -> str:
    """Path of the system Chromium (Debian's ``chromium``); never a browser Playwright downloads."""
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and (path := shutil.which(candidate)):
            return path
    raise SystemExit("site check: no Chromium found (install Debian's 'chromium' or set CHROMIUM=/path)")


def chapter_names(root: Path = ROOT) -> list[str]:
    """Docnames (``book/<name>``) of the Jupytext chapters listed in ``_toc.yml``."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [f for f in files if (root / f"{f}.md").read_text(encoding="utf-8").startswith("---\njupytext:")]


def check_site(
    site: Path,
    *,
    chapters: list[str] | None = None,
    config: dict | None = None,
    screenshots: Path | None = None,
    chromium: str | None = None,
) -> Report:
    """Return the :class:`Report` of checking the built site in ``site`` (see the module docstring)."""
    site = Path(site)
    if not (site / "index.html").exists():
        raise ValueError(f"site: {site} has no index.html — build the book first")
    report = Report()
    _parse.cache_clear()
    pages = html_pages(site)
    check_internal_links(site, pages, report)
    # Redirect stubs (a meta refresh, e.g. the root index.html) have their target checked as a link above.
    refresh = re.compile(r"<meta[^>]+http-equiv=[\"']refresh", re.IGNORECASE)
    browsed = [p for p in pages if not refresh.search(p.read_text(encoding="utf-8", errors="replace"))]
    check_languages(site, browsed, report)
    check_in_browser(
        site,
        browsed,
        report,
        chapters=chapters or [],
        config=config,
        screenshots=screenshots,
        chromium=chromium or chromium_executable(),
    )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("site", type=Path, help="the built HTML folder, e.g. _build/html")
    parser.add_argument("--screenshots", type=Path, default=None, help="folder for chapter screenshots")
    args = parser.parse_args(argv)
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    report = check_site(args.site, chapters=chapter_names(), config=config, screenshots=args.screenshots)
    for problem in report.problems:
        print("  ✗", problem)
    for shot in report.screenshots:
        print("  screenshot:", shot)
    print(report.summary())
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
