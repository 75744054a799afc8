"""Checkpoint interop: a `hivegym train` checkpoint acts in numpy (and torch) as in Go,
and a checkpoint written from Python is scored by `hivegym eval`."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from hivegym import checkpoint
from hivegym._lib import lib

REPO = Path(__file__).resolve().parents[2]

TINY = """\
env:
  episode_ticks: 60
training:
  iterations: 2
"""


def go_greedy(
    path: Path, obs: npt.NDArray[np.float32], mask: npt.NDArray[np.uint8]
) -> npt.NDArray[np.int32]:
    """Greedy actions computed by Go (agents/ppo, through cabi's hg_policy_greedy)."""
    obs = np.ascontiguousarray(obs, dtype=np.float32)
    mask = np.ascontiguousarray(mask, dtype=np.uint8)
    out = np.zeros(obs.shape[0], dtype=np.int32)
    err = ctypes.create_string_buffer(4096)
    st = lib.hg_policy_greedy(
        str(path).encode(),
        obs.ctypes.data,
        obs.size,
        mask.ctypes.data,
        mask.size,
        obs.shape[0],
        out.ctypes.data,
        err,
        len(err),
    )
    if st != 0:
        raise ValueError(err.value.decode())
    return out


@pytest.fixture(scope="module")
def hivegym_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = shutil.which("go")
    if go is None:
        pytest.skip("needs the Go toolchain")
    out = tmp_path_factory.mktemp("bin") / "hivegym"
    env = dict(os.environ, GOFLAGS=(os.environ.get("GOFLAGS", "") + " -buildvcs=false").strip())
    subprocess.run([go, "build", "-o", str(out), "./cmd/hivegym"], cwd=REPO, env=env, check=True)
    return out


@pytest.fixture(scope="module")
def run_dir(hivegym_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("train")
    cfg = d / "tiny.yaml"
    cfg.write_text(TINY)
    run = d / "run"
    subprocess.run(
        [str(hivegym_bin), "train", "-c", str(cfg), "--out", str(run)],
        check=True,
        capture_output=True,
    )
    return run


def rows(
    policy: checkpoint.Policy, n: int, seed: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8]]:
    """Random observations at the scale of the env's features and random masks with at
    least one legal action per row."""
    rng = np.random.default_rng(seed)
    obs = rng.normal(0, 1.5, size=(n, policy.obs_dim)).astype(np.float32)
    mask = (rng.random((n, policy.num_actions)) < 0.4).astype(np.uint8)
    mask[np.arange(n), rng.integers(0, policy.num_actions, n)] = 1
    return obs, mask


def test_numpy_acts_as_go(run_dir: Path) -> None:
    path = run_dir / "checkpoints" / "providers-latest.safetensors"
    policy = checkpoint.load(path)
    assert policy.metadata["hivegym.policy"] == "providers"
    obs, mask = rows(policy, 512, seed=1)
    want = go_greedy(path, obs, mask)
    np.testing.assert_array_equal(policy.greedy(obs, mask), want)
    # Unmasked too: every action legal.
    full = np.ones_like(mask)
    np.testing.assert_array_equal(policy.greedy(obs), go_greedy(path, obs, full))
    # The actions are not all one value, or the comparison would prove little.
    assert len(np.unique(want)) > 3


def test_torch_acts_as_go(run_dir: Path) -> None:
    torch = pytest.importorskip("torch")
    path = run_dir / "checkpoints" / "providers-latest.safetensors"
    policy = checkpoint.load(path)
    model = policy.to_torch()
    n = len(policy.weights)
    want = [name for i in range(n) for name in (f"{2 * i}.weight", f"{2 * i}.bias")]
    assert list(model.state_dict()) == want
    obs, mask = rows(policy, 256, seed=2)
    with torch.no_grad():
        z = model(torch.from_numpy(obs)).numpy().astype(np.float64)
    got = np.argmax(np.where(mask.astype(bool), z, -np.inf), axis=1)
    np.testing.assert_array_equal(got, go_greedy(path, obs, mask))


def test_python_saved_checkpoint_evaluates(
    run_dir: Path, hivegym_bin: Path, tmp_path: Path
) -> None:
    template = run_dir / "checkpoints" / "providers-latest.safetensors"
    policy = checkpoint.load(template)
    # A policy "trained in Python": the actor's output layer biased hard toward one action.
    favourite = 3
    biases = [b.copy() for b in policy.biases]
    biases[-1][favourite] += 50.0
    trained = checkpoint.Policy(weights=policy.weights, biases=biases, activation=policy.activation)
    out = run_dir / "checkpoints" / "providers-python.safetensors"
    checkpoint.save(out, trained, template)

    # Go reads the weights Python wrote: its greedy actions are the new policy's.
    obs, mask = rows(policy, 256, seed=3)
    np.testing.assert_array_equal(go_greedy(out, obs, mask), trained.greedy(obs, mask))
    assert not np.array_equal(go_greedy(out, obs, mask), go_greedy(template, obs, mask))

    ev = subprocess.run(
        [
            str(hivegym_bin),
            "eval",
            str(out),
            "--episodes",
            "2",
            "--baselines",
            "",
            "--json",
            "--out",
            str(tmp_path / "e"),
        ],
        capture_output=True,
        text=True,
    )
    assert ev.returncode == 0, ev.stderr
    doc = json.loads(ev.stdout)
    assert [g["name"] for g in doc["groups"]][:1] == ["providers"]


def test_save_refuses_a_policy_of_another_shape(run_dir: Path, tmp_path: Path) -> None:
    template = run_dir / "checkpoints" / "providers-latest.safetensors"
    policy = checkpoint.load(template)
    wrong = checkpoint.Policy(
        weights=[
            np.zeros((8, policy.obs_dim), np.float32),
            np.zeros((policy.num_actions, 8), np.float32),
        ],
        biases=[np.zeros(8, np.float32), np.zeros(policy.num_actions, np.float32)],
    )
    with pytest.raises(ValueError, match="shape"):
        checkpoint.save(tmp_path / "x.safetensors", wrong, template)
    with pytest.raises(ValueError, match="not finite"):
        checkpoint.Policy(
            weights=[np.full((2, 2), np.nan, np.float32)], biases=[np.zeros(2, np.float32)]
        )


def test_example_trains_and_evaluates(hivegym_bin: Path, tmp_path: Path) -> None:
    """examples/python/train_ppo.py, for one short iteration: trains from Python, saves a
    checkpoint, and `hivegym eval` scores it (exit 0, the table on stdout)."""
    script = REPO / "examples" / "python" / "train_ppo.py"
    env = dict(os.environ, PYTHONPATH=str(REPO / "python"))
    out = subprocess.run(
        [
            sys.executable,
            str(script),
            "--iterations",
            "1",
            "--episode-ticks",
            "48",
            "--num-envs",
            "1",
            "--eval-episodes",
            "2",
            "--out",
            str(tmp_path / "run"),
            "--hivegym",
            str(hivegym_bin),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "iteration=1 charts/episodic_return=" in out.stdout
    assert "providers/cost-plus" in out.stdout
    assert (tmp_path / "run" / "checkpoints" / "providers-python.safetensors").is_file()
