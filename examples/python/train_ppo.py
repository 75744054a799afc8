"""Train hivegym's providers from Python with a CleanRL-style PPO, then score them with
`hivegym eval` against the scripted baselines.

    pip install ./python
    python examples/python/train_ppo.py            # about a minute on 2 cores

It reads top to bottom: hyperparameters in one dataclass; a run directory made by
`hivegym train --iterations 1` (its config and a checkpoint to save over: the
checkpoint carries the metadata `hivegym eval` checks); rollouts through the batched
API (`hivegym.VecEnv`, every provider decision of K markets at once); advantages per
agent (GAE over each agent's own decisions, with the reward the env credits to a row
since that agent's previous one); a clipped-surrogate update of a tanh MLP actor and
critic written in numpy (no torch needed: the gradients are derived by hand below);
then `hivegym.checkpoint.save` and `hivegym eval`.

Metric names (one line per iteration, as CleanRL logs them): charts/episodic_return,
losses/policy_loss, losses/value_loss, losses/entropy, charts/decisions_per_s.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

import hivegym
from hivegym import checkpoint

F = npt.NDArray[np.float64]


@dataclass
class Args:
    iterations: int = 8
    num_envs: int = 2
    episode_ticks: int = 288  # one simulated day of 5-minute ticks per rollout
    seed: int = 1
    learning_rate: float = 3e-4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    update_epochs: int = 4
    num_minibatches: int = 8
    clip_coef: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    out: str = "runs/python-ppo"
    hivegym: str = "bin/hivegym"  # the CLI; built with `make build` if missing
    eval_episodes: int = 4


# --- a tanh MLP with hand-written gradients and Adam --------------------------------


class MLP:
    """Linear layers with tanh between them; weights [out, in] as the checkpoint has."""

    def __init__(self, sizes: list[int], out_gain: float, rng: np.random.Generator) -> None:
        self.W: list[F] = []
        self.b: list[F] = []
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            gain = out_gain if i == len(sizes) - 2 else np.sqrt(2)
            q, _ = np.linalg.qr(rng.normal(size=(max(n_in, n_out), min(n_in, n_out))))
            w = q if n_out >= n_in else q.T
            self.W.append(gain * w[:n_out, :n_in])
            self.b.append(np.zeros(n_out))
        self.m = [np.zeros_like(p) for p in self.params()]
        self.v = [np.zeros_like(p) for p in self.params()]
        self.t = 0

    def params(self) -> list[F]:
        return [*self.W, *self.b]

    def forward(self, x: F) -> tuple[F, list[F]]:
        acts = [x]
        for i, (w, b) in enumerate(zip(self.W, self.b, strict=True)):
            x = x @ w.T + b
            if i + 1 < len(self.W):
                x = np.tanh(x)
            acts.append(x)
        return x, acts

    def backward(self, acts: list[F], grad_out: F) -> list[F]:
        gw, gb = [np.zeros(0)] * len(self.W), [np.zeros(0)] * len(self.W)
        g = grad_out
        for i in reversed(range(len(self.W))):
            gw[i] = g.T @ acts[i]
            gb[i] = g.sum(axis=0)
            if i > 0:
                g = (g @ self.W[i]) * (1 - acts[i] ** 2)  # through tanh
        return [*gw, *gb]

    def adam(self, grads: list[F], lr: float, max_norm: float = 0.5) -> None:
        norm = np.sqrt(sum(float((g**2).sum()) for g in grads))
        scale = min(1.0, max_norm / (norm + 1e-12))  # CleanRL's global gradient clipping
        self.t += 1
        for p, g, m, v in zip(self.params(), grads, self.m, self.v, strict=True):
            g = g * scale
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            p -= lr * (m / (1 - 0.9**self.t)) / (np.sqrt(v / (1 - 0.999**self.t)) + 1e-5)


def masked_softmax(z: F, mask: npt.NDArray[np.bool_]) -> tuple[F, F]:
    z = np.where(mask, z, -np.inf)
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    p = np.exp(logp)
    return p, np.where(mask, logp, 0.0)


# --- the run -------------------------------------------------------------------------


def main(args: Args) -> None:
    rng = np.random.default_rng(args.seed)
    cli = Path(args.hivegym)
    if not cli.exists():
        subprocess.run(["make", "build"], check=True)
    run = Path(args.out)
    if run.exists():
        shutil.rmtree(run)
    run.parent.mkdir(parents=True, exist_ok=True)
    cfg_src = run.parent / (run.name + ".yaml")
    cfg_src.write_text(f"env:\n  episode_ticks: {args.episode_ticks}\n")
    # The run directory: its config.yaml and a checkpoint whose metadata eval checks.
    subprocess.run(
        [str(cli), "train", "-c", str(cfg_src), "--out", str(run), "--iterations", "1"],
        check=True,
    )
    template = run / "checkpoints" / "providers-latest.safetensors"
    like = checkpoint.load(template)

    env = hivegym.VecEnv(str(run / "config.yaml"), num_envs=args.num_envs, seed=args.seed)
    hidden = [w.shape[0] for w in like.weights[:-1]]
    actor = MLP([env.obs_dim, *hidden, env.num_actions], 0.01, rng)
    critic = MLP([env.obs_dim, *hidden, 1], 1.0, rng)

    for it in range(1, args.iterations + 1):
        t0 = time.perf_counter()
        # Rollout: one episode of every env. A row's reward is what its agent earned since
        # its previous row, so it is credited to that previous decision.
        obs_l, mask_l, act_l, logp_l, val_l, agent_l = [], [], [], [], [], []
        reward_of: list[float] = []
        last: dict[tuple[int, int], int] = {}
        ended: set[int] = set()
        rows = env.reset(seed=args.seed + 1000 * it)
        ep_return = 0.0
        while True:
            n = len(rows)
            for j in range(n):
                key = (int(rows.env[j]), int(rows.agent[j]))
                if key in last:
                    reward_of[last[key]] += float(rows.reward[j])
                ep_return += float(rows.reward[j])
            live = rows.kind != 0
            actions = np.zeros(n, dtype=np.int32)
            if live.any():
                o = rows.obs[live].astype(np.float64)
                m = rows.mask[live].copy()
                z, _ = actor.forward(o)
                p, logp = masked_softmax(z, m)
                u = rng.random((len(o), 1))
                a = np.minimum((p.cumsum(axis=1) < u).sum(axis=1), env.num_actions - 1)
                a = np.where(m[np.arange(len(a)), a], a, np.argmax(m, axis=1))
                v, _ = critic.forward(o)
                actions[live] = a
                for j in np.flatnonzero(live):
                    key = (int(rows.env[j]), int(rows.agent[j]))
                    last[key] = len(reward_of)
                    reward_of.append(0.0)
                    agent_l.append(key)
                obs_l.append(o)
                mask_l.append(m)
                act_l.append(a)
                logp_l.append(logp[np.arange(len(a)), a])
                val_l.append(v[:, 0])
            for j in np.flatnonzero(~live):  # the agent's episode is over: close it
                key = (int(rows.env[j]), int(rows.agent[j]))
                if key in last:
                    ended.add(last.pop(key))
            if rows.done:
                break
            rows = env.step(actions)
        obs, mask = np.concatenate(obs_l), np.concatenate(mask_l)
        act, old_logp, val = (
            np.concatenate(act_l),
            np.concatenate(logp_l),
            np.concatenate(val_l),
        )
        rew = np.asarray(reward_of)
        # GAE over each agent's own sequence of decisions.
        adv = np.zeros_like(rew)
        nxt: dict[tuple[int, int], tuple[float, float]] = {}
        for i in range(len(rew) - 1, -1, -1):
            key = agent_l[i]
            nv, na = (0.0, 0.0) if i in ended or key not in nxt else nxt[key]
            delta = rew[i] + args.gamma * nv - val[i]
            adv[i] = delta + args.gamma * args.gae_lambda * na
            nxt[key] = (val[i], adv[i])
        ret = adv + val

        # Update: clipped surrogate, value loss, entropy bonus (CleanRL's ppo.py).
        n = len(rew)
        mb = max(1, n // args.num_minibatches)
        lr = args.learning_rate * (1 - (it - 1) / args.iterations)
        for _ in range(args.update_epochs):
            perm = rng.permutation(n)
            for s in range(0, n, mb):
                idx = perm[s : s + mb]
                k = len(idx)
                a_mb, m_mb = act[idx], mask[idx]
                z, acts = actor.forward(obs[idx])
                p, logp = masked_softmax(z, m_mb)
                new_logp = logp[np.arange(k), a_mb]
                ratio = np.exp(new_logp - old_logp[idx])
                A = adv[idx]
                A = (A - A.mean()) / (A.std() + 1e-8)
                unclipped = ratio * A <= np.clip(ratio, 1 - args.clip_coef, 1 + args.clip_coef) * A
                pg_loss = -np.minimum(
                    ratio * A,
                    np.clip(ratio, 1 - args.clip_coef, 1 + args.clip_coef) * A,
                ).mean()
                entropy = -(p * logp).sum(axis=1)
                # d loss / d logits: policy term through logp = z_a - logsumexp(z), and
                # the entropy term, dH/dz_j = -p_j (log p_j + H).
                g_logp = np.where(unclipped, -ratio * A, 0.0) / k
                onehot = np.zeros_like(p)
                onehot[np.arange(k), a_mb] = 1
                dz = g_logp[:, None] * (onehot - p)
                dz -= args.ent_coef * (-p * (logp + entropy[:, None])) / k
                actor.adam(actor.backward(acts, np.where(m_mb, dz, 0.0)), lr)
                v, vacts = critic.forward(obs[idx])
                dv = args.vf_coef * (v[:, 0] - ret[idx]) / k
                critic.adam(critic.backward(vacts, dv[:, None]), lr)
        v_loss = 0.5 * float(((critic.forward(obs)[0][:, 0] - ret) ** 2).mean())
        dt = time.perf_counter() - t0
        print(
            f"iteration={it} charts/episodic_return={ep_return / max(1, len(set(agent_l))):.5f} "
            f"losses/policy_loss={pg_loss:.5f} losses/value_loss={v_loss:.5f} "
            f"losses/entropy={float(entropy.mean()):.4f} charts/decisions_per_s={n / dt:.0f}",
            flush=True,
        )
    env.close()

    # Save over the run's checkpoint layout and score it like any trained group.
    trained = checkpoint.Policy(
        weights=[w.astype(np.float32) for w in actor.W],
        biases=[b.astype(np.float32) for b in actor.b],
        activation="tanh",
    )
    out = run / "checkpoints" / "providers-python.safetensors"
    checkpoint.save(out, trained, template)
    print(f"saved {out}", flush=True)
    cmd = [
        str(cli),
        "eval",
        str(out),
        "--episodes",
        str(args.eval_episodes),
        "--baselines",
        "random,cost-plus",
    ]
    sys.exit(subprocess.run([*cmd, "--out", str(run / "eval")], check=False).returncode)


def parse() -> Args:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name, default in vars(Args()).items():
        p.add_argument("--" + name.replace("_", "-"), type=type(default), default=default)
    return Args(**vars(p.parse_args()))


if __name__ == "__main__":
    main(parse())
