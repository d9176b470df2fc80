"""Sphinx extension: small fixes to what Jupyter Book v1 puts in every page's ``<head>``.

* sphinx-thebe 0.3 registers its inline configuration script twice under Sphinx 7, so every page
  raised ``SyntaxError: Identifier 'THEBE_JS_URL' has already been declared`` in the browser
  (found by ``make site-test``). Scripts with identical content are emitted once.
* The theme's first-visit script reads ``localStorage.mode || "{{ default_mode }}"`` but nothing
  sets ``default_mode``, so a reader's first page logged ``Got invalid theme mode: .`` on the
  console. It is set to ``auto`` (follow the system's light/dark preference).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx


def _key(script: Any) -> tuple[str, str]:
    filename = getattr(script, "filename", None) or ""
    attributes = getattr(script, "attributes", {}) or {}
    return str(filename), repr(sorted(attributes.items()))


def fix_page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Drop repeated ``<script>`` entries and give the theme a valid default colour mode."""
    context.setdefault("default_mode", "auto")
    if not context["default_mode"]:
        context["default_mode"] = "auto"
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, str]] = set()
    unique = []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


STATIC = Path(__file__).resolve().parents[1] / "_static"


def add_stylesheet(app: Sphinx, config: Any) -> None:
    if str(STATIC) not in config.html_static_path:
        config.html_static_path = [*config.html_static_path, str(STATIC)]


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", add_stylesheet)
    app.add_css_file("kexue.css")
    app.connect("html-page-context", fix_page_context, priority=900)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
