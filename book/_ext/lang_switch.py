"""Sphinx extension: on every page, a link to the same page in the book's other language.

The English site is ``_build/html``; each translation is a subfolder of it (``zh_CN`` →
``_build/html/zh``, built by ``scripts/i18n.py build``), with the same page names. Every page gets

* a button in its header (``中文`` on an English page, ``English`` on a Chinese one) linking the
  counterpart page, by a relative URL, so it works on GitHub Pages, on a local server and from disk;
* ``<link rel="alternate" hreflang=…>`` for each language, so search engines pair the two versions.

Sphinx writes ``<html lang>`` itself from the ``language`` setting (``en``, ``zh-CN``). The button is
the template ``book/_templates/lang-switch.html``, placed before the theme's header buttons and
styled by ``book/_static/lang-switch.css``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config

TEMPLATES = Path(__file__).resolve().parents[1] / "_templates"
STATIC = Path(__file__).resolve().parents[1] / "_static"

#: language → (subfolder of the English site, name of the language in itself, "read in" tooltip)
LANGUAGES: dict[str, tuple[str, str, str]] = {
    "en": ("", "English", "Read this page in English"),
    "zh_CN": ("zh", "中文", "阅读本页的中文版"),
}


def counterpart_url(pagename: str, page_uri: str, here: str, there: str) -> str:
    """Relative URL, from page ``pagename`` of the ``here`` site, of the same page in the ``there`` site."""
    here_dir, there_dir = LANGUAGES[here][0], LANGUAGES[there][0]
    depth = pagename.count("/") + (len(here_dir.split("/")) if here_dir else 0)
    return "../" * depth + (f"{there_dir}/" if there_dir else "") + page_uri


def add_templates(app: Sphinx, config: Config) -> None:
    """Put the switch template on the template path and in front of the theme's header buttons."""
    config.templates_path = [*config.templates_path, str(TEMPLATES)]
    if str(STATIC) not in config.html_static_path:
        config.html_static_path = [*config.html_static_path, str(STATIC)]
    options = dict(config.html_theme_options or {})
    end = options.get("article_header_end", ["article-header-buttons.html"])
    end = [item.strip() for item in end.split(",")] if isinstance(end, str) else list(end)
    if "lang-switch.html" not in end:
        options["article_header_end"] = ["lang-switch.html", *end]
    config.html_theme_options = options


def add_links(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """Give the page its counterpart links (``kexue_lang_links``) and ``hreflang`` alternates."""
    here = app.config.language or "en"
    if here not in LANGUAGES:
        context["kexue_lang_links"] = []
        return
    page_uri = app.builder.get_target_uri(pagename)
    links = []
    for language, (_, label, title) in LANGUAGES.items():
        url = counterpart_url(pagename, page_uri, here, language)
        tag = language.replace("_", "-")
        context["metatags"] = context.get("metatags", "") + (
            f'\n<link rel="alternate" hreflang="{tag}" href="{url}" />'
        )
        if language != here:
            links.append({"url": url, "label": label, "title": title, "hreflang": tag})
    context["kexue_lang_links"] = links


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", add_templates)
    app.add_css_file("lang-switch.css")
    app.connect("html-page-context", add_links)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
