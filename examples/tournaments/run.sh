#!/usr/bin/env bash
# The shipped tournament, end to end, from the repository's root:
#   bash examples/tournaments/run.sh            # or: make tournament-example
# It trains the default providers, a client group and a league-trained provider group
# (runs/tournaments/{default,clients,league}; kept and reused when already trained), plays
# the tournament with two workers and writes its report. WORKERS=N changes the workers;
# SHARD=I/N plays one shard (merge with `hivegym runs merge`, docs/tournaments.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
HG=${HG:-bin/hivegym}
[ -x "$HG" ] || go build -o "$HG" ./cmd/hivegym
OUT=runs/tournaments
WORKERS=${WORKERS:-2}

train() { # name, then train's flags
  local name=$1; shift
  if [ -f "$OUT/$name/checkpoints/${GROUP:-providers}-latest.safetensors" ] && grep -q '"status": *"done"' "$OUT/$name/run.json" 2>/dev/null; then
    echo "$OUT/$name: trained already" >&2
  elif [ -f "$OUT/$name/run.json" ]; then
    "$HG" train "$@" --out "$OUT/$name" --resume
  else
    "$HG" train "$@" --out "$OUT/$name"
  fi
}
train default
GROUP=clients train clients -c examples/tournaments/clients.yaml
train league -c examples/tournaments/league.yaml   # its pool holds the two above

dir=$OUT/tournament
[ -n "${SHARD:-}" ] && dir=$OUT/tournament-shard-${SHARD%%/*}
args=(-c examples/tournaments/tournament.yaml --workers "$WORKERS" --out "$dir" --resume --compare league,default)
[ -n "${SHARD:-}" ] && args+=(--shard "$SHARD")
"$HG" tournament "${args[@]}"
if [ -z "${SHARD:-}" ]; then
  "$HG" report "$dir" --out "$dir/report"
fi
