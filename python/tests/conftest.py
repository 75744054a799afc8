from __future__ import annotations

SHORT = "env:\n  episode_ticks: 60\n"

# IoT-class providers (the default's edge class, observation: onchain, made the larger
# share here) and both roles learning: every agent is the caller's.
IOT_BOTH = """\
env:
  episode_ticks: 60
population:
  - name: providers
    role: provider
    kind: ppo
    share: 1
  - name: clients
    role: client
    kind: ppo
    share: 1
"""
