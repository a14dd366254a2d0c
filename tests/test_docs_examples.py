"""Every example in the docs runs: each fenced ``bash``/``sh``, ``python`` and ``toml`` block of
every page in ``docs/`` and of ``README.md``, page by page and in order, as a reader would
(``docs/plugins.md`` excepted: ``tests/test_docs.py`` runs its examples).

How a block is run, and the markers for blocks that cannot run as they are (``<!-- test: ... -->``
on the lines right above the fence), are documented in docs/writing-docs.md; :func:`parse_marker`
is the whole vocabulary. A page runs in a fresh folder holding links to the checkout's top-level
files and folders, so paths such as ``tests/data/...`` or ``docs/hooks/...`` work as from the
checkout's root, and what the examples write lands in that folder; the checkout itself must be
left unchanged.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support.hubserver import HubServer

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
#: Run by tests/test_docs.py, which checks it against the hook specifications as well.
NOT_HERE = {"docs/plugins.md"}
PAGES = sorted([p.relative_to(REPO).as_posix() for p in DOCS.rglob("*.md")] + ["README.md"])
RUN = {"bash": "bash", "sh": "bash", "python": "python", "toml": "toml"}
SNIPPET = re.compile(r'^--8<-- "(?P<path>[^"]+)"$', re.M)
MARKER = re.compile(r"^<!-- test: (?P<body>.*) -->$")
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\s*$")
FILE_LINE = re.compile(r"^# file: (?P<name>[\w./-]+)")
#: Top-level entries of a checkout that are not part of it (made by installing, testing, building).
NOT_CHECKOUT = {".git", ".venv", ".hypothesis", ".pytest_cache", "runs", "sweeps", "site", "build", "dist"}
BLOCK_TIMEOUT = 600


@dataclass
class Block:
    page: str
    line: int
    lang: str
    code: str
    skip: str | None = None
    ci: bool = False
    hub: bool = False
    replace: list[tuple[str, str]] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)
    excerpt: str | None = None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def parse_marker(body: str, block: Block) -> None:
    """Apply one ``<!-- test: BODY -->`` marker to ``block``."""
    if body.startswith("skip:"):
        block.skip = body[len("skip:"):].strip()
        assert block.skip, f"{block.where}: a skip marker must say why (and what tests it instead)"
        return
    words = shlex.split(body)
    match words:
        case ["ci"]:
            block.ci = True
        case ["hub"]:
            block.hub = True
        case ["replace", old, new]:
            block.replace.append((old, new))
        case ["file", name, path]:
            block.files.append((name, path))
        case ["excerpt", path]:
            block.excerpt = path
        case _:
            raise AssertionError(f"{block.where}: unknown marker <!-- test: {body} --> (see docs/writing-docs.md)")


def expand_snippets(text: str) -> str:
    """The page as the site shows it: ``--8<-- "path"`` lines replaced by the file they name."""
    return SNIPPET.sub(lambda m: (REPO / m["path"]).read_text().rstrip("\n"), text)


def blocks_of(page: str) -> list[Block]:
    lines = expand_snippets((REPO / page).read_text()).splitlines()
    blocks, markers, i = [], [], 0
    while i < len(lines):
        marker, fence = MARKER.match(lines[i]), FENCE.match(lines[i])
        if marker:
            markers.append(marker["body"])
        elif fence:
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            block = Block(page, i + 1, fence["lang"], "\n".join(lines[i + 1:end]) + "\n")
            for body in markers:
                parse_marker(body, block)
            blocks.append(block)
            markers, i = [], end
        elif lines[i].strip():
            assert not markers, f"{page}:{i + 1}: a test marker must sit right above a code block"
        i += 1
    return blocks


def checkout_state() -> str | None:
    """What git sees changed or untracked in the checkout (``None`` without git)."""
    try:
        done = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=REPO,
                              capture_output=True, text=True, timeout=60)
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None


def checkout_view(folder: Path) -> Path:
    """``folder`` holding a link to each top-level file and folder of the checkout."""
    folder.mkdir()
    for entry in REPO.iterdir():
        if entry.name not in NOT_CHECKOUT and not entry.name.endswith(".egg-info"):
            (folder / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    return folder


def example_env(tmp: Path, hub: HubServer | None = None) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("HF_TOKEN", "PYTHONPATH", "ZOO_PLUGINS", "ZOO_BLOCK_PLUGINS", "ZOO_STRICT_PLUGINS"):
        env.pop(name, None)
    bin_dir = str(Path(sys.executable).parent)
    env.update({
        "PATH": os.pathsep.join([bin_dir, env.get("PATH", "")]),
        "VIRTUAL_ENV": str(Path(sys.executable).parent.parent),
        "HOME": str(tmp / "home"),
        "HF_HOME": str(tmp / "hf-home"),
        "SDL_VIDEODRIVER": "dummy",
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        # The docs teach the public names: an old import path (its warning starts "zoo.") is an error.
        "PYTHONWARNINGS": "error:zoo.:DeprecationWarning",
    })
    (tmp / "home").mkdir(exist_ok=True)
    if hub is not None:
        env.update({"HF_ENDPOINT": hub.url, "HF_TOKEN": hub.token})
    return env


def write_file(cwd: Path, name: str, text: str, where: str) -> None:
    target = cwd / name
    assert not target.is_symlink() and not (cwd / Path(name).parts[0]).is_symlink(), \
        f"{where}: `# file: {name}` would write into the checkout"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def check_excerpt(block: Block) -> None:
    """Every key of the block has the same value in the checkout's file."""
    whole = tomllib.loads((REPO / block.excerpt).read_text())

    def walk(part: dict, ours: dict, path: str) -> None:
        for key, value in part.items():
            assert key in ours, f"{block.where}: {path}{key} is not in {block.excerpt}"
            if isinstance(value, dict):
                walk(value, ours[key], f"{path}{key}.")
            else:
                assert ours[key] == value, f"{block.where}: {path}{key} = {value!r}, {block.excerpt} has {ours[key]!r}"

    walk(tomllib.loads(block.code), whole, "")


def run_block(block: Block, cwd: Path, env: dict[str, str]) -> None:
    code = block.code
    for old, new in block.replace:
        assert old in code, f"{block.where}: the replace marker's text {old!r} is not in the block"
        code = code.replace(old, new)
    for name, path in block.files:
        write_file(cwd, name, (REPO / path).read_text(), block.where)
    named = FILE_LINE.match(code)
    if block.lang == "toml":
        tomllib.loads(code)  # a parse error fails the test with the line
        if block.excerpt:
            check_excerpt(block)
        if named:
            write_file(cwd, named["name"], code, block.where)
        return
    if named:
        write_file(cwd, named["name"], code, block.where)
        return
    if RUN[block.lang] == "python":
        script = cwd / f"docs_example_line{block.line}.py"
        script.write_text(code)
        command = [sys.executable, script.name]
    else:
        command = ["bash", "-e", "-o", "pipefail", "-c", code]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT)
    assert done.returncode == 0, (f"{block.where}: the example failed (exit code {done.returncode})\n{code}\n"
                                  f"--- stdout (end)\n{done.stdout[-3000:]}\n--- stderr (end)\n{done.stderr[-3000:]}")


def run_page(page: str, tmp: Path, hub: HubServer) -> None:
    """Run the page's examples in order, in a fresh view of the checkout."""
    cwd = checkout_view(tmp / "checkout")
    for block in runnable(page):
        run_block(block, cwd, example_env(tmp, hub if block.hub else None))


@pytest.fixture(scope="module")
def page_runs(request, tmp_path_factory):
    """The examples of every page selected in this session, run two pages at a time in the
    background (the examples are mostly single-threaded processes): page -> future. Afterwards,
    the checkout must be as it was."""
    selected = [item.callspec.params["page"] for item in request.session.items
                if item.originalname == "test_every_example_of_the_page_runs"]
    before = checkout_state()
    # A Hub of the examples' own, whose user is the `my-user` the pages push as.
    with HubServer(user="my-user") as hub, ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        runs = {page: pool.submit(run_page, page, tmp_path_factory.mktemp("docs-example"), hub) for page in selected}
        yield runs
        for run in runs.values():
            run.exception()  # wait for each before the Hub stops
    assert checkout_state() == before, "the docs' examples changed the checkout"


def runnable(page: str) -> list[Block]:
    return [b for b in blocks_of(page) if b.lang in RUN and b.skip is None and not b.ci]


@pytest.mark.parametrize("page", [p for p in PAGES if p not in NOT_HERE and runnable(p)])
def test_every_example_of_the_page_runs(page, page_runs):
    page_runs[page].result()  # its AssertionError, if an example failed


def test_the_readme_is_a_first_screen():
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines: the manual belongs in docs/"


def test_the_readme_commands_are_the_ones_ci_runs_verbatim():
    """The README's two commands (and the Install page's copy) are lines of .ci/run, as they are."""
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    for page in ("README.md", "docs/install.md"):
        commands = [b for b in blocks_of(page) if b.ci]
        assert len(commands) == 2, f"{page}: the two commands are marked <!-- test: ci -->"
        for block in commands:
            assert block.code.strip() in ci, f"{block.where}: .ci/run does not run this verbatim:\n{block.code}"
    main_job, tests = [b.code.strip() for b in blocks_of("README.md") if b.ci]
    assert tests.endswith("&& pytest") and '".[test,ray,docs]"' in tests  # the docs tests' packages included
    assert ci.index(main_job) < ci.index(tests)


def test_the_readme_links_lead_somewhere():
    text = (REPO / "README.md").read_text()
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if not re.match(r"^[a-z]+:", target):
            assert (REPO / target).exists(), f"README.md links to {target}, which does not exist"


def test_markers_are_few_and_reasoned():
    """Skipped blocks say why; most examples run."""
    blocks = [b for page in PAGES if page not in NOT_HERE for b in blocks_of(page) if b.lang in RUN]
    skipped = [b for b in blocks if b.skip]
    assert all(len(b.skip) > 20 for b in skipped), [b.where for b in skipped if len(b.skip) <= 20]
    assert len(skipped) * 5 <= len(blocks), f"{len(skipped)} of {len(blocks)} examples are skipped: " + \
        ", ".join(b.where for b in skipped)
