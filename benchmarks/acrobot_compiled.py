"""Would compiled code (numba) pay on Acrobot? Its RK4 step compiled, against the batched numpy one.

    pip install numba && python benchmarks/acrobot_compiled.py [--copies 16] [--states 20000]

The batched Acrobot (``zoo.envs.classic.acrobot``) spends most of a step in numpy's per-call
overhead: four ``_dsdt`` of about 30 calls each on 16 numbers. A loop compiled by numba has no such
overhead, so this measures, in one run:

* **bits**: the compiled step against ``AcrobotVectorEnv._rk4`` on ``--states`` random states (a third of
  them float32 values, as after a reset) under random torques; every element must be equal.
  The squares go through the C library's ``pow`` as gymnasium's numpy scalars do: ``math.pow``
  with the exponent passed in at run time, so that LLVM cannot turn ``pow(x, 2)`` into ``x * x``;
* **step**: microseconds per RK4 step of ``--copies`` copies, both ways (best of 5 rounds);
* **cost per process**: importing numba, and the first call's compile (empty cache) or cache
  load (warm cache), each in a fresh process, since every ``zoo train`` pays them once.

The verdict compares the step time saved over a training of ``--training-steps`` vector steps
with that cost (at its defaults Acrobot reaches -100 after a median of about 64,500 env steps:
4,000 steps of 16 copies).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
import timeit
from pathlib import Path

import numpy as np

KERNEL = textwrap.dedent('''
    import math
    from numba import njit

    @njit(cache=True)
    def dsdt(t1, t2, dt1, dt2, a, c):
        (m1_lc1_sq, m2, l1_sq_lc2_sq, two_l1_lc2, lc2_sq, l1_lc2, i1, i2, phi2_factor, cos1_factor,
         neg_m2_l1_lc2, two_m2_l1_lc2, m2_l1_lc2, m2_lc2_sq_i2, half_pi, two) = c
        c2 = math.cos(t2)
        d1 = m1_lc1_sq + m2 * (l1_sq_lc2_sq + two_l1_lc2 * c2) + i1 + i2
        d2 = m2 * (lc2_sq + l1_lc2 * c2) + i2
        phi2 = phi2_factor * math.cos(t1 + t2 - half_pi)
        s2 = math.sin(t2)
        phi1 = (neg_m2_l1_lc2 * math.pow(dt2, two) * s2 - two_m2_l1_lc2 * dt2 * dt1 * s2
                + cos1_factor * math.cos(t1 - half_pi) + phi2)
        ddt2 = ((a + d2 / d1 * phi1 - m2_l1_lc2 * math.pow(dt1, two) * s2 - phi2)
                / (m2_lc2_sq_i2 - math.pow(d2, two) / d1))
        ddt1 = -(d2 * ddt2 + phi1) / d1
        return dt1, dt2, ddt1, ddt2

    @njit(cache=True)
    def rk4(state, torque, c, dt, dt2, dt6):
        for i in range(state.shape[1]):
            y0, y1, y2, y3, a = state[0, i], state[1, i], state[2, i], state[3, i], torque[i]
            k10, k11, k12, k13 = dsdt(y0, y1, y2, y3, a, c)
            k20, k21, k22, k23 = dsdt(y0 + dt2 * k10, y1 + dt2 * k11, y2 + dt2 * k12, y3 + dt2 * k13, a, c)
            k30, k31, k32, k33 = dsdt(y0 + dt2 * k20, y1 + dt2 * k21, y2 + dt2 * k22, y3 + dt2 * k23, a, c)
            k40, k41, k42, k43 = dsdt(y0 + dt * k30, y1 + dt * k31, y2 + dt * k32, y3 + dt * k33, a, c)
            state[0, i] = y0 + dt6 * (k10 + 2.0 * k20 + 2.0 * k30 + k40)
            state[1, i] = y1 + dt6 * (k11 + 2.0 * k21 + 2.0 * k31 + k41)
            state[2, i] = y2 + dt6 * (k12 + 2.0 * k22 + 2.0 * k32 + k42)
            state[3, i] = y3 + dt6 * (k13 + 2.0 * k23 + 2.0 * k33 + k43)
''')


def kernel_constants(c) -> tuple[float, ...]:
    """The kernel's constants, in its order, read from the env's own ``_Constants`` ``c`` (one copy
    of gymnasium's constant factors: the env's)."""
    columns = [float(row[0]) for row in (*c.cos_factors, *c.d_offsets)]  # each row holds one constant
    phi2_factor, cos1_factor, two_l1_lc2, l1_sq_lc2_sq, lc2_sq = columns
    return (float(c.m1_lc1_sq), float(c.m2), l1_sq_lc2_sq, two_l1_lc2, lc2_sq, float(c.l1_lc2), float(c.I1),
            float(c.I2), phi2_factor, cos1_factor, float(c.neg_m2_l1_lc2), float(c.two_m2_l1_lc2),
            float(c.square_factors[0, 0]), float(c.m2_lc2_sq_I2), float(c.half_pi), 2.0)


def fresh_process_seconds(folder: Path, cache: Path, constants: tuple[float, ...]) -> tuple[float, float]:
    """(import numba and the kernel, first call) in a new process that has numpy already, with ``cache``
    as numba's cache."""
    probe = ("import time, numpy as np; t = time.perf_counter(); import kernel; i = time.perf_counter() - t; "
             "t = time.perf_counter(); kernel.rk4(np.zeros((4, 16)), np.zeros(16), "
             f"{constants!r}, 0.2, 0.1, 0.2 / 6.0); print(i, time.perf_counter() - t)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=folder,
                          env={"NUMBA_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin"})
    imported, first = map(float, done.stdout.split())
    return imported, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=16)
    parser.add_argument("--states", type=int, default=20_000)
    parser.add_argument("--training-steps", type=int, default=4_000)
    args = parser.parse_args()
    try:
        import numba  # noqa: F401
    except ImportError:
        raise SystemExit("error: numba is not installed; pip install numba, then run this again") from None
    from zoo.envs.classic.acrobot import AcrobotVectorEnv

    n = args.copies
    env = AcrobotVectorEnv(n)
    ours = env._constants()
    theirs, steps = kernel_constants(ours), (float(ours.dt), float(ours.dt2), float(ours.dt6))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "kernel.py").write_text(KERNEL)
        cold = fresh_process_seconds(folder, folder / "cache", theirs)
        warm = fresh_process_seconds(folder, folder / "cache", theirs)
        sys.path.insert(0, tmp)
        import kernel

        rng = np.random.default_rng(0)
        scale = np.array([[np.pi], [np.pi], [4 * np.pi], [9 * np.pi]])
        differing = 0
        for k in range(args.states):
            state = rng.uniform(-1, 1, (4, n)) * scale
            if k % 3 == 0:
                state = state.astype(np.float32).astype(np.float64)
            torque = rng.choice([-1.0, 0.0, 1.0], n)
            numpy_way, compiled = state.copy(), state.copy()
            env._rk4(numpy_way, torque, ours)
            kernel.rk4(compiled, torque, theirs, *steps)
            differing += int((numpy_way.view(np.uint64) != compiled.view(np.uint64)).sum())
        state, torque = rng.uniform(-1, 1, (4, n)) * 0.1, np.zeros(n)
        numpy_us = min(timeit.repeat(lambda: env._rk4(state, torque, ours), number=2000, repeat=5)) / 2000 * 1e6
        compiled_us = min(timeit.repeat(lambda: kernel.rk4(state, torque, theirs, *steps),
                                        number=2000, repeat=5)) / 2000 * 1e6

    saved = (numpy_us - compiled_us) * args.training_steps / 1e6
    per_process = warm[0] + warm[1]
    print(f"bits: {differing} of {args.states * 4 * n:,} elements differ from the numpy step")
    print(f"RK4 step of {n} copies: numpy {numpy_us:.1f} us, numba {compiled_us:.1f} us "
          f"({numpy_us / compiled_us:.1f}x)")
    print(f"per process: import numba {warm[0]:.3f} s; first call {cold[1]:.3f} s compiling, {warm[1]:.3f} s "
          f"from the cache")
    print(f"over {args.training_steps:,} steps: {saved:.3f} s saved against {per_process:.3f} s paid per process "
          f"({'pays' if saved > per_process else 'does not pay'})")


if __name__ == "__main__":
    main()
