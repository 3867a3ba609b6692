#!/usr/bin/env bash
# Remote agents end to end: installs PyPI's a2a-sdk (with its HTTP server) in a virtual
# environment under ~/.cache/fishbanks/, starts the A2A example agent on it and the
# stdlib JSON example agent, runs `fishbanks doctor` and plays experiments/remote.toml
# against them; prints, per agent, every question's answers, validity and latency.
#
#   bash bench/a2a-agent.sh                # OUT=DIR keeps the results (default: deleted)
#
# Needs the package registries once (a2a-sdk, uvicorn). Not part of `cargo test`: the
# test suite plays the JSON agent itself and speaks A2A to a Rust test double.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/fishbanks/venv-a2a}
PY=${PYTHON:-python3}

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -c 'import a2a, uvicorn' 2>/dev/null \
  || "$VENV/bin/python" -m pip install -q "a2a-sdk[http-server]>=1.3,<2" "uvicorn>=0.30"
echo "a2a-sdk $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("a2a-sdk"))')"

cargo build --release --quiet
bin=./target/release/fishbanks
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

"$PY" examples/agents/json_agent.py --port 0 > "$work/json.log" 2>&1 &
pids+=($!)
"$VENV/bin/python" examples/agents/a2a_agent.py --port 0 > "$work/a2a.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  grep -q listening "$work/json.log" && grep -q listening "$work/a2a.log" && break
  sleep 0.1
done
json_url=$(grep -o 'http://[0-9.:]*/' "$work/json.log")
a2a_url=$(grep -o 'http://[0-9.:]*/' "$work/a2a.log")
[ -n "$json_url" ] && [ -n "$a2a_url" ] || { cat "$work"/*.log >&2; echo "an agent did not start" >&2; exit 1; }
sed -e "s#http://127.0.0.1:8765/#$json_url#" -e "s#http://127.0.0.1:8766#${a2a_url%/}#" \
  experiments/remote.toml > "$work/remote.toml"

$bin doctor "$work/remote.toml"
out=${OUT:-$work/out}
set +e
$bin run "$work/remote.toml" --out "$out" --quiet
code=$?
set -e
dir="$out/remote"

python3 - "$dir" "$code" <<'PY'
import csv, glob, json, statistics, sys
d, code = sys.argv[1], int(sys.argv[2])
runs = list(csv.DictReader(open(f"{d}/runs.csv")))
status = {}
for r in runs:
    status[r["status"]] = status.get(r["status"], 0) + 1
print(f"exit code        {code}")
print(f"runs             {len(runs)}: " + ", ".join(f"{k} {v}" for k, v in sorted(status.items())))
per = {}
for f in sorted(glob.glob(f"{d}/runs/*/events.jsonl")):
    for line in open(f):
        e = json.loads(line)
        if e["type"] != "agent":
            continue
        ev = e["event"]
        if ev["type"] == "llm_call":
            a = per.setdefault(ev["provider"], {"calls": 0, "lat": [], "kinds": {}})
            a["calls"] += 1
            a["lat"].append(ev["latency_ms"])
            a["kinds"][ev["kind"]] = a["kinds"].get(ev["kind"], 0) + 1
names = {"remote-1": "json", "remote-2": "a2a"}
print()
print("agent      transport  calls  median ms  mean ms  max ms  questions")
for name, a in sorted(per.items()):
    lat = a["lat"] or [0]
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(a["kinds"].items()))
    print(f"{name:<10} {names.get(name, '?'):<10} {a['calls']:>5}  {statistics.median(lat):>9.1f}  {statistics.mean(lat):>7.1f}  {max(lat):>6}  {kinds}")
total = lambda c: sum(float(r[c]) for r in runs)
answers = total("llm_answers")
print()
print(f"answers          {answers:.0f}; valid at the first try {total('llm_valid_first_try') / max(answers, 1):.3f}; repairs {total('llm_repairs'):.0f}; fallbacks {total('llm_fallbacks'):.0f}; transport retries {total('llm_retries'):.0f}")
ok = code == 0 and status.get("ok", 0) == len(runs) and total("llm_fallbacks") == 0
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
