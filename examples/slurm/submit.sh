#!/bin/bash
# Submit a fishbanks sweep to Slurm: the array of shards (sweep.sbatch) and the job that
# merges them once every task has succeeded (merge.sbatch). Run it from the directory
# the experiment path is relative to (the checkout, for the shipped experiments):
#
#   EXPERIMENT=experiments/quickstart.toml SHARDS=4 OUT=$HOME/sweeps/qs \
#     bash examples/slurm/submit.sh
#
# Variables (the scripts' own: FISHBANKS, EXPERIMENT, SHARDS, OUT, JOBS, CACHE_MODE,
# GRACE, EXTRA_ARGS, are passed on to the jobs in their environment):
#   TASKS       which tasks to submit (default 1-SHARDS); TASKS=3 or TASKS=2,4 submits
#               those shards again after a failure, and a merge that waits for them
#   PARTITION, ACCOUNT, QOS, TIME, CPUS, MEM_PER_CPU   the shards' resources, given to
#               sbatch when set (they replace the #SBATCH defaults of sweep.sbatch)
#   SBATCH_ARGS anything else for both sbatch calls (e.g. "--mail-type=END")
# It prints the two job ids; the jobs' logs go to OUT/logs/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

export FISHBANKS=${FISHBANKS:-fishbanks}
export EXPERIMENT=${EXPERIMENT:-experiments/quickstart.toml}
export SHARDS=${SHARDS:-4}
export OUT=${OUT:-results/cluster}
TASKS=${TASKS:-1-$SHARDS}

if ! command -v "$FISHBANKS" >/dev/null; then
  echo "error: no fishbanks here (FISHBANKS=$FISHBANKS): \`cargo install --path .\` puts it on PATH, or set FISHBANKS=/path/to/fishbanks" >&2
  exit 2
fi
if [ ! -f "$EXPERIMENT" ]; then
  echo "error: no experiment file $EXPERIMENT (relative to $(pwd))" >&2
  exit 2
fi
# Check the file here, before anything is queued: a bad experiment fails at once.
"$FISHBANKS" validate "$EXPERIMENT" >/dev/null

mkdir -p "$OUT/logs"
resources=()
[ -n "${PARTITION:-}" ] && resources+=("--partition=$PARTITION")
[ -n "${ACCOUNT:-}" ] && resources+=("--account=$ACCOUNT")
[ -n "${QOS:-}" ] && resources+=("--qos=$QOS")
[ -n "${TIME:-}" ] && resources+=("--time=$TIME")
[ -n "${CPUS:-}" ] && resources+=("--cpus-per-task=$CPUS")
[ -n "${MEM_PER_CPU:-}" ] && resources+=("--mem-per-cpu=$MEM_PER_CPU")
# shellcheck disable=SC2206
extra=(${SBATCH_ARGS:-})

array=$(sbatch --parsable --array="$TASKS" --output="$OUT/logs/shard-%a-%A.out" \
  "${resources[@]}" "${extra[@]}" "$here/sweep.sbatch")
array=${array%%;*}
# The merge starts when every submitted task succeeded; if one fails, Slurm removes it
# (--kill-on-invalid-dep) and the task is submitted again with TASKS=K.
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  ${PARTITION:+--partition="$PARTITION"} ${ACCOUNT:+--account="$ACCOUNT"} ${QOS:+--qos="$QOS"} \
  --output="$OUT/logs/merge-%j.out" "${extra[@]}" "$here/merge.sbatch")
merge=${merge%%;*}
echo "array $array (tasks $TASKS of $SHARDS): $EXPERIMENT -> $OUT/shards/K"
echo "merge $merge after it: -> $OUT/merged; logs in $OUT/logs"
echo "$array $merge" > "$OUT/logs/last-submit"
