from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from conftest import IOT_BOTH, SHORT
from pettingzoo.test import parallel_api_test, parallel_seed_test

import hivegym


@pytest.mark.parametrize("config", [None, SHORT, IOT_BOTH], ids=["default", "short", "iot-both"])
def test_parallel_api(config: str | None) -> None:
    env = hivegym.parallel_env(config, seed=3)
    parallel_api_test(env, num_cycles=300 if config is None else 1000)
    env.close()


@pytest.mark.parametrize("config", [None, IOT_BOTH], ids=["default", "iot-both"])
def test_parallel_seed(config: str | None) -> None:
    parallel_seed_test(lambda: hivegym.parallel_env(config, seed=5), num_cycles=100)


def test_iot_both_roles_are_controlled() -> None:
    v = hivegym.VecEnv(IOT_BOTH)
    v.reset(1)
    kinds = set()
    for a in range(v.num_agents()):
        _, role, ctl, onchain = v.agent_info(0, a)
        if role != "system":
            assert ctl, (a, role)
            kinds.add((role, onchain))
    assert ("provider", True) in kinds and ("client", False) in kinds
    v.close()


def test_parallel_episode_runs_to_truncation_and_rewards_add_up() -> None:
    env = hivegym.parallel_env(SHORT, seed=11)
    obs, infos = env.reset(seed=11)
    assert set(obs) == set(env.agents) and all(a.startswith("p-") for a in env.agents)
    sums = dict.fromkeys(env.agents, 0.0)
    decided = 0
    while env.agents:
        acts = {}
        for a in env.agents:
            m = obs[a]["action_mask"]
            assert m.dtype == np.int8
            if infos[a]["decision"] == "none":
                assert m.tolist() == [1] + [0] * (len(m) - 1)
            acts[a] = int(np.flatnonzero(m)[-1]) if m.any() else 0
        obs, rew, term, trunc, infos = env.step(acts)
        for a, r in rew.items():
            sums[a] += r
        decided += sum(1 for i in infos.values() if i["decision"] != "none")
        assert set(rew) == set(obs) == set(term) == set(trunc) == set(infos)
    assert decided > 0
    assert any(r != 0 for r in sums.values())
    env.close()


@pytest.mark.parametrize(
    "config,num_envs", [(SHORT, 2), (IOT_BOTH, 1)], ids=["providers-2envs", "iot-both"]
)
def test_same_as_go(config: str, num_envs: int) -> None:
    """A fixed action rule from Python and natively in Go: per-agent reward sums and
    final wealths are exactly equal."""
    v = hivegym.VecEnv(config, num_envs=num_envs, workers=num_envs)
    seed = 21
    rows = v.reset(seed)
    sums = [np.zeros(v.num_agents(k)) for k in range(num_envs)]
    n = 0
    while True:
        np.add.at(sums[0], rows.agent[rows.env == 0], rows.reward[rows.env == 0])
        for k in range(1, num_envs):
            np.add.at(sums[k], rows.agent[rows.env == k], rows.reward[rows.env == k])
        n += len(rows)
        if rows.done:
            break
        rows = v.step(hivegym.legal_by_agent(rows.agent, rows.mask))
    assert n > 100
    go_sums, go_wealth = v.native_rule_episode(seed)
    for k in range(num_envs):
        w = v.wealth(k)
        ctl = np.array([v.agent_info(k, a)[2] for a in range(len(w))])
        assert ctl.any()
        na = len(w)
        assert np.array_equal(sums[k][ctl], go_sums[k, :na][ctl])
        assert np.array_equal(w[ctl], go_wealth[k, :na][ctl])
        assert np.count_nonzero(sums[k]) > 0
    v.close()


def test_legal_by_agent_by_hand() -> None:
    mask = np.array([[1, 0, 1, 1], [0, 0, 0, 0], [0, 1, 0, 1], [1, 0, 0, 0]], dtype=bool)
    agent = np.array([4, 3, 1, 9], dtype=np.int32)
    # legal [0,2,3], 4 mod 3 = 1 -> 2; none -> 0; legal [1,3], 1 mod 2 -> 3; [0] -> 0.
    assert hivegym.legal_by_agent(agent, mask).tolist() == [2, 0, 3, 0]


def test_bad_config_names_key_and_line(tmp_path) -> None:
    with pytest.raises(hivegym.ConfigError, match=r"<config>:3: env.reward.kind"):
        hivegym.VecEnv("env:\n  reward:\n    kind: nope\n")
    p = tmp_path / "c.yaml"
    p.write_text("seed: 1\nenv:\n  episode_tick: 5\n")
    with pytest.raises(hivegym.ConfigError, match=rf"{p}:3: .*episode_tick"):
        hivegym.parallel_env(str(p))
    with pytest.raises(hivegym.ConfigError, match="unknown scenario"):
        hivegym.VecEnv(SHORT, scenario="nowhere")
    # The interpreter lives on and a good env still works.
    assert len(hivegym.VecEnv(SHORT).reset(1)) > 0


def test_wrong_actions_raise_value_error() -> None:
    v = hivegym.VecEnv(SHORT)
    rows = v.reset(2)
    n = len(rows)
    with pytest.raises(ValueError, match="shape"):
        v.step(np.zeros(n + 1, dtype=np.int32))
    with pytest.raises(ValueError, match="shape"):
        v.step(np.zeros((n, 1), dtype=np.int32))
    with pytest.raises(ValueError, match="integers"):
        v.step(np.zeros(n, dtype=np.float32))
    bad = np.zeros(n, dtype=np.int32)
    bad[0] = v.num_actions
    with pytest.raises(ValueError, match="outside the action space"):
        v.step(bad)
    bad[0] = -1
    with pytest.raises(ValueError, match="outside the action space"):
        v.step(bad)
    v.step(np.zeros(n, dtype=np.int64))  # still usable
    env = hivegym.parallel_env(SHORT)
    a = env.agents[0]
    with pytest.raises(ValueError, match="outside"):
        env.step({a: 10_000})
    with pytest.raises(ValueError, match="no agent"):
        env.step({"c-99999": 0})
    env.close()
    v.close()
    with pytest.raises(ValueError, match="closed"):
        v.step([])


def test_two_envs_side_by_side() -> None:
    a, b, c = hivegym.VecEnv(SHORT), hivegym.VecEnv(SHORT), hivegym.VecEnv(SHORT)
    ra, rb, rc = a.reset(4), b.reset(4), c.reset(5)
    # Interleaved steps: a and b stay identical; c (another seed) differs somewhere.
    differ = False
    while not ra.done:
        assert np.array_equal(ra.obs, rb.obs) and np.array_equal(ra.reward, rb.reward)
        if rc.done or len(ra) != len(rc) or not np.array_equal(ra.obs, rc.obs):
            differ = True
        act = hivegym.legal_by_agent(ra.agent, ra.mask)
        ra, rb = a.step(act), b.step(act.copy())
        if not rc.done:
            rc = c.step(hivegym.legal_by_agent(rc.agent, rc.mask))
    assert rb.done and differ
    for e in (a, b, c):
        e.close()


def test_create_close_1000() -> None:
    for _ in range(1000):
        v = hivegym.VecEnv(SHORT)
        v.close()
        v.close()
    v = hivegym.VecEnv(SHORT)
    assert len(v.reset(1)) > 0


def test_keyboard_interrupt_is_prompt(tmp_path) -> None:
    script = tmp_path / "loop.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, hivegym
            v = hivegym.VecEnv(None, control="all")
            r = v.reset(1)
            print("ready", flush=True)
            try:
                while True:
                    if r.done:
                        r = v.reset(2)
                    r = v.step(hivegym.legal_by_agent(r.agent, r.mask))
            except KeyboardInterrupt:
                print("interrupted", flush=True)
                sys.exit(130)
            """
        )
    )
    pkg_parent = os.path.dirname(os.path.dirname(hivegym.__file__))
    env = dict(os.environ, PYTHONPATH=pkg_parent + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)
    assert p.stdout is not None
    assert p.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    code = p.wait(timeout=10)
    took = time.monotonic() - t0
    assert code == 130, p.stdout.read()
    assert p.stdout.read().strip() == "interrupted"
    assert took < 2.0


def test_state_rows() -> None:
    """VecEnv(state=True) adds the critic's state rows and changes nothing else."""
    plain = hivegym.VecEnv(SHORT, num_envs=2)
    withs = hivegym.VecEnv(SHORT, num_envs=2, state=True)
    assert withs.state_dim == 9
    a, b = plain.reset(4), withs.reset(4)
    assert a.state is None
    assert b.state is not None and b.state.shape == (len(b), withs.state_dim)
    # Little has happened at the first rows: both roles' wealth is near genesis.
    assert np.all(np.abs(b.state[:, 5:7]) < 1e-3)
    steps, responds = 0, 0
    while not a.done:
        assert b.state is not None
        np.testing.assert_array_equal(a.obs, b.obs)
        np.testing.assert_array_equal(a.mask, b.mask)
        assert np.isfinite(b.state).all()
        # free capacity fractions, of the counterparty and of the market
        for col in (2, 3, 7, 8):
            assert ((b.state[:, col] >= 0) & (b.state[:, col] <= 1)).all()
        # a provider answering a thread sees its client's value, which is positive
        responds += int(np.count_nonzero((b.kind == 1) & (b.state[:, 0] > 0)))
        acts = hivegym.legal_by_agent(a.agent, a.mask)
        a, b = plain.step(acts), withs.step(acts)
        steps += 1
    assert b.done and steps > 10 and responds > 0
    plain.close()
    withs.close()


def test_parallel_state_in_infos() -> None:
    """parallel_env(state=True) puts each deciding agent's state row in its info."""
    env = hivegym.parallel_env(SHORT, seed=2, state=True)
    parallel_api_test(env, num_cycles=200)
    obs, infos = env.reset(seed=2)
    seen = 0
    for _ in range(50):
        for info in infos.values():
            if info["decision"] != "none":
                assert info["state"].shape == (9,) and info["state"].dtype == np.float32
                seen += 1
            else:
                assert "state" not in info
        acts = {a: int(np.flatnonzero(o["action_mask"])[-1]) for a, o in obs.items()}
        obs, _, _, _, infos = env.step(acts)
        if not env.agents:
            break
    assert seen > 0
    env.close()
