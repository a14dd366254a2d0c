"""Recording one episode of a policy as a video a person can watch (mp4 or gif)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo.contract import PolicyPredictor
from zoo.errors import ZooError
from zoo.factory import env_entry, episode_step_cap, make_env
from zoo.files import check_writable_file, writing_file
from zoo.limits import check_count, check_seed

VIDEO_SUFFIXES = (".mp4", ".gif")


#: Frames smaller than this (Pixelcopter renders 48x48) are enlarged so a person can watch them.
MIN_VIDEO_SIZE = 384


def upscale(frame: np.ndarray, min_size: int = MIN_VIDEO_SIZE) -> np.ndarray:
    """Enlarge a small frame by an integer factor, pixels kept sharp (nearest neighbour)."""
    factor = -(-min_size // max(frame.shape[:2]))
    if factor <= 1:
        return frame
    return np.repeat(np.repeat(frame, factor, axis=0), factor, axis=1)


def record(policy: PolicyPredictor, env: str, out: str | Path, *, seed: int = 0,
           deterministic: bool = True, max_episode_steps: int | None = None, fps: int | None = None) -> dict:
    """Play one episode of ``policy`` on ``env`` and write its frames to ``out``."""
    import imageio.v2 as imageio

    out = Path(out)
    if out.suffix.lower() not in VIDEO_SUFFIXES:
        raise ZooError(f"video file {str(out)!r} must end in {' or '.join(VIDEO_SUFFIXES)}")
    check_seed(seed)
    if max_episode_steps is not None:
        check_count(max_episode_steps, "--max-steps")
    check_writable_file(out, "video file")
    entry = env_entry(env)
    max_episode_steps = episode_step_cap(entry.name, max_episode_steps)
    gym_env = make_env(entry.name, render_mode="rgb_array", max_episode_steps=max_episode_steps)
    frames, total, steps = [], 0.0, 0
    try:
        obs, _ = gym_env.reset(seed=seed)
        frames.append(gym_env.render())
        episode_start = np.ones(1, dtype=bool)
        state = None
        while True:
            action, state = policy.predict(obs[None], state=state, episode_start=episode_start,
                                           deterministic=deterministic)
            episode_start = np.zeros(1, dtype=bool)
            obs, reward, terminated, truncated, _ = gym_env.step(action[0])
            total += float(reward)
            steps += 1
            frames.append(gym_env.render())
            if terminated or truncated:
                break
        fps = fps or gym_env.metadata.get("render_fps", 30)
    finally:
        gym_env.close()
    frames = [upscale(f) for f in frames]
    with writing_file(out, "video file") as tmp:
        if out.suffix.lower() == ".gif":
            imageio.mimsave(tmp, frames, duration=1000 / fps, loop=0)
        else:
            # Even frame sizes keep every H.264 player happy.
            h, w = (frames[0].shape[0] // 2) * 2, (frames[0].shape[1] // 2) * 2
            imageio.mimsave(tmp, [f[:h, :w] for f in frames], fps=fps, macro_block_size=1)
    return {"path": str(out), "return": total, "steps": steps, "frames": len(frames)}
