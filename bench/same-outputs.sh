#!/usr/bin/env bash
# Plays every shipped experiment that needs no model server (scripted and mock agents) and
# keeps the files a behaviour-preserving change must leave byte-identical: runs.csv,
# years.csv, agents.csv, messages.csv and comparison.csv of each.
#
#   bash bench/same-outputs.sh DIR                 # play them with ./target/release/fishbanks
#   bash bench/same-outputs.sh --compare DIR1 DIR2 # say which files differ (exit 1 if any)
#
# A refactor is checked by running the first form before and after it (e.g. on a
# `git worktree` of the old commit) and comparing. bench-10k is played with
# `--events none` (its event logs alone are gigabytes).
set -euo pipefail
cd "$(dirname "$0")/.."
FILES="runs.csv years.csv agents.csv messages.csv comparison.csv"
EXPERIMENTS="quickstart greedy-vs-fixed mit-replication socialisation llm-mock bench-10k"

if [ "${1:-}" = "--compare" ]; then
  a=$2 b=$3 differ=0 same=0
  for e in $EXPERIMENTS; do
    for f in $FILES; do
      if [ ! -e "$a/$e/$f" ] && [ ! -e "$b/$e/$f" ]; then continue; fi
      if cmp -s "$a/$e/$f" "$b/$e/$f"; then
        same=$((same + 1))
      else
        echo "differs: $e/$f"; differ=$((differ + 1))
      fi
    done
  done
  echo "$same files identical, $differ differ"
  [ "$differ" -eq 0 ]
  exit
fi

out=${1:?usage: same-outputs.sh DIR | --compare DIR1 DIR2}
bin=${BIN:-./target/release/fishbanks}
mkdir -p "$out"
for e in $EXPERIMENTS; do
  events=summary
  [ "$e" = bench-10k ] && events=none
  "$bin" run "experiments/$e.toml" --out "$out" --quiet --force-new --events "$events" >/dev/null 2>&1 || {
    code=$?
    # Exit 3 (some runs invalid) is a result, not a failure of the harness.
    [ "$code" -eq 3 ] || { echo "$e: exit $code" >&2; exit 1; }
  }
  echo "$e: done"
done
