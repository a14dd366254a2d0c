"""MkDocs hook: the Sphinx roles in the API's docstrings (``:class:`zoo.Agent```, ``:func:``,
``:data:``...) become links to the named object's entry in the API reference, or plain code when
the reference has no entry for it. mkdocstrings renders a role as text followed by code
(``:class:<code>zoo.Agent</code>``); mkdocs-autorefs resolves the ``<autoref>`` elements written
here once every page is rendered, and leaves an ``optional`` one as its text when nothing matches.
"""

from __future__ import annotations

import re

ROLE = re.compile(r":(?:class|func|data|meth|attr|mod|exc|obj):<code>~?(?P<name>[\w.]+)(?P<call>\(\))?</code>")


def on_page_content(html: str, **_: object) -> str:
    def link(match: re.Match) -> str:
        name = match["name"]
        # A bare name (``:class:`Agent```) is public in ``zoo``; a dotted one is written in full.
        identifier = name if "." in name else f"zoo.{name}"
        return f'<autoref identifier="{identifier}" optional><code>{name}{match["call"] or ""}</code></autoref>'

    return ROLE.sub(link, html)
