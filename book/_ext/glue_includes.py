"""Sphinx extension: glued numbers in text that one page includes from a notebook page.

The Errata page includes each chapter's errata section (``{include}`` with ``start-after`` /
``end-before``), and those sections quote computed numbers with ``{glue:text}`key```. MyST-NB looks
a plain key up in the notebook being parsed, which for the Errata page is no notebook at all, so the
build failed with "No key … found in glue data for this document". When text is included from
another file, each plain glue role in it is pointed at that file with MyST-NB's cross-document form,
``{glue:text}`/book/mad.md::key:s```, which reads the chapter's glue data after parsing. The text
renders exactly as on the chapter page.

The same rewrite makes glue work in translations (``scripts/i18n.py`` compiles the catalogs with
it): a translated paragraph is parsed on its own, outside the notebook, just like included text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

_GLUE = re.compile(r"\{glue(?P<kind>|:any|:text)\}`(?P<key>[^`:]+)(?::(?P<fmt>[^`]*))?`")


def point_glue_at(text: str, source: str) -> str:
    """``text`` with every plain ``{glue}`` / ``{glue:any}`` / ``{glue:text}`` role read from ``source``.

    ``source`` is the notebook's path from the book's root with a leading slash (``/book/mad.md``).
    A ``{glue:text}`` role gets an explicit format (``:s`` if it had none): MyST-NB splits the
    format off at the last colon, so ``path::key`` alone would lose its key.
    """

    def repl(m: re.Match[str]) -> str:
        if m.group("kind") == ":text":
            return f"{{glue:text}}`{source}::{m.group('key')}:{m.group('fmt') or 's'}`"
        return f"{{glue{m.group('kind')}}}`{source}::{m.group('key')}`"

    return _GLUE.sub(repl, text)


def glue_from_included_file(
    app: Sphinx, relative_path: Path, parent_docname: str, content: list[str]
) -> None:
    """``include-read``: point the glue roles of the included text at the file they come from."""
    content[0] = point_glue_at(content[0], "/" + Path(relative_path).as_posix())


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("include-read", glue_from_included_file)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
