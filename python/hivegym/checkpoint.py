"""`hivegym train` checkpoints in Python: load, act, save (docs/python.md, "Checkpoints").

A PPO checkpoint is a safetensors file. Its actor is an MLP whose tensors are named as
PyTorch's `nn.Sequential` names them, under the prefix ``actor.``: ``actor.0.weight``
(shape ``[out, in]``), ``actor.0.bias``, then ``actor.2.*`` after the first activation,
and so on; the metadata key ``hivegym.spec`` gives the layer widths and the activation.
The greedy action of a row is the legal action with the largest logit (the first on a
tie), which is what `hivegym eval` plays.

- `load(path)` returns a `Policy` that acts with numpy alone.
- `Policy.to_torch()` builds the same actor as a `torch.nn.Sequential` (torch is
  optional and imported only then).
- `save(path, policy, template)` writes a policy trained in Python as a checkpoint that
  `hivegym eval` scores: the template (a checkpoint of the run, e.g.
  ``RUN/checkpoints/providers-latest.safetensors``) supplies the metadata the run's
  config and environment are checked against, and the critic and optimizer state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ACTOR = "actor."
SPEC_KEY = "hivegym.spec"

_ACTIVATIONS = ("tanh", "relu")


def _read(path: str | Path) -> tuple[dict[str, npt.NDArray[Any]], dict[str, str]]:
    from safetensors import safe_open
    from safetensors.numpy import load_file

    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="np") as f:
            meta = dict(f.metadata() or {})
    except OSError:
        raise
    except Exception as e:  # safetensors' own error type for a malformed file
        raise ValueError(f"{path}: not a safetensors checkpoint: {e}") from None
    return tensors, meta


@dataclass
class Policy:
    """A checkpoint's actor: layers of (weight [out, in], bias [out]) with an activation
    between them, and the metadata of the file it came from."""

    weights: list[npt.NDArray[np.float32]]
    biases: list[npt.NDArray[np.float32]]
    activation: str = "tanh"
    metadata: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {_ACTIVATIONS}, got {self.activation!r}")
        if len(self.weights) != len(self.biases) or not self.weights:
            raise ValueError("a policy needs as many biases as weights, at least one layer")
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            if w.ndim != 2 or b.shape != (w.shape[0],):
                raise ValueError(f"layer {i}: weight {w.shape} and bias {b.shape} do not fit")
            if i > 0 and w.shape[1] != self.weights[i - 1].shape[0]:
                raise ValueError(f"layer {i}: input {w.shape[1]} != previous output")
            if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
                raise ValueError(f"layer {i}: a weight or bias is not finite")

    @property
    def obs_dim(self) -> int:
        return int(self.weights[0].shape[1])

    @property
    def num_actions(self) -> int:
        return int(self.weights[-1].shape[0])

    def tensors(self) -> dict[str, npt.NDArray[np.float32]]:
        """The actor's tensors under the checkpoint's names."""
        out: dict[str, npt.NDArray[np.float32]] = {}
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            out[f"{ACTOR}{2 * i}.weight"] = np.ascontiguousarray(w, dtype=np.float32)
            out[f"{ACTOR}{2 * i}.bias"] = np.ascontiguousarray(b, dtype=np.float32)
        return out

    def logits(self, obs: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Logits of each row of obs ([n, obs_dim]), in float32 like the Go network."""
        x = np.asarray(obs, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.obs_dim:
            raise ValueError(f"obs must have shape [n, {self.obs_dim}], got {x.shape}")
        act = np.tanh if self.activation == "tanh" else (lambda v: np.maximum(v, 0))
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = x @ w.T + b
            if i + 1 < len(self.weights):
                x = act(x)
        return x.astype(np.float32, copy=False)

    def greedy(
        self, obs: npt.ArrayLike, mask: npt.ArrayLike | None = None
    ) -> npt.NDArray[np.int64]:
        """The greedy legal action of each row (mask [n, num_actions], nonzero = legal)."""
        z = self.logits(obs).astype(np.float64)
        if mask is not None:
            m = np.asarray(mask).astype(bool)
            if m.shape != z.shape:
                raise ValueError(f"mask must have shape {z.shape}, got {m.shape}")
            if not np.all(m.any(axis=1)):
                raise ValueError("a row of the mask has no legal action")
            z = np.where(m, z, -np.inf)
        return np.argmax(z, axis=1)

    def to_torch(self) -> Any:
        """The actor as a torch.nn.Sequential whose state_dict names are the checkpoint's
        without the ``actor.`` prefix (``0.weight``, ``0.bias``, ``2.weight``, ...)."""
        import torch
        from torch import nn

        layers: list[nn.Module] = []
        for i, w in enumerate(self.weights):
            layers.append(nn.Linear(w.shape[1], w.shape[0]))
            if i + 1 < len(self.weights):
                layers.append(nn.Tanh() if self.activation == "tanh" else nn.ReLU())
        model = nn.Sequential(*layers)
        state = {k[len(ACTOR) :]: torch.from_numpy(v.copy()) for k, v in self.tensors().items()}
        model.load_state_dict(state)
        return model

    @classmethod
    def from_torch(cls, model: Any, like: Policy) -> Policy:
        """A Policy with the weights of a torch.nn.Sequential shaped like `like`."""
        state = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
        n = len(like.weights)
        return cls(
            weights=[state[f"{2 * i}.weight"].astype(np.float32) for i in range(n)],
            biases=[state[f"{2 * i}.bias"].astype(np.float32) for i in range(n)],
            activation=like.activation,
            metadata=dict(like.metadata),
        )


def load(path: str | Path) -> Policy:
    """The actor of the PPO checkpoint at path."""
    tensors, meta = _read(path)
    if meta.get("hivegym.algorithm") != "ppo":
        raise ValueError(
            f"{path}: not a PPO checkpoint (algorithm {meta.get('hivegym.algorithm')!r})"
        )
    try:
        spec = json.loads(meta[SPEC_KEY])["actor"]
    except (KeyError, ValueError, TypeError) as e:
        raise ValueError(f"{path}: no actor spec in the metadata ({SPEC_KEY})") from e
    n = len(spec["Hidden"]) + 1
    try:
        weights = [tensors[f"{ACTOR}{2 * i}.weight"] for i in range(n)]
        biases = [tensors[f"{ACTOR}{2 * i}.bias"] for i in range(n)]
    except KeyError as e:
        raise ValueError(f"{path}: missing tensor {e}") from e
    return Policy(weights=weights, biases=biases, activation=spec["Activation"], metadata=meta)


def save(path: str | Path, policy: Policy, template: str | Path) -> None:
    """Write policy as a PPO checkpoint that `hivegym eval` reads.

    template is a checkpoint `hivegym train` wrote for the same group and config: its
    metadata (config hash, observation and action spaces, network spec) and its other
    tensors (critic, optimizer) are kept, the actor's are replaced by policy's. Shapes
    must match the template's.
    """
    from safetensors.numpy import save_file

    tensors, meta = _read(template)
    for name, t in policy.tensors().items():
        if name not in tensors:
            raise ValueError(f"{template}: has no tensor {name}; the policy's layers differ")
        if tensors[name].shape != t.shape:
            raise ValueError(f"{name}: shape {t.shape}, the template's is {tensors[name].shape}")
        tensors[name] = t
    meta["hivegym.backend"] = "python"
    save_file(tensors, str(path), metadata=meta)
