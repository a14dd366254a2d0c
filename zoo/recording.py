"""Recording one episode of a policy as a video a person can watch (mp4 or gif).

An mp4 is encoded while the episode plays: each frame goes to ffmpeg (a separate process, so on
another core) as soon as it is rendered, and the video is done when the episode is. Either
format is written under a temporary name and renamed into place only when it is complete: a
full disk, an ffmpeg that fails or a SIGTERM leaves no file behind, and no "recorded".
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
from gymnasium.vector.utils import concatenate, create_empty_array

from zoo import headless
from zoo.entries import EnvEntry
from zoo.exceptions import ZooError, one_line
from zoo.factory import env_entry, episode_step_cap, make_env
from zoo.files import check_writable_file, writing_file
from zoo.limits import check_count, check_seed
from zoo.policy import PolicyPredictor

VIDEO_SUFFIXES = (".mp4", ".gif")


#: Frames smaller than this (Pixelcopter renders 48x48) are enlarged so a person can watch them.
MIN_VIDEO_SIZE = 384

#: ``progress(steps_done, steps_at_most)``, called after every step of the episode.
RecordProgress = Callable[[int, int | None], None]


def upscale(frame: np.ndarray, min_size: int = MIN_VIDEO_SIZE) -> np.ndarray:
    """Enlarge a small frame by an integer factor, pixels kept sharp (nearest neighbour)."""
    factor = -(-min_size // max(frame.shape[:2]))
    if factor <= 1:
        return frame
    return np.repeat(np.repeat(frame, factor, axis=0), factor, axis=1)


#: ffmpeg's error messages, mapped back to the errors they report (so a full disk reads as one).
_REPORTED_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EIO)


def _ffmpeg_failure(returncode: int, log: str, path: Path) -> OSError:
    """Why ffmpeg failed to write ``path``, as the OSError a writer of our own would have raised."""
    for code in _REPORTED_ERRORS:
        if os.strerror(code) in log:
            return OSError(code, os.strerror(code), str(path))
    if returncode == -signal.SIGXFSZ:  # killed for going past the file-size limit
        return OSError(errno.EFBIG, os.strerror(errno.EFBIG), str(path))
    lines = [text for text in (re.sub(r"^\[[^]]*\]\s*", "", line).strip() for line in log.splitlines()) if text]
    said = next((line for line in lines if "error" in line.lower()), lines[-1] if lines else "")
    how = f"was killed by {signal.Signals(-returncode).name}" if returncode < 0 else f"exited with code {returncode}"
    return OSError(errno.EIO, f"ffmpeg {how}" + (f": {said}" if said else ""), str(path))


_HELD = {signal.SIGINT, signal.SIGTERM}
_CAN_HOLD = hasattr(signal, "pthread_sigmask")


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block ends, then arrive as usual. Blocking them in this
    thread is not enough: the OS hands a process's signal to any thread that does not block it
    (numpy's BLAS starts threads), and Python then runs the handler in the main thread at once.
    So the handlers themselves only note a signal meanwhile, and it is raised again at the end."""
    in_main = threading.current_thread() is threading.main_thread()
    noted: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: noted.append(signum)) for sig in _HELD} \
        if in_main else {}
    if _CAN_HOLD:
        signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        if _CAN_HOLD:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)  # None: set outside Python
        for sig in dict.fromkeys(noted):
            signal.raise_signal(sig)


def _release_signals() -> None:
    """In the child, before ffmpeg runs: it answers Ctrl-C and SIGTERM again (a mask is inherited)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)


class _Encoder:
    """ffmpeg (the binary imageio-ffmpeg ships) encoding the frames it is sent into an H.264 mp4.
    Run here rather than through imageio-ffmpeg's ``write_frames``, which ignores ffmpeg's exit
    status (a full disk gave an unreadable file, reported as recorded) and lets ffmpeg print on
    the user's terminal; here its messages are kept, and a failure is an OSError saying why."""

    def __init__(self, path: Path, fps: float) -> None:
        self.path, self.fps = path, fps
        self.process: subprocess.Popen | None = None
        self.size: tuple[int, int] = (0, 0)
        self.log: Any = None

    def _start(self, frame: np.ndarray) -> None:
        import imageio_ffmpeg

        # Even frame sizes keep every H.264 player happy. libx264 named, not probed for: the
        # ffmpeg imageio-ffmpeg ships has it, and probing runs ffmpeg several times. Preset
        # ultrafast: ffmpeg then encodes faster than the env renders (the default preset does
        # not, and the episode would wait for it), for files about twice as large (kBs).
        self.size = ((frame.shape[1] // 2) * 2, (frame.shape[0] // 2) * 2)
        fps = str(Fraction(self.fps).limit_denominator())
        self.log = tempfile.TemporaryFile()  # not a pipe: nobody reads it while frames are sent
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-f", "rawvideo", "-vcodec", "rawvideo",
                   "-s", f"{self.size[0]}x{self.size[1]}", "-pix_fmt", "rgb24", "-r", fps, "-i", "-", "-an",
                   "-vcodec", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast", str(self.path)]
        with _signals_held():
            # A SIGTERM or Ctrl-C raised inside Popen, after the fork, would leave an ffmpeg that
            # nobody kills, which then writes the file the clean-up has just removed.
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                            stderr=self.log, preexec_fn=_release_signals if _CAN_HOLD else None)

    def add(self, frame: np.ndarray) -> None:
        if self.process is None:
            self._start(frame)
        try:
            self.process.stdin.write(np.ascontiguousarray(frame[:self.size[1], :self.size[0], :3]))
        except BrokenPipeError:  # ffmpeg stopped: its exit status and messages say why
            self.finish()
            raise OSError(errno.EIO, "ffmpeg stopped reading frames", str(self.path)) from None

    def finish(self) -> None:
        """Wait for ffmpeg to write the end of the file; OSError if it could not."""
        if self.process is None:
            return
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.close()
        returncode = self.process.wait()
        if returncode != 0:
            self.log.seek(0)
            raise _ffmpeg_failure(returncode, self.log.read().decode(errors="replace"), self.path)

    def abort(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def close(self) -> None:
        if self.process is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        if self.log is not None:
            self.log.close()


def _write_gif(path: Path, frames: list[np.ndarray], fps: float) -> None:
    import imageio.v3 as iio

    # Encoded in memory, then written in one go: a write that fails (a full disk) fails here, as
    # an OSError; imageio writing to the file itself reported it only from a destructor, as an
    # "Exception ignored" traceback.
    data = iio.imwrite("<bytes>", frames, extension=".gif", duration=1000 / fps, loop=0)
    with open(path, "wb") as f:
        f.write(data)


@contextlib.contextmanager
def video_writer(path: Path, fps: float) -> Iterator[Callable[[np.ndarray], None]]:
    """A function that adds a frame to the video at ``path``, written when the block ends. A
    video that cannot be written whole raises OSError: nothing unplayable is reported as recorded."""
    if path.suffix.lower() == ".gif":
        frames: list[np.ndarray] = []
        yield frames.append
        _write_gif(path, frames, fps)
        return
    encoder = _Encoder(path, fps)
    try:
        yield encoder.add
        encoder.finish()
    except BaseException:
        encoder.abort()  # ffmpeg stops writing before the caller removes the file
        raise
    finally:
        encoder.close()


def _rendered(env: gymnasium.Env, name: str) -> np.ndarray:
    """The env's frame, or a one-line ZooError that says why it cannot draw one."""
    try:
        frame = env.render()
    except Exception as exc:  # the env's renderer (an OpenGL platform, a display) failed
        raise ZooError(f"env {name!r} cannot render: {one_line(exc)}{headless.advice(exc)}") from exc
    if not isinstance(frame, np.ndarray) or frame.ndim != 3:
        raise ZooError(f"env {name!r} rendered {type(frame).__name__}, not an RGB frame")
    return upscale(frame)


def record(policy: PolicyPredictor, env: str | EnvEntry, out: str | Path, *, seed: int = 0,
           deterministic: bool = True, max_episode_steps: int | None = None, fps: int | None = None,
           progress: RecordProgress | None = None) -> dict:
    """Play one episode of ``policy`` on ``env`` and write its frames to ``out``."""
    out = Path(out)
    if out.suffix.lower() not in VIDEO_SUFFIXES:
        raise ZooError(f"video file {str(out)!r} must end in {' or '.join(VIDEO_SUFFIXES)}")
    check_seed(seed)
    if max_episode_steps is not None:
        check_count(max_episode_steps, "--max-steps")
    check_writable_file(out, "video file")
    entry = env_entry(env)
    max_episode_steps = episode_step_cap(entry, max_episode_steps)
    at_most = max_episode_steps or entry.time_limit
    gym_env = make_env(entry, render_mode="rgb_array", max_episode_steps=max_episode_steps)
    space = gym_env.observation_space
    total, steps, frames = 0.0, 0, 0
    try:
        with writing_file(out, "video file") as tmp, \
                video_writer(tmp, fps or gym_env.metadata.get("render_fps", 30)) as add_frame:
            obs, _ = gym_env.reset(seed=seed)
            add_frame(_rendered(gym_env, entry.name))
            frames += 1
            episode_start = np.ones(1, dtype=bool)
            state = None
            while True:
                # The policy acts on batches (SB3's predict): a batch of one, whatever the space
                # (a Discrete observation is a plain int).
                batch = concatenate(space, [obs], create_empty_array(space, 1))
                action, state = policy.predict(batch, state=state, episode_start=episode_start,
                                               deterministic=deterministic)
                episode_start = np.zeros(1, dtype=bool)
                obs, reward, terminated, truncated, _ = gym_env.step(action[0])
                total += float(reward)
                steps += 1
                add_frame(_rendered(gym_env, entry.name))
                frames += 1
                if progress is not None:
                    progress(steps, at_most)
                if terminated or truncated:
                    break
            if progress is not None:
                progress(steps, steps)  # the episode is over: the bar is full
    finally:
        gym_env.close()
    return {"path": str(out), "return": total, "steps": steps, "frames": frames}
