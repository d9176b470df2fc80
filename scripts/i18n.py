"""The book in Chinese: message catalogs kept in step with the English text, and the Chinese site.

Usage, from the repository root (``make translations`` runs ``update``; ``make book`` runs ``build``
after the English build)::

    python scripts/i18n.py update   # English text → _build/gettext/*.pot → locales/zh_CN/LC_MESSAGES/**.po
    python scripts/i18n.py check    # every message translated, none fuzzy, catalogs in step, math kept
    python scripts/i18n.py build    # the Chinese site, _build/html/zh, from the English build's notebooks

**Messages.** Sphinx's gettext builder cuts every page into messages: each paragraph, heading, list
item, caption, admonition, theorem, proof, exercise and solution, in its MyST source form (inline
math, roles such as ``{eq}`` or ``{glue:text}`` and code spans included). Display math, code cells
and their outputs (claim lines among them) are not messages: they stay exactly as in English.
Messages are extracted from the executed ``book/<chapter>.ipynb`` (figure captions live in cell
metadata and appear only with the outputs), without executing anything (about 5 s).
A page that includes another page's text (Errata includes each chapter's errata section) does not
repeat those messages: they are translated once, in the chapter's catalog, and reused.

**update** merges the fresh messages into the catalogs with sphinx-intl: a new paragraph arrives
untranslated, an edited one is marked *fuzzy* (its old translation kept as a draft), a deleted one
is dropped; then it checks. **check** fails on any untranslated or fuzzy message, on catalogs that
are not in step with the English (it extracts the messages again and compares), on a translation
that changed the math, a role or code of its message, and on a missing entry of ``ui.po`` (the
book's title and footer, the headers of generated tables). ``tests/test_i18n.py`` runs it. A page
listed in ``locales/zh_CN/pending.txt`` is being translated: its gaps are reported, not failed.

**build** compiles the catalogs and runs Sphinx with ``language = zh_CN`` on the same sources, with
MyST-NB reading every notebook's outputs from the English build's jupyter-cache
(``_build/.jupyter_cache``): nothing is executed a second time. Before building, every notebook is
matched against the cache, and the build stops if one is missing (the English build is stale or
failed); after it, the log must show a cache hit for every notebook and no execution. Like the
English build it fails on any warning, and ``book/_ext/translations.py`` turns every paragraph
left in English into a warning (except on pending pages, which carry a note instead). The site is
written to ``_build/zh/html`` and copied to ``_build/html/zh``, next to the English pages it links
to. Jupyter Book v1 cannot pass ``-D language=`` (jupyter-book issue #1791); this script calls the
same ``build_sphinx`` function as ``jupyter-book build``, with the language settings as
configuration overrides.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polib
import yaml
from babel.messages.catalog import Catalog

ROOT = Path(__file__).resolve().parents[1]
LANGUAGE = "zh_CN"
SITE_SUBDIR = "zh"  # the Chinese site is _build/html/zh (see book/_ext/lang_switch.py)
UI_DOMAIN = "ui"  # strings that are not on a page: title, footer, table headers (book/_ext/translations.py)

#: Settings of the Chinese build that are not messages of a page.
LANGUAGE_CONFIG: dict[str, object] = {
    "numfig_format": {"figure": "图 %s", "table": "表 %s", "code-block": "代码 %s", "section": "第 %s 节"},
    "math_eqref_format": "式 ({number})",
    "togglebutton_hint": "点击显示",
    "togglebutton_hint_hide": "点击隐藏",
}


# --------------------------------------------------------------------------------------------------
# Running Sphinx the way `jupyter-book build` does


class _Tee(io.TextIOBase):
    """A status stream that keeps a copy of everything Sphinx logs (and echoes it unless quiet)."""

    def __init__(self, echo: bool) -> None:
        self.echo = echo
        self.lines: list[str] = []

    def write(self, text: str) -> int:
        self.lines.append(text)
        if self.echo:
            sys.__stdout__.write(text)
        return len(text)

    def isatty(self) -> bool:
        return False

    def text(self) -> str:
        return "".join(self.lines)


def paired_chapters(root: Path) -> list[Path]:
    """The Jupytext chapters (``book/<name>.md`` with an executed ``book/<name>.ipynb``)."""
    return sorted(
        md
        for md in (root / "book").glob("*.md")
        if md.read_text(encoding="utf-8").startswith("---\njupytext:") and md.with_suffix(".ipynb").exists()
    )


def run_sphinx(
    root: Path,
    outdir: Path,
    doctrees: Path,
    builder: str,
    overrides: dict[str, object],
    *,
    strict: bool = False,
    echo: bool = True,
) -> tuple[int, str, str]:
    """Build ``root`` with Jupyter Book's configuration plus ``overrides``; (status, log, warnings)."""
    from jupyter_book.sphinx import build_sphinx

    config = {
        "external_toc_path": (root / "_toc.yml").as_posix(),
        "latex_individualpages": False,
        "gettext_compact": False,  # one catalog per page: book/<page>.po
        **overrides,
    }
    status, warnings = _Tee(echo), _Tee(echo)
    with contextlib.redirect_stdout(status), contextlib.redirect_stderr(warnings):
        result = build_sphinx(
            root,
            outdir,
            noconfig=True,
            path_config=str(root / "_config.yml"),
            confoverrides=config,
            doctreedir=doctrees,
            builder=builder,
            freshenv=True,
            warningiserror=strict,
            keep_going=strict,
        )
    code = result if isinstance(result, int) else 1
    if isinstance(result, Exception):
        warnings.write(f"{type(result).__name__}: {result}\n")
    return code, status.text(), warnings.text()


# --------------------------------------------------------------------------------------------------
# Extraction: English text → .pot


def _domain_of(path: Path, root: Path) -> str:
    return path.resolve().relative_to(root.resolve()).with_suffix("").as_posix()


def extract(root: Path, out: Path, *, echo: bool = False) -> dict[str, polib.POFile]:
    """Extract the messages of every page into ``out/<page>.pot``; returns page → catalog template."""
    out = Path(out)
    chapters = paired_chapters(root)
    user = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    notebooks = {md.with_suffix(".ipynb").relative_to(root).as_posix() for md in chapters}
    from sphinx.util.matching import Matcher

    exclude = [p for p in user.get("exclude_patterns", []) if not any(Matcher([p])(nb) for nb in notebooks)]
    exclude += [md.relative_to(root).as_posix() for md in chapters]
    if out.exists():
        shutil.rmtree(out)
    with tempfile.TemporaryDirectory(prefix="kexue-gettext-") as work:
        code, _log, warnings = run_sphinx(
            root,
            Path(work) / "gettext",
            Path(work) / "doctrees",
            "gettext",
            {"exclude_patterns": exclude, "nb_execution_mode": "off"},
            echo=echo,
        )
        if code:
            raise RuntimeError(f"message extraction failed:\n{warnings[-3000:]}")
        pots = {
            _domain_of(pot.with_suffix(""), Path(work) / "gettext"): polib.pofile(str(pot))
            for pot in sorted((Path(work) / "gettext").rglob("*.pot"))
        }
        for pot in pots.values():
            for entry in pot:
                entry.occurrences = [
                    (_source_domain(Path(work) / "gettext", f, root), line) for f, line in entry.occurrences
                ]
    _drop_included(pots)
    for domain, pot in pots.items():
        for entry in pot:
            entry.occurrences = []
        pot.metadata = {
            "Project-Id-Version": "kexue notes",
            "MIME-Version": "1.0",
            "Content-Type": "text/plain; charset=UTF-8",
            "Content-Transfer-Encoding": "8bit",
        }
        pot.header = f"Messages of the page {domain} of kexue notes, extracted by scripts/i18n.py update."
        target = out / f"{domain}.pot"
        target.parent.mkdir(parents=True, exist_ok=True)
        pot.save(str(target))
    return pots


def _source_domain(potdir: Path, occurrence: str, root: Path) -> str:
    """The page (``book/mad``) whose source file holds an occurrence ``../../book/mad.md``."""
    path = (potdir / occurrence).resolve()
    try:
        return _domain_of(path, root)
    except ValueError:
        return occurrence


def _drop_included(pots: dict[str, polib.POFile]) -> None:
    """A message written in another page's source (an ``{include}``) belongs to that page's catalog."""
    for domain, pot in pots.items():
        for entry in list(pot):
            owners = {where for where, _ in entry.occurrences}
            if owners and domain not in owners and all(owner in pots for owner in owners):
                pot.remove(entry)


# --------------------------------------------------------------------------------------------------
# update: .pot → .po (sphinx-intl)


def locale_dir(root: Path) -> Path:
    return root / "locales"


def pending_pages(root: Path) -> list[str]:
    """Pages whose translation is not finished (``locales/zh_CN/pending.txt``, one docname a line)."""
    path = locale_dir(root) / LANGUAGE / "pending.txt"
    if not path.exists():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def catalogs(root: Path) -> dict[str, Path]:
    """Every catalog of the translation: domain (``book/mad``, ``ui``) → its ``.po`` file."""
    base = locale_dir(root) / LANGUAGE / "LC_MESSAGES"
    return {po.relative_to(base).with_suffix("").as_posix(): po for po in sorted(base.rglob("*.po"))}


def update(root: Path, potdir: Path) -> dict[str, polib.POFile]:
    """Extract, then merge the messages into the catalogs with sphinx-intl; returns the templates.

    This is ``sphinx-intl update -p <potdir> -l zh_CN -d locales --no-obsolete`` (sphinx-intl's own
    load and merge: Babel's fuzzy matching), with the result written by polib so that a fuzzy
    message keeps the English it was translated from as a ``#| msgid`` comment (Babel 2.18 writes
    long ones unreadably) and the files carry no timestamps: unchanged text leaves them unchanged.
    """
    from sphinx_intl import catalog as intl

    pots = extract(root, potdir)
    base = locale_dir(root) / LANGUAGE / "LC_MESSAGES"
    for domain in pots:
        template = intl.load_po(str(potdir / f"{domain}.pot"))
        path = base / f"{domain}.po"
        if path.exists():
            catalog = intl.load_po(str(path))
            before = {m.id for m in catalog if m.id}
            intl.update_with_fuzzy(catalog, template)
            after = {m.id for m in catalog if m.id}
            change = f"+{len(after - before)} -{len(before - after)} messages"
        else:
            catalog, change = template, f"created, {len(template)} messages"
        text = _po_text(catalog, domain)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"update {path.relative_to(root)}: {change}")
    for domain in sorted(set(catalogs(root)) - set(pots) - {UI_DOMAIN}):
        print(f"note: {catalogs(root)[domain]} has no page any more (remove it if the page was deleted)")
    return pots


def _po_text(catalog: Catalog, domain: str) -> str:
    """The ``.po`` file of ``catalog``: fixed header, obsolete messages dropped, ``#|`` only if fuzzy."""
    po = polib.POFile(wrapwidth=100)
    po.header = (
        f"Chinese translation of the page {domain} of kexue notes.\n"
        "Translate each msgstr; `python scripts/i18n.py update` keeps this file in step with the English."
    )
    po.metadata = {
        "Project-Id-Version": "kexue notes",
        "Language": LANGUAGE,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
    }
    for message in catalog:
        if not message.id:
            continue  # the header
        fuzzy = message.fuzzy
        po.append(
            polib.POEntry(
                msgid=message.id,
                msgstr=message.string or "",
                flags=["fuzzy"] if fuzzy else [],
                previous_msgid=message.previous_id[0] if fuzzy and message.previous_id else None,
                tcomment="\n".join(message.user_comments),
            )
        )
    return str(po).rstrip("\n") + "\n"


# --------------------------------------------------------------------------------------------------
# check: translated, not fuzzy, in step, math/roles/code intact

_MATH = r"\$\$.+?\$\$|\$[^$\s](?:[^$]*?[^$\s])?\$"
_ROLE = r"\{[a-zA-Z][\w:.-]*\}`[^`]+`"
_CODE = r"``.+?``|`[^`]+`"
_LINK = r"\]\([^)\s]+\)"
_TOKENS = re.compile(f"(?P<role>{_ROLE})|(?P<math>{_MATH})|(?P<code>{_CODE})|(?P<link>{_LINK})")


def protected(text: str) -> Counter[str]:
    """The parts of a message a translation must keep verbatim: math, roles, code spans, link targets."""
    return Counter(m.group(0) for m in _TOKENS.finditer(text))


def _unclosed_emphasis(text: str) -> bool:
    """Would ``text`` show a ``*`` as text? (CommonMark closes ``**`` after punctuation only before a
    space or punctuation, so ``**正确：**这`` stays literal: the punctuation belongs outside.)"""
    from markdown_it import MarkdownIt

    if "\\*" in text:
        return False
    plain = _TOKENS.sub("X", text)
    tokens = MarkdownIt("commonmark").parseInline(plain)
    return any(t.type == "text" and "*" in t.content for tok in tokens for t in (tok.children or []))


@dataclass
class Stats:
    """Per-catalog counts and every problem found, by kind (``untranslated``, ``fuzzy``,
    ``out of step``, ``markup``, ``ui``). Completeness problems of a page listed in
    ``pending.txt`` are of kind ``pending`` instead: reported, but not problems."""

    counts: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)  # total, done, fuzzy, empty
    found: list[tuple[str, str]] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    pages: set[str] = field(default_factory=set)  # the book's pages, when checked against the English

    def add(self, kind: str, text: str, domain: str | None = None) -> None:
        if domain in self.pending and kind in ("untranslated", "fuzzy", "out of step"):
            kind = "pending"
        self.found.append((kind, text))

    @property
    def problems(self) -> list[str]:
        return [text for kind, text in self.found if kind != "pending"]

    def of_kind(self, *kinds: str) -> list[str]:
        return [text for kind, text in self.found if kind in kinds]

    def percent(self, domains: list[str] | None = None) -> float:
        rows = [c for d, c in self.counts.items() if domains is None or d in domains]
        total = sum(r[0] for r in rows)
        return 100.0 * sum(r[1] for r in rows) / total if total else 100.0


def check_catalogs(root: Path, pots: dict[str, polib.POFile] | None = None) -> Stats:
    """Check the translations; with ``pots`` (fresh extraction) also check they are in step with them."""
    stats = Stats(pending=pending_pages(root), pages=set(pots or ()))
    found = catalogs(root)
    for domain, path in found.items():
        po = polib.pofile(str(path))
        entries = [e for e in po if not e.obsolete]
        fuzzy = [e for e in entries if e.fuzzy]
        empty = [e for e in entries if not e.fuzzy and not e.msgstr.strip()]
        translated = [e for e in entries if not e.fuzzy and e.msgstr.strip()]
        done = len(translated)
        stats.counts[domain] = (len(entries), done, len(fuzzy), len(empty))
        where = path.relative_to(root)
        for entry in fuzzy:
            stats.add("fuzzy", f"{where}: fuzzy (the English changed): {entry.msgid[:70]!r}", domain)
        for entry in empty:
            stats.add("untranslated", f"{where}: untranslated: {entry.msgid[:70]!r}", domain)
        for entry in translated:
            lost = protected(entry.msgid) - protected(entry.msgstr)
            extra = protected(entry.msgstr) - protected(entry.msgid)
            if lost or extra:
                stats.add(
                    "markup",
                    f"{where}: the translation changes math/roles/code: {sorted(lost)} → {sorted(extra)} "
                    f"in {entry.msgid[:50]!r}",
                )
            if _unclosed_emphasis(entry.msgstr) and not _unclosed_emphasis(entry.msgid):
                stats.add(
                    "markup",
                    f"{where}: emphasis not closed, keep CJK punctuation outside *…* and **…**: "
                    f"{entry.msgstr[:50]!r}",
                )
            if "{glue:md}" in entry.msgstr:
                stats.add("markup", f"{where}: {{glue:md}} cannot be translated, use {{glue:text}}")
        if pots is not None and domain != UI_DOMAIN:
            if domain not in pots:
                stats.add("out of step", f"{where}: no page {domain} any more", domain)
                continue
            english = {e.msgid for e in pots[domain]}
            ours = {e.msgid for e in entries}
            for msgid in sorted(english - ours):
                stats.add(
                    "out of step",
                    f"{where}: new English text, run scripts/i18n.py update: {msgid[:70]!r}",
                    domain,
                )
            for msgid in sorted(ours - english):
                stats.add(
                    "out of step",
                    f"{where}: no longer in the English, run scripts/i18n.py update: {msgid[:70]!r}",
                    domain,
                )
    if pots is not None:
        for domain in sorted(set(pots) - set(found)):
            stats.add("out of step", f"page {domain} has no catalog (run scripts/i18n.py update)", domain)
    for problem in _check_ui(root, found):
        stats.add("ui", problem)
    return stats


def ui_strings(root: Path) -> dict[str, str]:
    """Strings the ``ui`` catalog must translate → where they come from.

    The title, author and footer of ``_config.yml``, and every ``_("…")`` of the book's Sphinx
    extensions (``book/_ext/*.py``, which translate through ``get_translation("ui")``).
    """
    from babel.messages.extract import extract_from_file

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    wanted = {
        config.get("title"): "_config.yml title",
        config.get("author"): "_config.yml author",
        (config.get("html") or {}).get("extra_footer"): "_config.yml html.extra_footer",
    }
    for path in sorted((root / "book" / "_ext").glob("*.py")):
        for _, message, _, _ in extract_from_file("python", str(path), keywords={"_": None}):
            if isinstance(message, str) and message:
                wanted[message] = path.relative_to(root).as_posix()
    return {k: v for k, v in wanted.items() if k}


def _check_ui(root: Path, found: dict[str, Path]) -> list[str]:
    if UI_DOMAIN not in found:
        return [f"no catalog {UI_DOMAIN}.po for the book's title, author, footer and generated tables"]
    ui = {e.msgid for e in polib.pofile(str(found[UI_DOMAIN]))}
    return [
        f"{UI_DOMAIN}.po lacks {s!r} (from {where})" for s, where in ui_strings(root).items() if s not in ui
    ]


def report(stats: Stats) -> str:
    lines = [f"{'catalog':<22} {'messages':>8} {'done':>6} {'fuzzy':>6} {'empty':>6} {'%':>6}"]
    for domain, (total, done, fuzzy, empty) in stats.counts.items():
        pct = 100.0 * done / total if total else 100.0
        note = "  (pending)" if domain in stats.pending else ""
        lines.append(f"{domain:<22} {total:>8} {done:>6} {fuzzy:>6} {empty:>6} {pct:>6.1f}{note}")
    total = [sum(c[i] for c in stats.counts.values()) for i in range(4)]
    lines.append(
        f"{'all':<22} {total[0]:>8} {total[1]:>6} {total[2]:>6} {total[3]:>6} {stats.percent():>6.1f}"
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# build: the Chinese site from the English build's cache


def book_extension(root: Path, name: str) -> Any:
    """The module ``book/_ext/<name>.py`` of the book in ``root`` (loaded from its file)."""
    spec = importlib.util.spec_from_file_location(f"kexue_ext_{name}", root / "book" / "_ext" / f"{name}.py")
    assert spec is not None and spec.loader is not None, name
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compile_catalogs(root: Path, out: Path) -> int:
    """Write one ``.mo`` per page: its own translations first, then the other pages' (for includes).

    A translated paragraph is parsed on its own, outside its notebook, so its glue roles are pointed
    at the notebook (``book/_ext/glue_includes.py``); text a page includes from a notebook is
    rewritten the same way when it is read, so each message is also filed under its rewritten form.
    """
    point_glue_at = book_extension(root, "glue_includes").point_glue_at
    found = catalogs(root)
    translated: dict[str, dict[str, str]] = {}
    for domain, path in found.items():
        source = f"/{domain}.md" if (root / f"{domain}.md").exists() else f"/{domain}.ipynb"
        entries = {}
        for e in polib.pofile(str(path)):
            if not e.translated() or e.obsolete:
                continue
            if domain == UI_DOMAIN:
                entries[e.msgid] = e.msgstr
                continue
            entries[e.msgid] = entries[point_glue_at(e.msgid, source)] = point_glue_at(e.msgstr, source)
        translated[domain] = entries
    base = out / LANGUAGE / "LC_MESSAGES"
    if base.exists():
        shutil.rmtree(base)
    for domain in found:
        merged: dict[str, str] = {}
        if domain != UI_DOMAIN:
            for other, entries in translated.items():
                if other not in (domain, UI_DOMAIN):
                    merged.update(entries)
        merged.update(translated[domain])
        mo = polib.MOFile()
        mo.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Language": LANGUAGE}
        mo.extend(polib.MOEntry(msgid=k, msgstr=v) for k, v in merged.items())
        target = base / f"{domain}.mo"
        target.parent.mkdir(parents=True, exist_ok=True)
        mo.save(str(target))
    return len(found)


def cache_records(root: Path, cache_path: Path) -> dict[str, int | None]:
    """For every notebook page, the jupyter-cache record holding its executed copy (None: not cached).

    The notebook is read from its MyST source and matched by content, as MyST-NB does when it builds.
    """
    from jupyter_cache import get_cache
    from myst_nb.core.read import read_myst_markdown_notebook
    from myst_parser.config.main import MdParserConfig

    cache = get_cache(str(cache_path))
    records: dict[str, int | None] = {}
    for md in sorted((root / "book").glob("*.md")):
        text = md.read_text(encoding="utf-8")
        if not text.startswith("---\njupytext:"):
            continue
        try:
            record = cache.match_cache_notebook(
                read_myst_markdown_notebook(text, MdParserConfig(), path=str(md))
            )
            records[md.relative_to(root).as_posix()] = record.pk
        except KeyError:
            records[md.relative_to(root).as_posix()] = None
    return records


def build(root: Path, build_dir: Path, *, echo: bool = True) -> int:
    """Build the Chinese site into ``build_dir/html/zh``; returns a process exit status."""
    cache = build_dir / ".jupyter_cache"
    if not (build_dir / "html" / "index.html").exists() or not cache.exists():
        print(f"i18n build: no English build in {build_dir} (run `make book` first)", file=sys.stderr)
        return 2
    records = cache_records(root, cache)
    missing = [name for name, record in records.items() if record is None]
    if missing:
        print(
            f"i18n build: no executed copy of {', '.join(missing)} in {cache}: the English build is older "
            "than the source, or failed (run `make book`); the Chinese build never executes a notebook",
            file=sys.stderr,
        )
        return 2
    work = build_dir / SITE_SUBDIR
    compiled = work / "locales"
    compile_catalogs(root, compiled)
    start = time.perf_counter()
    code, log, warnings = run_sphinx(
        root,
        work / "html",
        work / ".doctrees",
        "html",
        {
            "language": LANGUAGE,
            "locale_dirs": [str(compiled.resolve())],
            "gettext_auto_build": False,
            "nb_execution_mode": "cache",
            "nb_execution_cache_path": str(cache.resolve()),
            "nitpicky": True,
            "kexue_translation_pending": pending_pages(root),
            **LANGUAGE_CONFIG,
        },
        strict=True,
        echo=echo,
    )
    seconds = time.perf_counter() - start
    executed = re.findall(r"(\S+): Executing notebook", log)
    cached = re.findall(r"(\S+): Using cached notebook: ID=(\d+)", log)
    print(f"i18n build: {len(cached)} notebooks read from the cache {cache}, {len(executed)} executed")
    for name, record in cached:
        print(
            f"  {Path(name).relative_to(root) if Path(name).is_relative_to(root) else name}: record {record}"
        )
    if executed:
        print(f"i18n build: FAILED, notebooks executed again: {executed}", file=sys.stderr)
        return 1
    if code:
        if not echo:
            sys.stderr.write(warnings)
        print("i18n build: FAILED (see the warnings above)", file=sys.stderr)
        return code
    site = build_dir / "html" / SITE_SUBDIR
    if site.exists():
        shutil.rmtree(site)
    shutil.copytree(work / "html", site)
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    (site / "index.html").write_text(
        f'<meta http-equiv="Refresh" content="0; url={toc["root"]}.html" />\n', encoding="utf-8"
    )
    print(f"i18n build: the Chinese site is at file://{site.resolve()}/index.html ({seconds:.0f} s)")
    return 0


# --------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["update", "check", "build"])
    parser.add_argument("--root", type=Path, default=ROOT, help="the book (folder of _config.yml)")
    parser.add_argument("--build-dir", type=Path, default=None, help="default: <root>/_build")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    build_dir = (args.build_dir or root / "_build").resolve()
    if args.command in ("update", "check"):
        if args.command == "update":
            pots = update(root, build_dir / "gettext")
        else:
            with tempfile.TemporaryDirectory() as tmp:
                pots = extract(root, Path(tmp))
        stats = check_catalogs(root, pots)
        print(report(stats))
        for problem in stats.problems:
            print("  ✗", problem)
        waiting = len(stats.found) - len(stats.problems)
        print(
            f"translation: {stats.percent():.1f} % of messages translated; {len(stats.problems)} problems"
            + (f" (and {waiting} in pages listed in pending.txt)" if waiting else "")
        )
        return 1 if stats.problems else 0
    return build(root, build_dir, echo=not args.quiet)


if __name__ == "__main__":
    sys.exit(main())
