#!/bin/bash
# Submits a sweep as a Slurm array of SHARDS tasks and a merge job that runs once all
# of them have succeeded. Run it from the repository root on the cluster's login node:
#
#   SHARDS=4 SWEEP=examples/sweeps/scenarios.yaml OUT=runs/scenarios deploy/slurm/submit.sh
set -euo pipefail

SHARDS=${SHARDS:-4}
export SWEEP=${SWEEP:-examples/sweeps/scenarios.yaml}
export OUT=${OUT:-runs/scenarios}
export HIVEGYM=${HIVEGYM:-$PWD/bin/hivegym}
dir=$(dirname "$0")

jid=$(sbatch --parsable --export=ALL --array=0-$((SHARDS - 1)) "$dir/sweep.sbatch")
mid=$(sbatch --parsable --export=ALL --dependency=afterok:"$jid" "$dir/merge.sbatch")
echo "sweep: array job $jid ($SHARDS shards); merge: job $mid -> $OUT/runs.db"
