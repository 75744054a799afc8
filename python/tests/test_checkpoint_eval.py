"""Python-saved checkpoints as `hivegym eval` scores them, and malformed files.

test_checkpoint.py checks that Go reads the weights Python writes; this checks that eval
plays them: two policies saved from Python that ignore their input, one rejecting every
request and one accepting, give the action histogram and the returns their rule implies.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from test_checkpoint import go_greedy

from hivegym import checkpoint

REPO = Path(__file__).resolve().parents[2]

# A small market (4 providers, 30 clients, two days) so that train and eval take seconds.
SMALL = """\
market:
  providers:
    - name: rtx-4090
      count: 4
      gpu_model: rtx-4090
      gpus: 1
      cpu_cores: 16
      ram_gb: 64
      idle_power_w: 60
      capex_usd_per_hour: 0.11
      locations: [germany, texas]
      failures_per_hour: {min: 0.002, max: 0.02}
      observation: full
      wallet: {usdc: {min: 200, max: 2000}, eth: {min: 0.02, max: 0.1}, hive: {min: 0, max: 500}}
  clients:
    - name: inference
      count: 30
      jobs_per_day: {min: 0.5, max: 2}
      gpu_model: ""
      min_gpu_mem_gb: 16
      gpus: {min: 1, max: 1}
      cpu_cores: {min: 2, max: 8}
      ram_gb: {min: 8, max: 32}
      duration_hours: {median: 1, sd_log: 0.8, min: 0.08333333333333333, max: 24}
      value_usd_per_unit_hour: {median: 0.6, sd_log: 0.4, min: 0.05, max: 5}
      payment_asset: USDC
      collateral_fraction: 0.1
      max_wait_ticks: 12
      wallet: {usdc: {min: 50, max: 500}, eth: {min: 0.01, max: 0.05}, hive: {min: 0, max: 200}}
env:
  episode_ticks: 48
training:
  iterations: 1
"""

# Action indices (env/action.go; actions.csv names them, and the test checks the names).
REJECT, ACCEPT = 1, 2


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    go = shutil.which("go")
    if go is None:
        pytest.skip("needs the Go toolchain")
    d = tmp_path_factory.mktemp("small")
    exe = d / "hivegym"
    env = dict(os.environ, GOFLAGS=(os.environ.get("GOFLAGS", "") + " -buildvcs=false").strip())
    subprocess.run([go, "build", "-o", str(exe), "./cmd/hivegym"], cwd=REPO, env=env, check=True)
    cfg = d / "small.yaml"
    cfg.write_text(SMALL)
    run = d / "run"
    subprocess.run(
        [str(exe), "train", "-c", str(cfg), "--out", str(run)], check=True, capture_output=True
    )
    ckpt = run / "checkpoints" / "providers-latest.safetensors"
    return {"exe": exe, "config": cfg, "run": run, "ckpt": ckpt}


def constant(policy: checkpoint.Policy, favour: int, against: int) -> checkpoint.Policy:
    """A policy that ignores its input: logits 10 for favour, -10 for against, else 0."""
    biases = [np.zeros_like(b) for b in policy.biases]
    biases[-1][favour], biases[-1][against] = 10.0, -10.0
    weights = [np.zeros_like(w) for w in policy.weights]
    return checkpoint.Policy(weights=weights, biases=biases, activation=policy.activation)


def evaluate(small: dict[str, Path], ckpt: Path, out: Path) -> tuple[float, dict[str, int]]:
    args = [str(small["exe"]), "eval", str(ckpt), "--episodes", "2", "--baselines", ""]
    r = subprocess.run([*args, "--out", str(out), "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    g = next(g for g in json.loads(r.stdout)["groups"] if g["name"] == "providers")
    with open(out / "actions.csv") as f:
        rows = [row for row in csv.DictReader(f) if row["group"] == "providers"]
    assert rows[REJECT]["action"] == "reject" and rows[ACCEPT]["action"] == "accept"
    return g["metrics"]["cumulative_return"]["mean"], {r["action"]: int(r["count"]) for r in rows}


def test_saved_policies_play_their_rule(small: dict[str, Path], tmp_path: Path) -> None:
    policy = checkpoint.load(small["ckpt"])
    ckdir = small["run"] / "checkpoints"
    rej, acc = ckdir / "providers-py-reject.safetensors", ckdir / "providers-py-accept.safetensors"
    checkpoint.save(rej, constant(policy, REJECT, ACCEPT), small["ckpt"])
    checkpoint.save(acc, constant(policy, ACCEPT, REJECT), small["ckpt"])
    ret_r, n_r = evaluate(small, rej, tmp_path / "r")
    ret_a, n_a = evaluate(small, acc, tmp_path / "a")
    # Rejecting is legal on every decision a provider with scripted protocol steps takes.
    assert n_r["reject"] > 0 and n_r["reject"] == sum(n_r.values()), n_r
    assert n_a["accept"] > 0 and n_a["reject"] < n_a["accept"], n_a
    # A provider that rejects every request earns nothing but pays for idle hardware; one
    # that accepts sells compute above its cost (clients open at their value).
    assert ret_a > ret_r
    # Outside a run directory the file evaluates with -c the config it was trained under.
    bare = tmp_path / "bare.safetensors"
    bare.write_bytes(rej.read_bytes())
    args = [str(small["exe"]), "eval", str(bare), "-c", str(small["config"]), "--episodes", "2"]
    r = subprocess.run([*args, "--baselines", ""], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr


def test_malformed_checkpoints_refused(small: dict[str, Path], tmp_path: Path) -> None:
    good = small["ckpt"].read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="cut.safetensors: not a safetensors checkpoint"):
        checkpoint.load(cut)
    policy = checkpoint.load(small["ckpt"])
    obs = np.zeros((1, policy.obs_dim), np.float32)
    mask = np.ones((1, policy.num_actions), np.uint8)
    with pytest.raises(ValueError, match="cut.safetensors"):
        go_greedy(cut, obs, mask)
    # Go refuses a NaN weight written into an otherwise valid file.
    from safetensors.numpy import load_file, save_file

    ts = load_file(str(small["ckpt"]))
    with open(small["ckpt"], "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        meta = json.loads(f.read(n))["__metadata__"]
    ts["actor.0.weight"] = ts["actor.0.weight"].copy()
    ts["actor.0.weight"][0, 0] = np.nan
    nan = tmp_path / "nan.safetensors"
    save_file(ts, str(nan), metadata=meta)
    with pytest.raises(ValueError, match="NaN"):
        go_greedy(nan, obs, mask)
    with pytest.raises(ValueError, match="not finite"):
        checkpoint.load(nan)
