"""Decisions per second: the batched API and the PettingZoo dict API against native Go.

One run measures, on the default config with every agent controlled (control="all", so
every decision crosses the boundary, as every decision of BenchmarkEnvStep is the
policy's): the Go benchmark env.BenchmarkEnvStep (the native environment stepped by the
random-legal policy, run with `go test`), then the same environment through
hivegym.VecEnv (K = 1 and 2) and through the PettingZoo ParallelEnv, each with a
uniform random-legal policy in numpy. `make bench-python` runs it.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import time
from pathlib import Path

import numpy as np

import hivegym


def native(benchtime: str) -> float:
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [
            "go",
            "test",
            "-run",
            "^$",
            "-bench",
            "^BenchmarkEnvStep$",
            "-benchtime",
            benchtime,
            "-benchmem",
            "./env/",
        ],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("BenchmarkEnvStep"))
    print(line)
    m = re.search(r"([\d.e+]+) decisions/s", line)
    assert m, line
    return float(m.group(1))


def batched(num_envs: int, seconds: float) -> float:
    v = hivegym.VecEnv(None, num_envs=num_envs, workers=num_envs, control="all")
    rng = np.random.default_rng(1)
    rows = v.reset(1)
    seed = 2

    def step() -> int:
        nonlocal rows, seed
        if rows.done:
            rows = v.reset(seed)
            seed += 1
        acts = (rng.random(rows.mask.shape) * rows.mask).argmax(axis=1)
        rows = v.step(acts.astype(np.int32))
        return len(rows)

    for _ in range(3000):
        step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(100):
            n += step()
    dt = time.perf_counter() - t0
    v.close()
    return n / dt


def pettingzoo(seconds: float) -> float:
    env = hivegym.parallel_env(None, seed=1, control="all")
    rng = np.random.default_rng(1)
    obs, infos = env.reset(seed=1)
    for _ in range(300):
        obs, _, _, _, infos = env.step({})
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        if not env.agents:
            obs, infos = env.reset()
        acts = {}
        for a, info in infos.items():
            if info["decision"] != "none" and a in obs:
                legal = np.flatnonzero(obs[a]["action_mask"])
                acts[a] = int(legal[rng.integers(len(legal))]) if len(legal) else 0
        obs, _, _, _, infos = env.step(acts)
        n += sum(1 for i in infos.values() if i["decision"] != "none")
    dt = time.perf_counter() - t0
    env.close()
    return n / dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=3.0, help="time per Python measurement")
    ap.add_argument("--benchtime", default="3s", help="go test -benchtime of the native run")
    args = ap.parse_args()
    go = native(args.benchtime)
    b1 = batched(1, args.seconds)
    b2 = batched(2, args.seconds)
    pz = pettingzoo(args.seconds)
    print(f"native Go   BenchmarkEnvStep      {go:12.0f} decisions/s")
    print(
        f"Python      VecEnv K=1            {b1:12.0f} decisions/s  {100 * b1 / go:5.1f}% of native"
    )
    print(
        f"Python      VecEnv K=2 (2 workers){b2:12.0f} decisions/s  {100 * b2 / go:5.1f}% of native"
    )
    print(
        f"Python      PettingZoo dict API   {pz:12.0f} decisions/s  {100 * pz / go:5.1f}% of native"
    )


if __name__ == "__main__":
    main()
