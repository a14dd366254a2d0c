"""Issue 23, items 12-18: what the zoo does when its disk, its streams, its locale or its display
fail it. Each is one line on stderr (exit 2, or the documented code) with nothing half-written
left behind, or, where the zoo can carry on (a closed pipe during training, no display), it does.

Items: (12) a full disk under ``zoo record`` and a checkpoint save, SIGTERM during ``zoo record``;
(13) ``zoo export --out /proc/m.zip``; (14) run folders named with bytes that are not UTF-8, the
C locale, an ASCII console; (15) closed pipes; (16) envs with integer observations under
``zoo record`` and ``zoo push``; (17) MuJoCo without a display; (18) tables on narrow terminals
and in pipes, one-line ``zoo push`` errors, pygame without a display.

A full disk is made without root by ``RLIMIT_FSIZE`` in the child process (a write past the
limit fails with EFBIG, as it fails with ENOSPC on a full disk); where the tests run as root, a
12 KB tmpfs also gives the real ENOSPC.
"""

from __future__ import annotations

import ast
import contextlib
import fcntl
import json
import os
import pty
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import zoo
from zoo.cli import app

ROOT_DIR = Path(__file__).resolve().parent.parent
ZOO = [sys.executable, "-m", "zoo.cli"]
runner = CliRunner()
#: What a display server or a chosen rendering backend would set; removed for headless runs.
DISPLAY_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER", "SDL_AUDIODRIVER", "MUJOCO_GL",
                "PYOPENGL_PLATFORM", "XDG_RUNTIME_DIR")
_ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


def child_env(**changes: str | None) -> dict[str, str]:
    """This process's environment for a ``zoo`` child, with ``changes`` (None: removed)."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_zoo(*args: str | bytes, cwd: Path, env: dict[str, str] | None = None, file_limit: int | None = None,
            timeout: float = 300, **popen) -> subprocess.CompletedProcess:
    """``zoo ARGS`` in a child process (bytes output), optionally with files capped at ``file_limit`` bytes."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    popen.setdefault("capture_output", True)
    return subprocess.run([*ZOO, *args], cwd=cwd, env=env or child_env(), timeout=timeout,
                          preexec_fn=limit if file_limit is not None else None, **popen)


def error_line(proc: subprocess.CompletedProcess, *fragments: str, code: int = 2, alone: bool = True) -> str:
    """The child failed with ``code`` and one ``error:`` line, the last on stderr, holding every fragment;
    nothing else on stderr (``alone``; training prints progress lines before it), and no traceback."""
    stderr = proc.stderr.decode(errors="replace")
    assert proc.returncode == code, (proc.returncode, proc.stdout[-2000:], stderr[-3000:])
    lines = stderr.splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], stderr[-3000:]
    assert not alone or len(lines) == 1, stderr[-3000:]
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


def listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.fixture
def workdir(tmp_path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 12 KB tmpfs: a disk that really fills (root only; skipped where mounting is not allowed)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root and mount(8); the RLIMIT_FSIZE tests cover a full disk without")
    mount = tmp_path / "full"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12k", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> Path:
    """A REINFORCE run on CartPole whose checkpoint (a 64x64 network, ~20 KB of weights) is larger
    than the file-size limit the full-disk tests set."""
    out = tmp_path_factory.mktemp("small") / "run"
    zoo.train("reinforce", "cartpole", seed=0, steps=300, out=out, argv=["zoo"], checkpoint_every=0,
              overrides={"n_envs": 2, "net_arch": "64,64"})
    return out


# -- item 12: a full disk, SIGTERM during zoo record --------------------------------------------------
#: Episodes long enough for videos of more than 12 KB (a GIF of 30 CartPole frames is 17 KB;
#: an mp4 of 500, 76 KB); a GIF's frames are encoded at the end, slowly, so it gets fewer.
VIDEO_STEPS = {".mp4": "500", ".gif": "30"}


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_a_video_that_does_not_fit_on_the_disk_is_one_line_and_leaves_nothing(workdir, suffix):
    proc = run_zoo("record", "hardcoded", "cartpole", "--out", f"videos/c{suffix}", "--max-steps", VIDEO_STEPS[suffix],
                   cwd=workdir, file_limit=8192)
    error_line(proc, f"cannot write video file 'videos/c{suffix}'", "File too large")
    assert b"recorded" not in proc.stdout
    assert listing(workdir) == []  # no video, no temporary file, no folder made for it


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_a_video_on_a_really_full_disk_is_one_line_and_leaves_nothing(tiny_tmpfs, suffix):
    proc = run_zoo("record", "hardcoded", "cartpole", "--out", f"c{suffix}", "--max-steps", VIDEO_STEPS[suffix],
                   cwd=tiny_tmpfs)
    error_line(proc, f"cannot write video file 'c{suffix}'", "No space left on device")
    assert listing(tiny_tmpfs) == []


def test_a_checkpoint_that_does_not_fit_is_one_line_and_the_run_resumes_once_it_fits(small_run, workdir):
    run = workdir / "run"
    shutil.copytree(small_run, run)
    saved = sorted(p.name for p in (run / "checkpoints").iterdir())
    line = error_line(run_zoo("train", "--resume", "run", "--steps", "600", cwd=workdir, file_limit=8192),
                      "cannot save a checkpoint", "File too large", f"run/checkpoints/{saved[-1]}", alone=False)
    assert "--resume" in line
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == saved  # the last good one, and no leftovers
    resumed = run_zoo("train", "--resume", "run", "--steps", "600", cwd=workdir)
    assert resumed.returncode == 0, resumed.stderr.decode()[-2000:]
    newest = max(p.name for p in (run / "checkpoints").iterdir())
    assert newest > saved[-1] and int(newest) >= 600
    # A new run whose first checkpoint does not fit: nothing worth keeping, its folder is removed.
    error_line(run_zoo("train", "reinforce", "cartpole", "--steps", "300", "--out", "new", "--set", "net_arch=64,64",
                       "--checkpoint-every", "0", cwd=workdir, file_limit=8192),
               "cannot save a checkpoint", "File too large", "removed", alone=False)
    assert not (workdir / "new").exists()


def test_sigterm_during_zoo_record_removes_the_unfinished_video(workdir):
    proc = subprocess.Popen([*ZOO, "record", "hardcoded", "pixelcopter", "--out", "c.mp4", "--max-steps", "10000"],
                            cwd=workdir, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not any(p.name.startswith(".c.tmp-") for p in workdir.iterdir()):  # encoding has begun
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, stderr.decode()
    lines = stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "SIGTERM" in lines[0], lines
    assert stdout == b""
    assert listing(workdir) == []


# -- item 13: an export to a place that cannot hold files ---------------------------------------------
@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
@pytest.mark.parametrize("agent,env,fmt,name", [("sb3-ppo", "lunarlander", "sb3", "m.zip"),
                                                ("reinforce", "cartpole", "onnx", "m.onnx")])
def test_an_export_into_proc_is_one_line(agent, env, fmt, name):
    from zoo.tools.pretrained import find

    result = runner.invoke(app, ["export", str(find(agent, env).path), "--format", fmt, "--out", f"/proc/{name}"])
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot write '/proc/{name}'"), result.stderr
    assert ".tmp-" not in lines[0] and "Recursion" not in lines[0]


# -- item 14: encodings -----------------------------------------------------------------------------------
def test_a_run_folder_named_with_bytes_that_are_not_utf8_trains_resumes_and_is_printed_as_given(workdir):
    trained = run_zoo("train", "reinforce", "cartpole", "--steps", "200", "--set", "n_envs=2", "--out", b"r\xff",
                      cwd=workdir)
    assert trained.returncode == 0, trained.stderr.decode(errors="replace")[-2000:]
    run = Path(os.fsdecode(b"r\xff"))
    assert (workdir / run / "curve.png").is_file()
    assert b"run folder: r\xff\n" in trained.stdout  # the name's bytes, as ls would show them
    assert b"--out 'r\xff'" in (workdir / run / "command.txt").read_bytes()  # (shlex-quoted)
    resumed = run_zoo("train", "--resume", b"r\xff", "--steps", "400", cwd=workdir)
    assert resumed.returncode == 0, resumed.stderr.decode(errors="replace")[-2000:]


def test_a_sweep_into_a_folder_named_with_bytes_that_are_not_utf8_runs(workdir):
    swept = run_zoo("sweep", "--agents", "reinforce", "--envs", "cartpole", "--seeds", "0", "--train-steps", "200",
                    "--eval-episodes", "1", "--workers", "1", "--out", b"s\xff", cwd=workdir)
    assert swept.returncode == 0, swept.stderr.decode(errors="replace")[-2000:]
    results = json.loads((workdir / os.fsdecode(b"s\xff") / "results.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in results["runs"]] == ["ok"]


def test_the_c_locale_without_utf8_mode_trains_evaluates_lists_and_plots(workdir):
    env = child_env(LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONIOENCODING=None, PYTHONCOERCECLOCALE="0")
    trained = run_zoo("train", "reinforce", "cartpole", "--steps", "200", "--set", "n_envs=2", "--out", "run",
                      cwd=workdir, env=env)
    assert trained.returncode == 0, trained.stderr.decode(errors="replace")[-2000:]
    for args in (["eval", "reinforce", "cartpole", "--checkpoint", "run", "--episodes", "2"], ["pretrained"],
                 ["plot", "run", "--out", "plot.png"]):
        proc = run_zoo(*args, cwd=workdir, env=env)
        assert proc.returncode == 0, (args, proc.stderr.decode(errors="replace")[-2000:])


@pytest.mark.parametrize("args", [["eval", "hardcoded", "cartpole", "--episodes", "2"], ["pretrained"]])
def test_an_ascii_console_gets_plain_ascii_instead_of_a_crash(workdir, args):
    proc = run_zoo(*args, cwd=workdir, env=child_env(PYTHONIOENCODING="ascii", COLUMNS="200"))
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    assert b"+/-" in proc.stdout and proc.stderr == b""
    proc.stdout.decode("ascii")  # nothing else slipped through


def _encoding_checked_calls(tree: ast.AST) -> list[int]:
    """Lines of ``open()``, ``.open()``, ``.read_text()`` and ``.write_text()`` calls in text mode
    without an ``encoding=`` (text I/O that would follow the locale)."""
    missing = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name not in ("open", "read_text", "write_text"):
            continue
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "os":
            continue  # os.open: file descriptors, no text
        keywords = {k.arg for k in node.keywords}
        positional_encoding = len(node.args) > (1 if name == "write_text" else 0) and name != "open"
        if "encoding" in keywords or positional_encoding:
            continue  # (importlib.metadata's read_text(name) is UTF-8 itself)
        if name == "open":
            mode_at = 1 if isinstance(func, ast.Name) else 0
            mode = node.args[mode_at] if len(node.args) > mode_at else next(
                (k.value for k in node.keywords if k.arg == "mode"), None)
            if isinstance(mode, ast.Constant) and isinstance(mode.value, str) and "b" in mode.value:
                continue
            if mode is not None and not isinstance(mode, ast.Constant):
                continue  # a mode chosen at run time: the caller's business
        missing.append(node.lineno)
    return missing


def test_every_text_file_the_zoo_reads_or_writes_names_its_encoding():
    missing = []
    for package in ("zoo", "agents", "envs", "plugins"):
        for path in sorted((ROOT_DIR / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            missing += [f"{path.relative_to(ROOT_DIR)}:{line}" for line in _encoding_checked_calls(tree)]
    assert not missing, "text I/O that follows the locale (LC_ALL=C breaks it): " + ", ".join(missing)


# -- item 15: closed pipes -------------------------------------------------------------------------------
def _with_closed_pipe(args: list[str], cwd: Path, *, both: bool = False) -> subprocess.CompletedProcess:
    """``zoo ARGS`` writing stdout (and stderr, ``both``) into a pipe nobody reads: ``zoo ... | head -0``."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run([*ZOO, *args], cwd=cwd, env=child_env(), stdout=write,
                              stderr=write if both else subprocess.PIPE, timeout=300)
    finally:
        os.close(write)


@pytest.mark.parametrize("args", [["list"], ["plugins"], ["pretrained"]])
def test_a_listing_whose_reader_went_away_exits_quietly(workdir, args):
    proc = _with_closed_pipe(args, workdir)
    assert proc.returncode == 128 + signal.SIGPIPE  # as a filter killed by SIGPIPE: `set -o pipefail` sees it
    assert proc.stderr == b""


def test_training_whose_output_pipe_closed_still_saves_its_results(workdir):
    proc = _with_closed_pipe(["train", "reinforce", "cartpole", "--steps", "600", "--set", "n_envs=2", "--out", "run"],
                             workdir, both=True)
    assert proc.returncode == 0
    checkpoints = sorted((workdir / "run" / "checkpoints").iterdir())
    assert checkpoints and int(checkpoints[-1].name) >= 600  # the final checkpoint, at the budget
    assert (workdir / "run" / "curve.png").is_file()


# -- item 16: integer observations ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def frozenlake_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("frozenlake") / "run"
    zoo.train("reinforce", "FrozenLake-v1", seed=0, steps=300, out=out, argv=["zoo"], overrides={"n_envs": 2})
    return out


def test_an_env_with_discrete_observations_is_recorded_from_the_cli_and_from_python(frozenlake_run, tmp_path):
    import imageio.v2 as imageio

    result = runner.invoke(app, ["record", "reinforce", "FrozenLake-v1", "--checkpoint", str(frozenlake_run),
                                 "--out", str(tmp_path / "x.gif")])
    assert result.exit_code == 0, (result.output, result.exception)
    assert len(imageio.mimread(tmp_path / "x.gif")) >= 2
    info = zoo.record(zoo.load_agent(frozenlake_run), "FrozenLake-v1", tmp_path / "x.mp4")
    assert info["frames"] == info["steps"] + 1 and (tmp_path / "x.mp4").stat().st_size > 0


def test_push_of_an_env_with_discrete_observations_publishes_its_replay(frozenlake_run, hub, hub_repo_id, hf_home):
    import warnings

    from zoo.hub.push import push_run

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "pushing without it" would be a warning
        result = push_run(frozenlake_run, hub_repo_id, eval_episodes=2)
    assert "replay.mp4" in result.files


# -- item 17: MuJoCo without a display ---------------------------------------------------------------------
def test_the_opengl_backend_is_chosen_only_when_there_is_no_display_and_none_is_set():
    from zoo.headless import opengl_backend

    found = {"EGL": "libEGL.so.1", "OSMesa": "libOSMesa.so.8"}
    assert opengl_backend({}, found.get, "linux") == "egl"
    assert opengl_backend({}, {"OSMesa": "libOSMesa.so.8"}.get, "linux") == "osmesa"
    assert opengl_backend({}, {}.get, "linux") is None
    assert opengl_backend({"MUJOCO_GL": "glfw"}, found.get, "linux") is None  # the user's choice stands
    assert opengl_backend({"DISPLAY": ":0"}, found.get, "linux") is None  # a display: MuJoCo's default works
    assert opengl_backend({"WAYLAND_DISPLAY": "wayland-0"}, found.get, "linux") is None
    assert opengl_backend({}, found.get, "darwin") is None  # macOS and Windows render natively


def _headless() -> dict[str, str]:
    return child_env(**{name: None for name in DISPLAY_VARS})


def test_mujoco_renders_without_a_display(workdir):
    pytest.importorskip("mujoco", reason="mujoco is not installed (pip install mujoco, or the test extra): "
                                         "headless MuJoCo rendering cannot be tested")
    from zoo.headless import opengl_backend

    backend = opengl_backend(_headless())
    checked = run_zoo("check", "InvertedPendulum-v5", cwd=workdir, env=_headless())
    code = ("import numpy as np, zoo\n"
            "class Still(zoo.FixedPolicy):\n"
            "    def act(self, observations): return np.zeros((len(observations), 1), dtype=np.float32)\n"
            "print(zoo.record(Still(), 'InvertedPendulum-v5', 'p.mp4', max_episode_steps=10)['frames'])\n")
    recorded = subprocess.run([sys.executable, "-c", code], cwd=workdir, env=_headless(), capture_output=True,
                              timeout=300)
    if backend is None:  # neither EGL nor OSMesa on this machine: one line that says so
        assert checked.returncode == 1 and b"install libegl1" in checked.stdout, checked.stdout
        assert b"install libegl1" in recorded.stderr
        return
    assert checked.returncode == 0 and b"passed" in checked.stdout, (checked.stdout, checked.stderr)
    assert recorded.returncode == 0, recorded.stderr.decode()[-2000:]
    assert recorded.stdout.strip() == b"11" and (workdir / "p.mp4").stat().st_size > 0


# -- item 18: tables, push errors, pygame without a display ----------------------------------------------
def _table_cells() -> dict[str, list[list[str]]]:
    """The cells ``zoo list``, ``zoo plugins`` and ``zoo pretrained`` show, from their --json."""
    listed = json.loads(runner.invoke(app, ["list", "--json"]).stdout)
    plugins = json.loads(runner.invoke(app, ["plugins", "--json"]).stdout)["plugins"]
    pretrained = json.loads(runner.invoke(app, ["pretrained", "--json"]).stdout)
    return {
        "list": [[e["name"], e["gym_id"], e["plugin"], e["package"]] for e in listed["envs"]]
        + [[a["name"], a["plugin"], a["package"], *a["description"].split()] for a in listed["agents"]],
        "plugins": [[p["name"], *(", ".join(p[key]) for key in ("envs", "agents") if p[key])] for p in plugins],
        "pretrained": [[p["agent"], p["gym_id"], str(p["trained"].get("env_steps", "?"))] for p in pretrained],
    }


def _on_a_terminal(args: list[str], columns: int, cwd: Path) -> str:
    """``zoo ARGS`` with its stdout on a pseudo-terminal ``columns`` wide: what the user sees."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    proc = subprocess.Popen([*ZOO, *args], cwd=cwd, stdout=slave, stderr=subprocess.PIPE,
                            env=child_env(COLUMNS=str(columns), TERM="xterm", NO_COLOR="1"))
    os.close(slave)
    chunks = []
    with contextlib.suppress(OSError):  # EIO once the child has exited and closed the terminal
        while chunk := os.read(master, 65536):
            chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    return _ANSI.sub(b"", b"".join(chunks)).decode()


@pytest.mark.parametrize("command", ["list", "plugins", "pretrained"])
def test_a_narrow_terminal_wraps_tables_between_words_never_inside_them(command, workdir):
    shown = _on_a_terminal([command], 20, workdir)
    words = {word.strip(",") for row in _table_cells()[command] for cell in row for word in cell.split()}
    lost = sorted(word for word in words if word not in shown)
    assert not lost, lost


@pytest.mark.parametrize("command", ["list", "plugins", "pretrained"])
def test_a_table_in_a_pipe_is_never_cut(command):
    result = runner.invoke(app, [command])  # not a terminal: a pipe, at the default width
    assert result.exit_code == 0
    assert "…" not in result.stdout
    lines = result.stdout.splitlines()
    for row in _table_cells()[command]:
        # Each row's cells whole, on one line (a pipe's reader greps them).
        assert any(all(cell in line for cell in row[:2]) for line in lines), row[:2]
        for cell in row:
            assert cell in result.stdout, cell


def test_a_push_error_is_one_line_without_a_blank_line_before_it(hub, hf_home, small_run):
    result = runner.invoke(app, ["push", str(small_run), "--repo-id", "someone-else/not-ours", "--eval-episodes", "1",
                                 "--no-video"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, repr(result.stderr)


def test_rendering_with_pygame_without_a_display_prints_nothing_on_stderr(workdir):
    import imageio.v2 as imageio

    proc = run_zoo("record", "hardcoded", "cartpole", "--out", "c.gif", "--max-steps", "3", cwd=workdir,
                   env=_headless())
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr.decode()
    assert np.asarray(imageio.imread(workdir / "c.gif")).ndim == 3
