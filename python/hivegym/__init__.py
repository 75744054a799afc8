"""hivegym: Python APIs over the Go compute-marketplace simulator (docs/python.md).

- `VecEnv`: the batched API, every decision of K environments at once as numpy arrays.
- `parallel_env(...)`: the market as a PettingZoo ParallelEnv (needs pettingzoo).
- `hivegym.checkpoint`: load a `hivegym train` checkpoint into numpy or PyTorch, act with
  it, and save a policy trained in Python for `hivegym eval` (needs safetensors).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hivegym._lib import ConfigError, HivegymError
from hivegym.vector import DECISION_KINDS, MESSAGE_TYPES, Rows, VecEnv, legal_by_agent

if TYPE_CHECKING:
    from hivegym.parallel import HivegymParallelEnv

__all__ = [
    "DECISION_KINDS",
    "MESSAGE_TYPES",
    "ConfigError",
    "HivegymError",
    "Rows",
    "VecEnv",
    "legal_by_agent",
    "parallel_env",
]


def parallel_env(*args: Any, **kwargs: Any) -> HivegymParallelEnv:
    """The market as a pettingzoo.ParallelEnv; see hivegym.parallel.parallel_env."""
    from hivegym.parallel import parallel_env as make

    return make(*args, **kwargs)
