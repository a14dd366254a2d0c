"""Recording one episode of a policy as a video a person can watch (mp4 or gif).

An mp4 is encoded while the episode plays: each frame goes to ffmpeg (a separate process, so on
another core) as soon as it is rendered, and the video is done when the episode is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from zoo.exceptions import ZooError
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


@contextlib.contextmanager
def video_writer(path: Path, fps: float) -> Iterator[Callable[[np.ndarray], None]]:
    """A function that adds a frame to the video at ``path``, written when the block ends."""
    if path.suffix.lower() == ".gif":
        import imageio.v2 as imageio

        frames: list[np.ndarray] = []
        yield frames.append
        imageio.mimsave(path, frames, duration=1000 / fps, loop=0)
        return
    import imageio_ffmpeg

    encoder = None
    size = None

    def add(frame: np.ndarray) -> None:
        nonlocal encoder, size
        if encoder is None:
            # Even frame sizes keep every H.264 player happy. libx264 named, not probed for: the
            # ffmpeg imageio-ffmpeg ships has it, and probing runs ffmpeg several times. Preset
            # ultrafast: ffmpeg then encodes faster than the env renders (the default preset does
            # not, and the episode would wait for it), for files about twice as large (kBs).
            size = ((frame.shape[1] // 2) * 2, (frame.shape[0] // 2) * 2)
            encoder = imageio_ffmpeg.write_frames(str(path), size, fps=fps, codec="libx264", macro_block_size=1,
                                                  output_params=["-preset", "ultrafast"])
            encoder.send(None)
        encoder.send(np.ascontiguousarray(frame[:size[1], :size[0], :3]))

    try:
        yield add
    finally:
        if encoder is not None:
            encoder.close()


def record(policy: PolicyPredictor, env: str, out: str | Path, *, seed: int = 0,
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
    max_episode_steps = episode_step_cap(entry.name, max_episode_steps)
    at_most = max_episode_steps or entry.time_limit
    gym_env = make_env(entry.name, render_mode="rgb_array", max_episode_steps=max_episode_steps)
    total, steps, frames = 0.0, 0, 0
    try:
        with writing_file(out, "video file") as tmp, \
                video_writer(tmp, fps or gym_env.metadata.get("render_fps", 30)) as add_frame:
            obs, _ = gym_env.reset(seed=seed)
            add_frame(upscale(gym_env.render()))
            frames += 1
            episode_start = np.ones(1, dtype=bool)
            state = None
            while True:
                action, state = policy.predict(obs[None], state=state, episode_start=episode_start,
                                               deterministic=deterministic)
                episode_start = np.zeros(1, dtype=bool)
                obs, reward, terminated, truncated, _ = gym_env.step(action[0])
                total += float(reward)
                steps += 1
                add_frame(upscale(gym_env.render()))
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
