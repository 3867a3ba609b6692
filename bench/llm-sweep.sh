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
#   AGENT=a2a bash bench/llm-sweep.sh      # six A2A seats (the a2a-sdk example; its venv
#                                          # from bench/a2a-agent.sh)
#   AGENT=mcp bash bench/llm-sweep.sh      # six MCP seats, the harness serving them to the
#                                          # mcp SDK example (its venv from bench/mcp-agent.sh),
#                                          # one question per call
#   AGENT=mcp MCP_BATCH=8 bash bench/llm-sweep.sh   # the example as a program playing many
#                                          # seats: up to 8 questions per call (next_questions,
#                                          # answer_many)
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
trap '[ -n "${server:-}" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT

AGENT=${AGENT:-llm}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/fishbanks
server=""
case "$AGENT" in
  remote) python3 examples/agents/json_agent.py --port 0 > "$work/server.log" & server=$! ;;
  a2a) "$CACHE/venv-a2a/bin/python" examples/agents/a2a_agent.py --port 0 > "$work/server.log" 2>&1 & server=$! ;;
  mcp) ;;  # the harness serves; its client starts once the endpoint is printed
  *) $bin mock-server --addr 127.0.0.1:0 --latency-ms "$LATENCY_MS" > "$work/server.log" & server=$! ;;
esac
if [ -n "$server" ]; then
  for _ in $(seq 100); do grep -q listening "$work/server.log" && break; sleep 0.1; done
  url=$(grep -o 'http://[0-9.:]*/v1' "$work/server.log" || grep -o 'http://[0-9.:]*/' "$work/server.log")
fi
if [ "$AGENT" = remote ] || [ "$AGENT" = a2a ]; then
  transport=json; [ "$AGENT" = a2a ] && transport=a2a
  seats="{ kind = \"remote\", url = \"$url\", transport = \"$transport\", max_concurrency = $CONCURRENCY, count = $AGENTS }"
  providers=""
elif [ "$AGENT" = mcp ]; then
  seats="{ kind = \"mcp\", token_env = \"FISHBANKS_MCP_TOKEN\", count = $AGENTS }"
  providers=""
  export FISHBANKS_MCP_TOKEN
  FISHBANKS_MCP_TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
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

if [ "$AGENT" = mcp ]; then
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" \
    $bin run "$work/bench.toml" --out "$work/out" --jobs "$JOBS" --cache-mode live --events summary --no-report --quiet 2> "$work/harness.log" &
  harness=$!
  for _ in $(seq 200); do grep -q 'mcp: http://' "$work/harness.log" && break; sleep 0.05; done
  url=$(grep -o 'http://[0-9.:]*/mcp' "$work/harness.log" | head -1)
  "$CACHE/venv-mcp/bin/python" examples/agents/mcp_agent.py --url "$url" --quiet --parallel 16 --batch "${MCP_BATCH:-1}"
  wait "$harness"
else
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" \
    $bin run "$work/bench.toml" --out "$work/out" --jobs "$JOBS" --cache-mode live --events summary --no-report --quiet
fi
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
