#!/usr/bin/env bash
# MCP seats end to end: installs PyPI's official `mcp` SDK in a virtual environment under
# ~/.cache/fishbanks/, plays experiments/mcp.toml with examples/agents/mcp_agent.py as
# the MCP client (the harness serves the endpoint), replays the recorded sweep with no
# client, and prints, per question kind, the answers, their validity and the time from
# the harness putting a question up to its answer.
#
#   bash bench/mcp-agent.sh                # OUT=DIR keeps the results (default: deleted)
#   BIN=/path/to/fishbanks bash bench/mcp-agent.sh   # another build; builds nothing
#   BATCH=8 PARALLEL=4 bash bench/mcp-agent.sh       # the client takes and answers up to
#                                                    # 8 questions per call, 4 calls at once
#
# Needs the package registries once (mcp and its dependencies). Not part of `cargo test`:
# the test suite speaks the MCP wire protocol to the harness from Rust.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/fishbanks/venv-mcp}
PY=${PYTHON:-python3}

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -c 'import mcp, httpx2' 2>/dev/null \
  || "$VENV/bin/python" -m pip install -q "mcp>=2,<3"
echo "mcp $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("mcp"))')"

if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
fi
bin=${BIN:-./target/release/fishbanks}
work=$(mktemp -d)
harness=""
cleanup() { [ -n "$harness" ] && kill "$harness" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

out=${OUT:-$work/out}
export FISHBANKS_MCP_TOKEN
FISHBANKS_MCP_TOKEN=$("$PY" -c 'import secrets; print(secrets.token_hex(16))')
start=$(date +%s.%N)
$bin run experiments/mcp.toml --out "$out" --quiet --no-report 2> "$work/harness.log" &
harness=$!
for _ in $(seq 200); do grep -q 'mcp: http://' "$work/harness.log" && break; sleep 0.05; done
url=$(grep -o 'http://[0-9.:]*/mcp' "$work/harness.log" | head -1)
[ -n "$url" ] || { cat "$work/harness.log" >&2; echo "the harness did not start its endpoint" >&2; exit 1; }
echo "endpoint         $url"
"$VENV/bin/python" examples/agents/mcp_agent.py --url "$url" --quiet \
  --batch "${BATCH:-1}" --parallel "${PARALLEL:-1}"
set +e
wait "$harness"
code=$?
set -e
harness=""
end=$(date +%s.%N)
dir="$out/mcp"

# The same sweep again from its cache, nobody connected.
$bin run experiments/mcp.toml --out "$work/replay" --quiet --no-report \
  --cache-mode replay --cache-dir "$dir/cache"
same=yes
for f in runs.csv years.csv agents.csv messages.csv; do
  cmp -s "$dir/$f" "$work/replay/mcp/$f" || same=no
done

python3 - "$dir" "$code" "$same" "$start" "$end" <<'PY'
import csv, glob, json, statistics, sys
d, code, same, start, end = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
runs = list(csv.DictReader(open(f"{d}/runs.csv")))
status = {}
for r in runs:
    status[r["status"]] = status.get(r["status"], 0) + 1
kinds = {}
for f in sorted(glob.glob(f"{d}/runs/*/events.jsonl")):
    for line in open(f):
        e = json.loads(line)
        if e["type"] == "agent" and e["event"]["type"] == "llm_call" and e["event"]["provider"].startswith("mcp"):
            kinds.setdefault(e["event"]["kind"], []).append(e["event"]["latency_ms"])
manifest = json.load(open(f"{d}/manifest.json"))
print(f"exit code        {code}")
print(f"runs             {len(runs)}: " + ", ".join(f"{k} {v}" for k, v in sorted(status.items())))
print(f"client           " + "; ".join(f"{p['seat']}: {p['name']} {p['version']} ({p['protocol']})" for p in manifest.get("agent_programs", [])))
print()
print("question     calls  median ms  mean ms  max ms")
for kind, lat in sorted(kinds.items()):
    print(f"{kind:<12} {len(lat):>5}  {statistics.median(lat):>9.1f}  {statistics.mean(lat):>7.1f}  {max(lat):>6}")
total = lambda c: sum(float(r[c]) for r in runs)
answers = total("llm_answers")
print()
print(f"answers          {answers:.0f}; valid at the first try {total('llm_valid_first_try') / max(answers, 1):.3f}; repairs {total('llm_repairs'):.0f}; fallbacks {total('llm_fallbacks'):.0f}")
print(f"replay           without the client: files {'byte-identical' if same == 'yes' else 'DIFFERENT'}")
print(f"wall             {end - start:.1f} s")
ok = code == 0 and status.get("ok", 0) == len(runs) and total("llm_fallbacks") == 0 and same == "yes"
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
