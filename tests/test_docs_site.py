"""The documentation site: built with ``mkdocs build --strict``, served on 127.0.0.1 and opened in a
real headless browser (Debian's ``chromium``, driven by Playwright through ``executable_path``):
every page loads without a console error, every image of the Collection page loads, every internal
link leads to a page and an anchor that exist. And what the build generates is complete: the CLI
reference has every command of the ``zoo`` app, the Collection every shipped agent, each with a
replay recorded from its current weights.

Without ``chromium`` the browser test installs it with ``apt-get`` when it runs as root; otherwise it
is skipped, saying so, unless ``ZOO_REQUIRE_BROWSER=1`` (``.ci/run``) makes that a failure.
"""

from __future__ import annotations

import functools
import hashlib
import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import imageio.v3 as iio
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
#: The flags that keep a headless Chromium quiet on a machine with no network (brief: launch with them).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REQUIRE_BROWSER = "ZOO_REQUIRE_BROWSER"


def load_hook(name: str):
    """A build hook of docs/hooks/ as a module (they are plain files, not a package)."""
    spec = importlib.util.spec_from_file_location(f"docs_hook_{name}", REPO / "docs" / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


collection = load_hook("collection")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built as `mkdocs build --strict` builds it."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SDL_VIDEODRIVER": "dummy"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                           str(REPO / "mkdocs.yml"), "--site-dir", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stderr[-5000:]}"
    return out


# -- what the build generates --------------------------------------------------------------------


def test_the_cli_reference_documents_every_command_and_option(site):
    import click
    import typer.main

    from zoo.cli import app

    page = html.unescape(re.sub(r"<[^>]+>", "", (site / "reference" / "cli" / "index.html").read_text()))
    root = typer.main.get_command(app)
    assert root.commands, "the zoo app has no commands"
    for name, command in root.commands.items():
        assert f"zoo {name}" in page, f"the CLI reference has no `zoo {name}`"
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert any(opt in page for opt in param.opts), f"zoo {name}: {param.opts} not in the CLI reference"


def test_every_public_name_has_its_entry_in_the_api_reference(site):
    """Each name of ``zoo.__all__`` is rendered, from its docstring, under its public name."""
    import zoo

    ids = set()
    for page in (site / "reference" / "api").rglob("index.html"):
        ids |= set(re.findall(r'id="(zoo\.\w+)"', page.read_text()))
    missing = sorted(f"zoo.{name}" for name in zoo.__all__ if f"zoo.{name}" not in ids)
    assert not missing, f"public names without an entry in docs/reference/api/: {missing}"


def test_the_collection_page_shows_every_shipped_agent_with_its_numbers(site):
    page = (site / "collection" / "index.html").read_text()
    items = collection.shipped()
    assert len(items) >= 19
    for item in items:
        ev = item.meta["evaluation"]
        gif = f"../media/collection/{item.name}.gif"
        assert f'src="{gif}"' in page, f"no replay of {item.name} on the Collection page"
        assert (site / "media" / "collection" / f"{item.name}.gif").is_file()
        assert f"{collection.number(ev['mean'])} ± {collection.number(ev['std'])}" in page, item.name
        assert f"{item.meta['trained']['env_steps']:,}" in page, item.name
        assert html.escape(item.meta["provenance"]["command"]) in page, item.name


def test_each_replay_was_recorded_from_the_weights_it_shows():
    """gifs.json keys each committed GIF to the checksum of the shipped weights it was recorded
    from, with the command; the GIF is the file that command wrote; no GIF is left over."""
    manifest = collection.read_manifest()
    items = collection.shipped()
    assert set(manifest) == {item.name for item in items}
    assert {gif.stem for gif in collection.GIF_DIR.glob("*.gif")} == set(manifest)
    for item in items:
        assert collection.stale_reason(item, manifest) is None, \
            f"{item.name}: {collection.stale_reason(item, manifest)}; run `python docs/hooks/collection.py record`"


def test_a_replay_recorded_again_is_the_committed_one(tmp_path):
    """The command on the Collection page reproduces its GIF: the cheapest replay, recorded again."""
    manifest = collection.read_manifest()
    # The shortest replay of an agent that acts without torch (an SB3 agent imports it: seconds).
    item = min(collection.shipped(), key=lambda s: (s.agent.startswith("sb3-"), manifest[s.name]["steps"]))
    (tmp_path / collection.GIF_DIR.relative_to(REPO)).mkdir(parents=True)
    done = subprocess.run(manifest[item.name]["command"], cwd=tmp_path, env=collection.zoo_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    played = collection.RECORDED.search(done.stdout)
    assert (float(played["ret"]), int(played["steps"])) == (manifest[item.name]["return"], manifest[item.name]["steps"])
    again = iio.imread(tmp_path / item.gif.relative_to(REPO), index=None)
    committed = iio.imread(item.gif, index=None)
    assert again.shape == committed.shape
    # The frames are the same; a GIF encoder of another version may quantise colours a little differently.
    assert np.abs(again.astype(int) - committed.astype(int)).mean() < 1.0


def test_a_replay_of_other_weights_or_none_is_stale():
    items, manifest = collection.shipped(), collection.read_manifest()
    item = items[0]
    forged = {**manifest, item.name: {**manifest[item.name], "weights_sha256": hashlib.sha256(b"other").hexdigest()}}
    assert collection.stale_reason(item, forged) == "recorded from other weights"
    del forged[item.name]
    assert collection.stale_reason(item, forged) == "no GIF recorded"


# -- the site in a browser -----------------------------------------------------------------------


def browser_or_skip() -> str:
    """The path of Debian's chromium, installed with apt-get when missing and possible."""
    if not Path(CHROMIUM).exists() and shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env, capture_output=True, timeout=1200)
    if not Path(CHROMIUM).exists():
        reason = f"no {CHROMIUM}: install Debian's chromium (apt-get install -y chromium) to open the docs in a browser"
        if os.environ.get(REQUIRE_BROWSER):
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture(scope="module")
def served(site):
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def page_urls(site: Path, base: str) -> list[str]:
    return sorted(urljoin(base, path.parent.relative_to(site).as_posix() + "/").replace("/./", "/")
                  for path in site.rglob("index.html"))


def test_every_page_loads_cleanly_in_a_browser_and_every_link_resolves(site, served, tmp_path):
    executable = browser_or_skip()
    from playwright.sync_api import sync_playwright

    pages = page_urls(site, served)
    assert len(pages) >= 30
    problems: list[str] = []
    ids: dict[str, set[str]] = {}
    links: dict[str, set[str]] = {}  # link (absolute, with fragment) -> pages that hold it
    collection_images = None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page()
            current = {"url": ""}
            tab.on("console", lambda m: m.type == "error" and problems.append(f"{current['url']}: console: {m.text}"))
            tab.on("pageerror", lambda e: problems.append(f"{current['url']}: uncaught: {e}"))
            tab.on("requestfailed", lambda r: problems.append(f"{current['url']}: request failed: {r.url}"))
            tab.on("response", lambda r: r.status >= 400 and problems.append(f"{current['url']}: {r.status} {r.url}"))
            for url in pages:
                current["url"] = url
                response = tab.goto(url, wait_until="load")
                assert response is not None and response.ok, f"{url}: {response and response.status}"
                tab.wait_for_load_state("networkidle")
                ids[url] = set(tab.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
                for href in tab.eval_on_selector_all("a[href]", "els => els.map(a => a.href)"):
                    links.setdefault(href, set()).add(url)
                if url.endswith("/collection/"):
                    tab.evaluate("window.scrollTo(0, document.body.scrollHeight)")
                    tab.wait_for_function("[...document.images].every(i => i.complete)")
                    collection_images = tab.eval_on_selector_all(
                        "article img", "els => els.map(i => [i.currentSrc, i.naturalWidth, i.naturalHeight])")
        finally:
            browser.close()

    assert not problems, "\n".join(problems)
    assert collection_images, "no image on the Collection page"
    assert len(collection_images) >= len(collection.shipped())
    broken = [src for src, width, height in collection_images if width <= 0 or height <= 0]
    assert not broken, f"images of the Collection page that did not load: {broken}"

    for href, where in sorted(links.items()):
        if urlsplit(href).netloc != urlsplit(served).netloc:
            continue
        target, fragment = urldefrag(href)
        if target in ids:
            assert not fragment or fragment in ids[target], f"{sorted(where)[0]} links to {href}: no such anchor"
        else:
            path = site / urlsplit(target).path.lstrip("/")
            found = path.is_file() or (path / "index.html").is_file()
            assert found, f"{sorted(where)[0]} links to {href}: no such page"


def test_the_search_index_covers_every_page(site):
    index = json.loads((site / "search" / "search_index.json").read_text())
    locations = {doc["location"].split("#")[0] for doc in index["docs"]}
    for page in ("", "collection/", "reference/cli/", "reference/api/library/", "plugins/", "guarantees/"):
        assert page in locations, f"search index lacks {page!r}"
