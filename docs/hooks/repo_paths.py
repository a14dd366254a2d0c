"""MkDocs hook: a link from a page to a file of the repository outside ``docs/`` (``[plugins/](../plugins)``,
read on a forge as a link into the source tree) is shown on the site as the path itself, in code:
the site has no copy of the source to link to. A path that does not exist in the repository is a
broken link, reported like any other (``mkdocs build --strict`` fails on it)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LINK = re.compile(r"(?<!!)\[(?P<text>[^\]\n]+)\]\((?P<target>[^)\s#]+)(?P<anchor>#[^)\s]*)?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)

log = logging.getLogger(f"mkdocs.hooks.{Path(__file__).stem}")


def _replace(text: str, page_dir: Path, docs_dir: Path, where: str) -> str:
    def one(match: re.Match) -> str:
        target = match["target"]
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
            return match[0]  # a URL, or an absolute path MkDocs itself reports
        resolved = (page_dir / target).resolve()
        if resolved.is_relative_to(docs_dir) or not resolved.is_relative_to(REPO):
            return match[0]  # a page of the site: MkDocs checks it
        if not resolved.exists():
            log.warning(f"{where}: link to {target!r}: no such file in the repository")
            return match[0]
        path = resolved.relative_to(REPO).as_posix() + ("/" if resolved.is_dir() else "")
        shown = match["text"]
        return shown if path in shown else f"{shown} (`{path}`)"

    parts, last = [], 0
    for fence in FENCE.finditer(text):
        parts += [LINK.sub(one, text[last:fence.start()]), fence[0]]
        last = fence.end()
    parts.append(LINK.sub(one, text[last:]))
    return "".join(parts)


def on_page_markdown(markdown: str, page, config, files) -> str:
    docs_dir = Path(config["docs_dir"]).resolve()
    if page.file.abs_src_path is None:  # a generated page
        return markdown
    source = Path(page.file.abs_src_path)
    return _replace(markdown, source.parent, docs_dir, page.file.src_uri)
