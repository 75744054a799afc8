"""The batched API: every decision of K environments at once, as numpy arrays.

`VecEnv.reset` and `VecEnv.step` return a `Rows`: one row per decision of an agent the
caller controls, across the K environments, in environment then batch order. Its arrays
are zero-copy views of buffers the Go library owns; they stay valid until the next
`reset`, `step` or `close` (copy what you keep).
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hivegym import _lib

#: Decision kinds (Rows.kind): 0 is a terminated or truncated row, which takes no action.
DECISION_KINDS = ("none", "respond", "open", "treasury")
#: Message types (Rows.incoming), as the trace spells them.
MESSAGE_TYPES = (
    "none",
    "request",
    "offer",
    "accept",
    "attestation",
    "collateral_missing",
    "terminate",
    "escrow_locked",
    "job_failed",
    "validated",
    "tick",
)
#: Roles (VecEnv.agent_role).
ROLES = ("client", "provider", "system")


@dataclass
class Rows:
    """The rows of one step (views into the library's buffers)."""

    obs: npt.NDArray[np.float32]  # (n, obs_dim)
    mask: npt.NDArray[np.bool_]  # (n, num_actions): the legal actions
    reward: npt.NDArray[np.float64]  # reward accrued since the agent's previous row
    terminated: npt.NDArray[np.bool_]
    truncated: npt.NDArray[np.bool_]
    env: npt.NDArray[np.int32]  # environment index
    agent: npt.NDArray[np.int32]  # agent id within its environment
    kind: npt.NDArray[np.int32]  # DECISION_KINDS index
    incoming: npt.NDArray[np.int32]  # MESSAGE_TYPES index of the message answered
    price: npt.NDArray[np.int64]  # its price per hour, base units of its asset
    thread: npt.NDArray[np.int64]  # thread id, -1 if none
    done: bool  # every environment's episode is over: these are the last rows
    #: (n, state_dim): what a centralized critic reads beside obs (VecEnv(state=True)),
    #: else None. No policy should see it (docs/env.md, "State").
    state: npt.NDArray[np.float32] | None = None

    def __len__(self) -> int:
        return int(self.reward.shape[0])


def _config_source(config: str | os.PathLike[str] | None) -> tuple[bytes, str]:
    if config is None:
        return b"", "<default>"
    if isinstance(config, os.PathLike):
        p = Path(config)
        try:
            return p.read_bytes(), str(config)
        except OSError as e:
            raise _lib.ConfigError(f"{config}: {e.strerror}") from None
    if "\n" not in config and ":" not in config:
        p = Path(config)
        try:
            return p.read_bytes(), config
        except OSError as e:
            raise _lib.ConfigError(f"{config}: {e.strerror}") from None
    return config.encode(), "<config>"


class VecEnv:
    """K hivegym environments stepped together (Gymnasium vector-env / PufferLib style).

    config is YAML text, a path to a YAML file (a str without ':' or a newline, or a
    PathLike), or None for the defaults; it is decoded and validated exactly as the CLI
    does. seed overrides the config's seed (the default seed of reset); scenario is a
    world scenario name. control is "learning" (the agents of the population's learning
    groups; the others are scripted in Go) or "all" (every agent, every decision).
    state=True also fills Rows.state: per row, state_dim features of the market the
    agent does not observe, for a centralized critic (MAPPO).
    """

    def __init__(
        self,
        config: str | os.PathLike[str] | None = None,
        *,
        seed: int | None = None,
        scenario: str | None = None,
        num_envs: int = 1,
        workers: int | None = None,
        control: str = "learning",
        state: bool = False,
    ) -> None:
        self._h = 0
        src, name = _config_source(config)
        err = ctypes.create_string_buffer(4096)
        h = _lib.lib.hg_create(
            src,
            len(src),
            name.encode(),
            0 if seed is None else int(seed),
            0 if seed is None else 1,
            (scenario or "").encode(),
            int(num_envs),
            int(workers if workers is not None else min(num_envs, os.cpu_count() or 1)),
            control.encode(),
            err,
            len(err),
        )
        if h <= 0:
            msg = err.value.decode()
            if -h == _lib.HG_BAD_CONFIG:
                raise _lib.ConfigError(msg)
            if -h == _lib.HG_BAD_ARGUMENT:
                raise ValueError(msg)
            raise _lib.HivegymError(msg)
        self._h = h
        dims = (ctypes.c_int64 * 4)()
        _lib.check(h, _lib.lib.hg_dims(h, dims))
        self.num_envs, self.obs_dim, self.num_actions = int(dims[0]), int(dims[1]), int(dims[2])
        self.seed = int(dims[3])
        self._view = _lib.lib.hg_view_of(h).contents
        self.state_dim = int(self._view.state_dim)
        self._state = bool(state)
        _lib.check(h, _lib.lib.hg_set_state(h, 1 if state else 0))
        self._gen = -1
        self._full: dict[str, Any] = {}
        self._acts = np.zeros(0, dtype=np.int32)

    # Buffers.

    def _arrays(self) -> Rows:
        v = self._view
        if v.gen != self._gen:
            c = int(v.cap)
            f = np.ctypeslib.as_array
            self._full = {
                "obs": f(v.obs, shape=(c, self.obs_dim)),
                "mask": f(v.mask, shape=(c, self.num_actions)).view(np.bool_),
                "reward": f(v.reward, shape=(c,)),
                "terminated": f(v.terminated, shape=(c,)).view(np.bool_),
                "truncated": f(v.truncated, shape=(c,)).view(np.bool_),
                "env": f(v.env, shape=(c,)),
                "agent": f(v.agent, shape=(c,)),
                "kind": f(v.kind, shape=(c,)),
                "incoming": f(v.incoming, shape=(c,)),
                "price": f(v.price, shape=(c,)),
                "thread": f(v.thread, shape=(c,)),
                "state": f(v.state, shape=(c, self.state_dim)),
            }
            self._gen = v.gen
        n = int(v.n)
        a = self._full
        return Rows(
            a["obs"][:n],
            a["mask"][:n],
            a["reward"][:n],
            a["terminated"][:n],
            a["truncated"][:n],
            a["env"][:n],
            a["agent"][:n],
            a["kind"][:n],
            a["incoming"][:n],
            a["price"][:n],
            a["thread"][:n],
            bool(v.done),
            a["state"][:n] if self._state else None,
        )

    def _handle(self) -> int:
        if not self._h:
            raise ValueError("hivegym: the environment is closed")
        return self._h

    # API.

    def reset(self, seed: int | None = None) -> Rows:
        """Starts an episode in every environment (environment k under seed+k)."""
        h = self._handle()
        s = self.seed if seed is None else int(seed)
        if s < 0:
            raise ValueError(f"hivegym: seed must be >= 0, got {s}")
        _lib.check(h, _lib.lib.hg_reset(h, s))
        return self._arrays()

    def step(self, actions: npt.ArrayLike) -> Rows:
        """Answers the last rows, actions[j] for row j (an integer in [0, num_actions);
        a terminated or truncated row's is ignored), and returns the next rows."""
        h = self._handle()
        a = np.asarray(actions)
        n = int(self._view.n)
        if a.shape != (n,):
            raise ValueError(f"hivegym: actions must have shape ({n},), one per row, got {a.shape}")
        if a.dtype.kind not in "iu":
            raise ValueError(f"hivegym: actions must be integers, got dtype {a.dtype}")
        if a.dtype != np.int32 or not a.flags.c_contiguous:
            if n and (a.min() < np.iinfo(np.int32).min or a.max() > np.iinfo(np.int32).max):
                raise ValueError("hivegym: an action index is outside the action space")
            a = np.ascontiguousarray(a, dtype=np.int32)
        _lib.check(h, _lib.lib.hg_step(h, a.ctypes.data, n))
        return self._arrays()

    def close(self) -> None:
        """Frees the environments (closing twice is harmless)."""
        if self._h:
            _lib.lib.hg_close(self._h)
            self._h = 0

    def __enter__(self) -> VecEnv:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    # Agents and markets.

    def num_agents(self, env: int = 0) -> int:
        """The number of agents (ids 0..n-1) of environment env's market."""
        n = int(_lib.lib.hg_num_agents(self._handle(), env))
        if n < 0:
            raise ValueError(f"hivegym: no environment {env}")
        return n

    def agent_info(self, env: int, agent: int) -> tuple[str, str, bool, bool]:
        """Agent (env, agent)'s name as the trace spells it, role, whether the caller
        controls it, and whether it is an IoT-class (on-chain only) provider."""
        buf = ctypes.create_string_buffer(64)
        info = (ctypes.c_int32 * 3)()
        n = _lib.lib.hg_agent(self._handle(), env, agent, buf, len(buf), info)
        if n < 0:
            raise ValueError(f"hivegym: no agent {agent} in environment {env}")
        return buf.value.decode(), ROLES[info[0]], bool(info[1]), bool(info[2])

    def wealth(self, env: int = 0) -> npt.NDArray[np.float64]:
        """Every agent's wealth in USD (marked to market), by agent id."""
        n = self.num_agents(env)
        out = np.zeros(n, dtype=np.float64)
        _lib.lib.hg_wealth(self._handle(), env, out.ctypes.data, n)
        return out

    def native_rule_episode(
        self, seed: int
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Runs, natively in Go, one episode under seed with the fixed rule
        `legal_by_agent` answering every decision of the controlled agents; returns the
        per-agent reward sums and final wealths, shape (num_envs, stride). For tests."""
        h = self._handle()
        stride = 1 << 15
        sums = np.zeros((self.num_envs, stride))
        wealth = np.zeros((self.num_envs, stride))
        _lib.check(
            h, _lib.lib.hg_rule_episode(h, seed, sums.ctypes.data, wealth.ctypes.data, stride)
        )
        return sums, wealth


def legal_by_agent(
    agent: npt.NDArray[np.int32], mask: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int32]:
    """The determinism tests' fixed rule (experiments.LegalByAgent), for every row at
    once: among the legal actions of a row, in index order, the one at position
    agent mod their number; waiting (0) when none is legal."""
    count = mask.sum(axis=1)
    want = np.where(count > 0, agent % np.maximum(count, 1), 0)
    rank = np.cumsum(mask, axis=1) - 1  # rank of each legal action
    hit = mask & (rank == want[:, None])
    out = np.where(count > 0, hit.argmax(axis=1), 0)
    return out.astype(np.int32)
