#!/usr/bin/env bash
# LLM sweep benchmark (issue 3): 40 runs × 10 years × 6 LLM agents under `broadcast`
# against `fishbanks mock-server` with 100 ms latency, over real loopback HTTP.
# Prints wall time next to the critical-path bound (the preflight call, then 20 phases of
# one latency each) and the harness CPU time per call. The mock server keeps connections
# alive, as real servers do.
#
#   bash bench/llm-sweep.sh            # LATENCY_MS, RUNS, YEARS, JOBS, CONCURRENCY to vary
#   BIN=/path/to/fishbanks bash bench/llm-sweep.sh   # another build (A/B against an old
#                                                    # commit; built with --features testkit)
#   AGENT=remote bash bench/llm-sweep.sh   # the same sweep with six remote seats (the
#                                          # stdlib JSON example agent, no latency): the
#                                          # harness CPU per remote call
set -euo pipefail
cd "$(dirname "$0")/.."
LATENCY_MS=${LATENCY_MS:-100}
RUNS=${RUNS:-40}
YEARS=${YEARS:-10}
JOBS=${JOBS:-40}
CONCURRENCY=${CONCURRENCY:-256}
AGENTS=6
ROUNDS=1

if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet --features testkit
fi
bin=${BIN:-./target/release/fishbanks}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

AGENT=${AGENT:-llm}
if [ "$AGENT" = remote ]; then
  python3 examples/agents/json_agent.py --port 0 > "$work/server.log" &
else
  $bin mock-server --addr 127.0.0.1:0 --latency-ms "$LATENCY_MS" > "$work/server.log" &
fi
server=$!
for _ in $(seq 50); do grep -q listening "$work/server.log" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*/v1' "$work/server.log" || grep -o 'http://[0-9.:]*/' "$work/server.log")
if [ "$AGENT" = remote ]; then
  seats="{ kind = \"remote\", url = \"$url\", max_concurrency = $CONCURRENCY, count = $AGENTS }"
  providers=""
else
  seats="{ kind = \"llm\", provider = \"mock\", count = $AGENTS }"
  providers="[providers.mock]
kind = \"openai\"
base_url = \"$url\"
model = \"mock-greedy\"
max_concurrency = $CONCURRENCY
timeout_s = 30"
fi

cat > "$work/bench.toml" <<TOML
name = "bench-llm"
years = $YEARS
seeds = $RUNS
$providers
[populations.llm]
agents = [$seats]
[protocols.broadcast]
kind = "broadcast"
rounds = $ROUNDS
[matrix]
protocol = ["broadcast"]
population = ["llm"]
TOML

/usr/bin/time -f "%e %U %S %M" -o "$work/time" \
  $bin run "$work/bench.toml" --out "$work/out" --jobs "$JOBS" --cache-mode live --events summary --no-report --quiet
read -r wall user sys rss < "$work/time"
calls=$(python3 -c 'import csv, sys; print(sum(int(r["llm_calls"]) for r in csv.DictReader(open(sys.argv[1]))))' "$work/out/bench-llm/runs.csv")

python3 - "$wall" "$user" "$sys" "$rss" "$calls" <<PY
import math, sys
wall, user, sys_, rss, calls = map(float, sys.argv[1:])
latency = $LATENCY_MS / 1000
phases = $ROUNDS + 1                       # message rounds + decision, every year
per_run = $YEARS * phases * latency        # one run's critical path
waves = math.ceil($RUNS / $JOBS)           # runs scheduled $JOBS at a time
calls_total = $RUNS * $YEARS * phases * $AGENTS
# The preflight's one call must be answered before run 1 starts (a dead server stops the
# sweep before anything is written): one more latency on the critical path.
bound = latency + max(waves * per_run, calls_total * latency / $CONCURRENCY)
cpu = user + sys_
print(f"runs {int($RUNS)} x years {int($YEARS)} x agents {$AGENTS}, broadcast, latency {latency*1000:.0f} ms, jobs {$JOBS}, max_concurrency {$CONCURRENCY}")
print(f"LLM calls        {int(calls)}")
print(f"wall             {wall:.2f} s")
print(f"critical path    {bound:.2f} s   (wall / bound = {wall / bound:.3f}; {wall / (bound - latency):.3f} without the preflight call)")
print(f"harness CPU      {cpu:.2f} s = {cpu / calls * 1000:.3f} ms per call (includes the TLS-free HTTP client, JSON and CSV work)")
print(f"peak RSS         {rss / 1024:.0f} MB")
PY
