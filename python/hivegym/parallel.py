"""hivegym as a PettingZoo ParallelEnv: a thin layer over the batched VecEnv (one env).

Every live agent the caller controls is in `agents` and gets an entry in every dict of
every step, as PettingZoo's parallel API expects. Decisions are events, though: at each
step only some agents have something to decide. An agent with nothing to decide gets an
all-zero observation, an action_mask with only action 0 (wait) legal (both read-only
arrays shared by every idle agent), reward 0.0 and
info {"decision": "none"}; its action is ignored (it may be left out of the actions
dict). Its rewards accrue in Go and come with its next decision (semi-Markov credit),
so an agent's rewards over an episode add up to exactly what the Go env hands it.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from hivegym.vector import DECISION_KINDS, MESSAGE_TYPES, Rows, VecEnv

ObsDict = dict[str, np.ndarray]


class HivegymParallelEnv(ParallelEnv[str, ObsDict, int]):
    """The market as a PettingZoo parallel environment (see the module doc)."""

    metadata = {"name": "hivegym_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(
        self,
        config: str | os.PathLike[str] | None = None,
        seed: int | None = None,
        scenario: str | None = None,
        control: str = "learning",
        state: bool = False,
    ) -> None:
        self._vec = VecEnv(
            config,
            seed=seed,
            scenario=scenario,
            num_envs=1,
            workers=1,
            control=control,
            state=state,
        )
        self._next_seed = self._vec.seed
        self.render_mode = None
        na, od = self._vec.num_actions, self._vec.obs_dim
        self._idle_obs = np.zeros(od, dtype=np.float32)
        self._idle_mask = np.zeros(na, dtype=np.int8)
        self._idle_mask[0] = 1
        self._idle_obs.flags.writeable = False  # shared by every idle agent of every step
        self._idle_mask.flags.writeable = False
        self._names: list[str] = []  # by agent id; "" for agents the caller does not control
        self._id: dict[str, int] = {}
        self.possible_agents: list[str] = []
        self.agents: list[str] = []
        self._rows: Rows | None = None
        self._reset(self._next_seed)

    # Spaces: one object per agent (PettingZoo checks identity).

    @functools.cache  # noqa: B019 (the env lives as long as its spaces)
    def observation_space(self, agent: str) -> spaces.Dict:
        od, na = self._vec.obs_dim, self._vec.num_actions
        return spaces.Dict(
            {
                "observation": spaces.Box(-np.inf, np.inf, (od,), np.float32),
                "action_mask": spaces.Box(0, 1, (na,), np.int8),
            }
        )

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> spaces.Discrete:
        return spaces.Discrete(self._vec.num_actions)

    # Episode.

    def _learn_agents(self) -> None:
        n = self._vec.num_agents(0)
        for a in range(len(self._names), n):
            name, _, ctl, _ = self._vec.agent_info(0, a)
            self._names.append(name if ctl else "")
            if ctl:
                self._id[name] = a
                if name not in self.possible_agents:
                    self.possible_agents.append(name)

    def _reset(self, seed: int) -> Rows:
        rows = self._vec.reset(seed)
        self._names = []
        self._id = {}
        self._learn_agents()
        self.agents = [nm for nm in self._names if nm]
        self._rows = rows
        return rows

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, ObsDict], dict[str, dict[str, Any]]]:
        """Starts an episode under seed (None: the next of the env's seeds)."""
        if seed is not None:
            self._next_seed = int(seed)
        rows = self._reset(self._next_seed)
        self._next_seed += 1
        obs, _, _, _, infos = self._dicts(rows, self.agents)
        return obs, infos

    def _dicts(self, rows: Rows, live: list[str]) -> tuple[dict, dict, dict, dict, dict]:
        obs: dict[str, ObsDict] = {}
        rew: dict[str, float] = {}
        term: dict[str, bool] = {}
        trunc: dict[str, bool] = {}
        infos: dict[str, dict[str, Any]] = {}
        for a in live:
            obs[a] = {"observation": self._idle_obs, "action_mask": self._idle_mask}
            rew[a], term[a], trunc[a] = 0.0, False, False
            infos[a] = {"decision": "none"}
        names = self._names
        for j in range(len(rows)):
            a = names[int(rows.agent[j])]
            obs[a] = {
                "observation": rows.obs[j].copy(),
                "action_mask": rows.mask[j].astype(np.int8),
            }
            rew[a] = float(rows.reward[j])
            term[a], trunc[a] = bool(rows.terminated[j]), bool(rows.truncated[j])
            inc = int(rows.incoming[j])
            infos[a] = {
                "decision": DECISION_KINDS[int(rows.kind[j])],
                "incoming": MESSAGE_TYPES[inc] if inc else None,
                "incoming_price": int(rows.price[j]),
                "thread": int(rows.thread[j]),
                "agent_id": int(rows.agent[j]),
            }
            if rows.state is not None:
                infos[a]["state"] = rows.state[j].copy()
        return obs, rew, term, trunc, infos

    def step(
        self, actions: dict[str, int]
    ) -> tuple[
        dict[str, ObsDict],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        """Answers the agents' decisions (an agent with nothing to decide, or left out,
        waits) and runs the market to the next decisions."""
        rows = self._rows
        if rows is None or not self.agents:
            raise ValueError("hivegym: the episode is over; call reset")
        na = self._vec.num_actions
        for a, act in actions.items():
            if a not in self._id:
                raise ValueError(f"hivegym: no agent {a!r} in this environment")
            if isinstance(act, (bool, np.bool_)) or not isinstance(act, (int, np.integer)):
                raise ValueError(f"hivegym: the action of {a} must be an int, got {act!r}")
            if not 0 <= int(act) < na:
                raise ValueError(f"hivegym: the action of {a} is {act}, outside [0, {na})")
        names = self._names
        acts = np.zeros(len(rows), dtype=np.int32)
        for j in range(len(rows)):
            acts[j] = actions.get(names[int(rows.agent[j])], 0)
        rows = self._vec.step(acts)
        self._learn_agents()
        self._rows = rows
        live = list(self.agents)
        known = set(live)
        for j in range(len(rows)):  # a provider that joined mid-episode (provider churn)
            a = names[int(rows.agent[j])]
            if a not in known:
                live.append(a)
                known.add(a)
        out = self._dicts(rows, live)
        term, trunc = out[2], out[3]
        self.agents = [a for a in live if not (term[a] or trunc[a])]
        return out

    def close(self) -> None:
        self._vec.close()

    def wealth(self) -> dict[str, float]:
        """Every controlled agent's wealth in USD now."""
        w = self._vec.wealth(0)
        return {nm: float(w[a]) for a, nm in enumerate(self._names) if nm}


def parallel_env(
    config: str | os.PathLike[str] | None = None,
    seed: int | None = None,
    scenario: str | None = None,
    control: str = "learning",
    state: bool = False,
) -> HivegymParallelEnv:
    """Returns the market as a pettingzoo.ParallelEnv (HivegymParallelEnv). With
    state=True each deciding agent's info also holds "state": the features of the market
    it does not observe, for a centralized critic (VecEnv(state=True))."""
    return HivegymParallelEnv(config, seed=seed, scenario=scenario, control=control, state=state)
