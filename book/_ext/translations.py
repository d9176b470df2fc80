"""Sphinx extension: what the book's translations (``locales/<language>/LC_MESSAGES``) need from Sphinx.

The Chinese edition is built by ``scripts/i18n.py build`` with Sphinx's gettext machinery: every
paragraph, heading, caption, admonition, theorem, exercise and solution of a page is a *message*,
and the page's catalog (``locales/zh_CN/LC_MESSAGES/book/<page>.po``) gives its translation. This
extension adds three things to that machinery:

* **Equations are not messages.** Display math (and raw HTML) is marked ``translatable = False``
  before messages are extracted or translated, so a translator never sees an equation and a
  translation cannot change one. Inline math, roles (``{eq}``, ``{cite:t}``, ``{glue:text}``) and
  code inside a paragraph do appear in its message; ``scripts/i18n.py check`` verifies that every
  translation keeps them exactly.
* **No paragraph is left in English.** In a translated build (``language`` other than ``en``) every
  message of every page must have been translated: a message with no entry in the catalog, a
  fuzzy entry (the English changed since it was translated), or a translation that could not be
  applied (it does not parse as one paragraph, or shows its emphasis markers as text) is reported as
  a warning, and ``-W`` fails the build.
  A translation identical to the English (a name, a formula) is accepted when the catalog says so.
  The captions of the book's toctrees, which sphinx-external-toc inserts after Sphinx has
  translated the page, are translated here.
* **Text that is not on a page.** The book's title, author and footer (``_config.yml``), the
  search box text and the column headers of generated tables (Verification, Execution statistics)
  are translated from the catalog ``ui`` (``locales/<language>/LC_MESSAGES/ui.po``), which other
  extensions can use through ``sphinx.locale.get_translation("ui")``. It also completes the
  catalogs of Sphinx and the theme, which lack a few labels and tooltips in Chinese.

A page listed in the setting ``kexue_translation_pending`` (``scripts/i18n.py build`` passes the
pages of ``locales/<language>/pending.txt``) is not finished yet: it gets a note at the top saying so,
its untranslated paragraphs stay in English, and they are not reported.

In the English build the extension only marks equations as untranslatable.
"""

from __future__ import annotations

import os
import re
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.locale import get_translation, translators
from sphinx.locale import init as init_catalog
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.i18n import docname_to_domain
from sphinx.util.nodes import extract_messages

logger = logging.getLogger(__name__)

UI_CATALOG = "ui"
#: ``_("literal")`` marks a string of the ``ui`` catalog (``scripts/i18n.py check`` collects them);
#: ``translate_ui(variable)`` translates one that comes from the configuration or another extension.
_ = translate_ui = get_translation(UI_CATALOG)
#: Catalogs of Sphinx (and pydata-sphinx-theme) and of sphinx-book-theme, completed from ``ui``.
THEME_CATALOGS = ("sphinx", "booktheme")

_LATIN = re.compile("[A-Za-z]")


def _ancestors(node: nodes.Node) -> list[nodes.Node]:
    found = []
    while node.parent is not None:
        node = node.parent
        found.append(node)
    return found


def _stray_asterisk(node: nodes.Element, translation: str) -> bool:
    """Does the translated ``node`` show a ``*`` the translation did not escape (an unclosed emphasis)?"""
    code = (nodes.math, nodes.literal, nodes.raw, nodes.math_block, nodes.literal_block)
    for text in node.findall(nodes.Text):
        if "*" in text and not any(isinstance(a, code) for a in _ancestors(text)):
            return "\\*" not in translation
    return False


def _front_matter(node: nodes.Node) -> bool:
    """Is ``node`` part of the page's metadata (the notebook's front matter, a leading field list)?"""
    return any(
        isinstance(a, nodes.docinfo)
        or (isinstance(a, nodes.field_list) and isinstance(a.parent, nodes.document))
        for a in _ancestors(node)
    )


def _translated_build(config: Config) -> bool:
    return bool(config.language) and config.language != "en"


class UntranslatableEquations(SphinxTransform):
    """Take display math and raw output out of the message catalogs (before extraction, priority 20)."""

    default_priority = 15

    def apply(self, **kwargs: Any) -> None:
        for node in self.document.findall(nodes.math_block):
            node["translatable"] = False
        for node in self.document.findall(nodes.raw):
            node["translatable"] = False


class CompleteTranslations(SphinxTransform):
    """In a translated build, translate the toctree captions and warn about any message left in English.

    Runs after sphinx-external-toc has inserted the book's toctrees (priority 100), which happens
    after Sphinx's ``Locale`` transform (priority 20) has translated the page, and before the
    table of contents is collected from them.
    """

    default_priority = 150

    def _source_doc(self, node: nodes.Node) -> str | None:
        """The page whose source file holds ``node`` (another page's, for included text)."""
        source = next((a.source for a in [node, *_ancestors(node)] if getattr(a, "source", None)), None)
        return self.env.path2doc(source) if source else None

    def apply(self, **kwargs: Any) -> None:
        if not _translated_build(self.config) or self.app.builder.name == "gettext":
            return
        domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
        dirs = [os.path.join(self.env.srcdir, d) for d in self.config.locale_dirs]
        catalog, has_catalog = init_catalog(dirs, self.config.language, domain)
        merged: dict[str, str] = {}
        while catalog is not None:
            merged = {**getattr(catalog, "_catalog", {}), **merged}
            catalog = getattr(catalog, "_fallback", None)
        pending = self.env.docname in self.config.kexue_translation_pending
        if pending:
            _add_pending_note(self.document)
        for node, message in extract_messages(self.document):
            if not _LATIN.search(message) or _front_matter(node):
                continue  # already in the target language (a theme label), or page metadata
            translation = merged.get(message, "") if has_catalog else ""
            if isinstance(node, addnodes.toctree) and translation.strip():
                node.apply_translated_message(message, translation)
                continue
            if pending or self._source_doc(node) in self.config.kexue_translation_pending:
                continue  # a page being translated, or text it lends to this one (an include)
            if not translation.strip():
                problem = "no translation (missing or fuzzy in the catalog)"
            elif translation == message:
                continue
            elif node.get("translated"):
                if not _stray_asterisk(node, translation):
                    continue
                problem = (
                    "emphasis markers shown as text: keep CJK punctuation outside *…* and **…** "
                    "(CommonMark does not close emphasis between punctuation and a letter)"
                )
            else:
                problem = "translation could not be applied (it must parse as one paragraph)"
            logger.warning(
                "%s [%s]: %s: %.70r",
                domain,
                self.config.language,
                problem,
                message,
                location=node,
                type="i18n",
                subtype="untranslated",
            )


def _add_pending_note(document: nodes.document) -> None:
    """Put a note under the page title: the translation of this page is not finished."""
    text = str(
        _("The translation of this page is not finished yet: paragraphs not translated are in English.")
    )
    note = nodes.note("", nodes.paragraph(text, text), classes=["kexue-translation-pending"])
    section = next(iter(document.findall(nodes.section)), None)
    if section is not None and section.children and isinstance(section[0], nodes.title):
        section.insert(1, note)
    else:
        document.insert(0, note)


def load_ui_catalog(app: Sphinx, config: Config) -> None:
    """Register the ``ui`` catalog and translate the title, author and footer of a translated build."""
    if not _translated_build(config):
        return
    dirs = [os.path.join(app.srcdir, d) for d in config.locale_dirs]
    ui, _found = init_catalog(dirs, config.language, UI_CATALOG)
    # Theme labels missing from the Chinese catalogs that Sphinx and sphinx-book-theme ship
    # ("Link to this heading", "Color mode", "Launch on" …) fall back to the ui catalog.
    for catalog in THEME_CATALOGS:
        theme = translators.get(("general", catalog))
        if theme is not None and theme is not ui:
            theme.add_fallback(ui)
    for key in ("html_title", "author"):
        if getattr(config, key, None):
            setattr(config, key, str(translate_ui(getattr(config, key))))
    options = dict(config.html_theme_options or {})
    if options.get("extra_footer"):
        options["extra_footer"] = str(translate_ui(options["extra_footer"]))
    # sphinx-book-theme's search box text (the theme's own Chinese catalog lacks it)
    search = options.get("search_bar_text")
    options["search_bar_text"] = str(translate_ui(search) if search else _("Search this book..."))
    config.html_theme_options = options


def translate_generated_tables(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Translate the column headers of generated tables (they have no source, so no message).

    Such tables are the Verification table (``claims_table``) and MyST-NB's execution table; a
    header with no entry in the ``ui`` catalog is reported, like an untranslated paragraph.
    """
    if not _translated_build(app.config):
        return
    for table in doctree.findall(nodes.table):
        if table.source:
            continue  # written in a page: its cells are messages of the page
        for text in [t for head in table.findall(nodes.thead) for t in head.findall(nodes.Text)]:
            english = str(text)
            if not _LATIN.search(english):
                continue
            translated = str(translate_ui(english))
            if translated == english:
                logger.warning(
                    "%s: no translation in %s.po for the table header %r",
                    app.config.language,
                    UI_CATALOG,
                    english,
                    location=(docname, 0),
                    type="i18n",
                    subtype="untranslated",
                )
            else:
                text.parent.replace(text, nodes.Text(translated))


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("kexue_translation_pending", [], "env", types=[list])
    app.add_transform(UntranslatableEquations)
    app.add_transform(CompleteTranslations)
    app.connect("config-inited", load_ui_catalog, priority=900)
    # After claims_table (Verification page) and MyST-NB's execution table have built their tables.
    app.connect("doctree-resolved", translate_generated_tables, priority=900)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
