#!/usr/bin/env bash
# The harness on a real Slurm (issue 38): a one-node cluster on this machine runs the
# shipped job scripts (examples/slurm/) for two experiments, and their merged shards are
# compared with the same experiments run on one machine.
#
#   OUT=DIR bash bench/slurm.sh          # as root (it installs packages, starts daemons)
#
# 1. Installs Debian's `slurm-wlm` and `munge` when missing; builds the harness with the
#    testkit feature (its mock model server and crash hook); BIN=PATH uses another build.
# 2. Brings up munged, slurmctld and slurmd on localhost with their own key, config,
#    spool, state, log and pid files under DIR/cluster/ (proctrack/linuxproc, task/none:
#    no cgroups), and stops them at the end, whatever happens.
# 3. `experiments/quickstart.toml`: submitted with examples/slurm/submit.sh as an array of
#    SHARDS (4) tasks and the merge job that waits for it (--dependency=afterok).
# 4. `examples/slurm/llm-cluster.toml` against `fishbanks mock-server` (LATENCY_MS per
#    call, deterministic noise the harness repairs): first submitted with every task
#    crashing after its second run (FISHBANKS_ABORT_AFTER_RUNS=2, a node lost mid-shard),
#    which leaves the merge job never run; then submitted again, as a researcher would:
#    every task resumes in its own directory and the merge runs.
# 5. Each experiment also runs on one machine (DIR/whole/<name>). The sorted rows of
#    runs.csv, years.csv, agents.csv and messages.csv of DIR/merged/<name> must equal
#    those of DIR/whole/<name>; then, with the model server stopped, the LLM experiment
#    is replayed from the merged cache alone (DIR/replay/<name>) and must equal them too.
#
# Prints the wall times and PASS, or what differs (exit 1). A second run in the same DIR
# starts over (it removes what the last one left there).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
OUT=${OUT:-$(mktemp -d /tmp/fishbanks-slurm.XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SHARDS=${SHARDS:-4}
LATENCY_MS=${LATENCY_MS:-20}
WAIT_S=${WAIT_S:-900}          # longest wait for one submission's jobs
cluster="$OUT/cluster"
bench_start=$(date +%s.%N)

say() { printf '%s\n' "$*"; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(date +%s.%N)"; }

# --- 1. packages and the build ------------------------------------------------------
t=$(date +%s.%N)
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
  || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurm-wlm and munge from Debian..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge > "$OUT/apt.log" 2>&1 \
    || { cat "$OUT/apt.log"; exit 1; }
fi
install_s=$(since "$t")
say "$(slurmd -V), $(munged --version 2>&1 | head -n 1)"
t=$(date +%s.%N)
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet --features testkit
  BIN="$repo/target/release/fishbanks"
fi
build_s=$(since "$t")
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
export FISHBANKS="$BIN"

# --- 2. the cluster -------------------------------------------------------------------
# Stop what a previous run in this DIR may have left running, then start over.
stop_cluster() {
  local pidfile pid
  for pidfile in "$cluster/run/slurmd.pid" "$cluster/run/slurmctld.pid" "$cluster/run/munged.pid"; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
}
server_pid=""
cleanup() {
  local rc=$?
  if [ -n "${SLURM_CONF:-}" ] && [ -f "$SLURM_CONF" ]; then
    scancel --quiet --user="$(id -un)" 2>/dev/null || true
  fi
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  stop_cluster
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_cluster
rm -rf "$cluster" "$OUT/shards" "$OUT/merged" "$OUT/whole" "$OUT/replay" "$OUT/logs" "$OUT/experiments"
mkdir -p "$cluster"/{etc,munge,run,state,spool,log} "$OUT/experiments" "$OUT/logs"
chmod 700 "$cluster/munge"
chmod 755 "$cluster" "$cluster/run"
t=$(date +%s.%N)
dd if=/dev/urandom of="$cluster/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$cluster/munge/munge.key"
munged --socket="$cluster/run/munge.socket" --key-file="$cluster/munge/munge.key" \
  --pid-file="$cluster/run/munged.pid" --log-file="$cluster/log/munged.log" \
  --seed-file="$cluster/munge/munged.seed"

# Free ports for the two daemons (a Slurm on the standard ones is left alone).
read -r ctld_port slurmd_port < <(python3 -c '
import socket
ports = []
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0)); ports.append(s.getsockname()[1])
print(*ports)')
host=$(hostname -s)
node=$(slurmd -C | head -n 1)     # NodeName=<host> CPUs=... RealMemory=...: what slurmd finds
cat > "$cluster/etc/slurm.conf" <<CONF
# Written by bench/slurm.sh: a one-node cluster on localhost.
ClusterName=fishbanks-bench
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$cluster/run/munge.socket
StateSaveLocation=$cluster/state
SlurmdSpoolDir=$cluster/spool
SlurmctldPidFile=$cluster/run/slurmctld.pid
SlurmdPidFile=$cluster/run/slurmd.pid
SlurmctldLogFile=$cluster/log/slurmctld.log
SlurmdLogFile=$cluster/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MinJobAge=3600
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=bench Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$cluster/etc/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 300); do
  state=$(sinfo -h -o '%T' 2>/dev/null | head -n 1 || true)
  [ "$state" = idle ] && break
  sleep 0.1
done
if [ "${state:-}" != idle ]; then
  say "FAIL: the cluster did not come up (node state: ${state:-none}); logs in $cluster/log"
  tail -n 20 "$cluster/log/"*.log
  exit 1
fi
up_s=$(since "$t")
cpus=$(sinfo -h -o '%c' | head -n 1)
say "cluster up in ${up_s} s: node $host, $cpus CPUs, partition bench (config $SLURM_CONF)"

# --- helpers --------------------------------------------------------------------------
# Wait until none of the jobs is queued or running; print each job's final state.
wait_jobs() {
  local deadline=$(($(date +%s) + WAIT_S)) queued
  while :; do
    # An answer from the controller that lists none of them (a failed query is asked again).
    if queued=$(squeue -h -j "$1" -o %i 2>/dev/null) && [ -z "$queued" ]; then
      return 0
    fi
    if [ "$(date +%s)" -gt "$deadline" ]; then
      say "FAIL: jobs $1 still queued or running after ${WAIT_S} s"
      squeue -j "$1"
      exit 1
    fi
    sleep 0.2
  done
}
# The final states of a job's tasks, one per line: `<id> <state>`.
job_states() {
  scontrol show job -o "$1" 2>/dev/null \
    | sed -n 's/.*JobId=\([0-9]*\) .*ArrayTaskId=\([0-9]*\) .*JobState=\([A-Z_]*\).*/\2 \3/p;
              s/^JobId=\([0-9]*\) .*JobState=\([A-Z_]*\).*/\1 \2/p' | sort -n | uniq
}
# Submit one experiment with the shipped script; wait for the array and the merge job.
# Sets array_id, merge_id and submit_s.
submit() {
  local t
  t=$(date +%s.%N)
  local ids
  ids=$(bash "$repo/examples/slurm/submit.sh" | tee -a "$OUT/logs/submissions.log")
  read -r array_id merge_id < "$OUT/logs/last-submit"
  say "$ids" | sed 's/^/  /'
  wait_jobs "$array_id,$merge_id"
  submit_s=$(since "$t")
}
# The longest play time of the tasks of a job array, from their logs ("N runs in X s").
play_time() {
  cat "$OUT"/logs/shard-*-"$1".out 2>/dev/null \
    | sed -n 's/.* runs in \([0-9.]*\) s; results in.*/\1/p' | sort -g | tail -n 1
}
# `fishbanks merge` of the shards alone, timed (into a scratch directory).
merge_time() {
  local t
  t=$(date +%s.%N)
  rm -rf "$OUT/remerge"
  "$BIN" merge "$OUT"/shards/*/"$1" --out "$OUT/remerge" --no-report 2>/dev/null
  since "$t"
  rm -rf "$OUT/remerge"
}
# Compare DIR/merged/<name> (or another directory) with DIR/whole/<name>.
compare() {
  python3 - "$1" "$2" <<'PY'
import sys, os
a, b = sys.argv[1], sys.argv[2]
ok = True
for f in ["runs.csv", "years.csv", "agents.csv", "messages.csv"]:
    pa, pb = os.path.join(a, f), os.path.join(b, f)
    if not os.path.exists(pa) and not os.path.exists(pb):
        continue
    if not (os.path.exists(pa) and os.path.exists(pb)):
        print(f"  {f}: missing in {pa if not os.path.exists(pa) else pb}"); ok = False; continue
    ta, tb = open(pa, "rb").read(), open(pb, "rb").read()
    la, lb = ta.splitlines(), tb.splitlines()
    if la[:1] != lb[:1]:
        print(f"  {f}: headers differ"); ok = False; continue
    sa, sb = sorted(la[1:]), sorted(lb[1:])
    if sa == sb:
        print(f"  {f}: {len(sa)} rows equal" + (", byte for byte" if ta == tb else " (sorted; order differs)"))
    else:
        only_a = len(set(sa) - set(sb)); only_b = len(set(sb) - set(sa))
        print(f"  {f}: DIFFERS ({len(sa)} vs {len(sb)} rows; {only_a} only in {a}, {only_b} only in {b})")
        ok = False
sys.exit(0 if ok else 1)
PY
}
fail=0
results=()

# --- 3. the quickstart ----------------------------------------------------------------
qs=experiments/quickstart.toml
say ""
say "== quickstart: $qs, $SHARDS shards"
t=$(date +%s.%N)
"$BIN" run "$qs" --out "$OUT/whole" --quiet --no-report --jobs "$cpus"
qs_whole_s=$(since "$t")
EXPERIMENT=$qs SHARDS=$SHARDS OUT=$OUT JOBS=1 submit
qs_submit_s=$submit_s
qs_play_s=$(play_time "$array_id")
qs_merge_s=$(merge_time quickstart)
say "  tasks: $(job_states "$array_id" | awk '{print $2}' | sort | uniq -c | xargs)"
say "  merge job: $(job_states "$merge_id" | awk '{print $2}')"
if compare "$OUT/merged/quickstart" "$OUT/whole/quickstart"; then
  results+=("quickstart: merged = whole")
else
  results+=("quickstart: merged DIFFERS from whole"); fail=1
fi

# --- 4. an LLM sweep against a shared model server -----------------------------------
say ""
say "== llm-cluster: examples/slurm/llm-cluster.toml against fishbanks mock-server (${LATENCY_MS} ms a call), $SHARDS shards"
"$BIN" mock-server --addr 127.0.0.1:0 --latency-ms "$LATENCY_MS" --noise 0.05 --policy greedy \
  > "$OUT/logs/mock-server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q listening "$OUT/logs/mock-server.log" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*/v1' "$OUT/logs/mock-server.log")
llm="$OUT/experiments/llm-cluster.toml"
sed "s|^base_url = \"[^\"]*\"|base_url = \"$url\"|" examples/slurm/llm-cluster.toml > "$llm"
grep -q "base_url = \"$url\"" "$llm"
t=$(date +%s.%N)
"$BIN" run "$llm" --out "$OUT/whole" --quiet --no-report --jobs 8
llm_whole_s=$(since "$t")

# First submission: every task is lost after its second run.
say "  submission 1: every task crashes after writing its second run"
EXPERIMENT=$llm SHARDS=$SHARDS OUT=$OUT JOBS=4 FISHBANKS_ABORT_AFTER_RUNS=2 submit
crash_s=$submit_s
tasks=$(job_states "$array_id" | awk '{print $2}' | sort | uniq -c | xargs)
merge_state=$(job_states "$merge_id" | awk '{print $2}')
recorded=$(for k in $(seq "$SHARDS"); do tail -n +2 "$OUT/shards/$k/llm-cluster/runs.csv" | wc -l; done | xargs)
say "  tasks: $tasks; runs recorded per shard: $recorded; merge job: ${merge_state:-removed} (never run)"
if [ -e "$OUT/merged/llm-cluster" ] || [ "$(job_states "$array_id" | grep -c COMPLETED || true)" != 0 ]; then
  say "  FAIL: a crashed task counted as done, or the merge ran"; fail=1
fi
# Second submission, as a researcher would: the same command.
say "  submission 2: the same command again"
EXPERIMENT=$llm SHARDS=$SHARDS OUT=$OUT JOBS=4 submit
llm_submit_s=$submit_s
llm_play_s=$(play_time "$array_id")
llm_merge_s=$(merge_time llm-cluster)
say "  tasks: $(job_states "$array_id" | awk '{print $2}' | sort | uniq -c | xargs)"
say "  merge job: $(job_states "$merge_id" | awk '{print $2}')"
grep -h "resumed\|cache:" "$OUT"/logs/shard-*-"$array_id".out "$OUT/logs/merge-$merge_id.out" 2>/dev/null \
  | sed 's/^/  log: /' | sort | uniq -c | sed 's/^ */  /' || true
if compare "$OUT/merged/llm-cluster" "$OUT/whole/llm-cluster"; then
  results+=("llm-cluster: merged = whole")
else
  results+=("llm-cluster: merged DIFFERS from whole"); fail=1
fi

# The merged cache alone replays the sweep, with no server.
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=""
say "  replay of the merged cache with the model server stopped:"
t=$(date +%s.%N)
if "$BIN" run "$llm" --out "$OUT/replay" --cache-mode replay --cache-dir "$OUT/merged/llm-cluster/cache" \
  --quiet --no-report --jobs "$cpus"; then
  replay_s=$(since "$t")
  if compare "$OUT/replay/llm-cluster" "$OUT/merged/llm-cluster"; then
    results+=("llm-cluster: replay of the merged cache = merged")
  else
    results+=("llm-cluster: replay DIFFERS from merged"); fail=1
  fi
else
  replay_s=$(since "$t")
  results+=("llm-cluster: replay of the merged cache FAILED"); fail=1
fi
calls=$(python3 -c 'import csv,sys; print(sum(int(r["llm_calls"]) for r in csv.DictReader(open(sys.argv[1]))))' "$OUT/merged/llm-cluster/runs.csv")
runs_llm=$(($(wc -l < "$OUT/merged/llm-cluster/runs.csv") - 1))
runs_qs=$(($(wc -l < "$OUT/merged/quickstart/runs.csv") - 1))

# --- 5. what was measured -------------------------------------------------------------
say ""
say "wall times (s), one node of $cpus CPUs:"
say "  install slurm-wlm and munge: $install_s; build: $build_s; cluster up (munged, slurmctld, slurmd): $up_s"
say "  quickstart ($runs_qs runs): one machine $qs_whole_s; $SHARDS-task array and merge job, submitted to merged and reported $qs_submit_s (longest task's play $qs_play_s, fishbanks merge $qs_merge_s)"
say "  llm-cluster ($runs_llm runs, $calls calls): one machine $llm_whole_s; crashed submission $crash_s; submitted again to merged and reported $llm_submit_s (longest task's play $llm_play_s, fishbanks merge $llm_merge_s); replay of the merged cache $replay_s"
say "  the bench in all: $(since "$bench_start")"
say ""
for r in "${results[@]}"; do say "$r"; done
if [ "$fail" = 0 ]; then
  say "PASS"
else
  say "FAIL (job logs in $OUT/logs, daemons' logs in $cluster/log)"
  exit 1
fi
