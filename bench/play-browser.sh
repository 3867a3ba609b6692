#!/usr/bin/env bash
# A person's seat, played by a real browser: starts `fishbanks play` on a 3-year copy of
# experiments/human.toml, opens the seat page in headless Chromium (Debian's `chromium`,
# installed with apt-get when missing), and for every question waits for the form, fills
# it (a modest plan, a short message), submits and waits for the next question, through
# the Chrome DevTools Protocol (PyPI's `websocket-client`, in a venv under
# ~/.cache/fishbanks). It saves screenshots (the first question, a decision, the end),
# checks that a message written as `<script>` shows as text, and prints per question
# how long the server took to accept the answer and to put the next question up.
#
#   bash bench/play-browser.sh                  # screenshots in ./play-screenshots/
#   SHOTS=docs bash bench/play-browser.sh       # ... elsewhere
set -euo pipefail
cd "$(dirname "$0")/.."
SHOTS=${SHOTS:-play-screenshots}
VENV=${VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/fishbanks/venv-browser}

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "installing chromium (Debian package)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
  browser=$(command -v chromium)
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip show websocket-client >/dev/null 2>&1 \
  || "$VENV/bin/python" -m pip install -q "websocket-client==1.9.2"

cargo build --release --quiet
work=$(mktemp -d)
game=""
chrome=""
cleanup() {
  [ -n "$game" ] && kill "$game" 2>/dev/null || true
  [ -n "$chrome" ] && { kill "$chrome" 2>/dev/null; wait "$chrome" 2>/dev/null; } || true
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
sed -e 's/^years = 10/years = 3/' -e 's/^timeout_s = 300 /timeout_s = 120 /' \
  experiments/human.toml > "$work/human3.toml"
./target/release/fishbanks play "$work/human3.toml" --out "$work/out" \
  > "$work/play.log" 2>&1 &
game=$!
for _ in $(seq 100); do grep -q '^facilitator:' "$work/play.log" 2>/dev/null && break; sleep 0.1; done
seat=$(sed -n 's/^team 1: //p' "$work/play.log")
facilitator=$(sed -n 's/^facilitator: //p' "$work/play.log")
[ -n "$seat" ] || { cat "$work/play.log" >&2; exit 1; }

port=9333
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
  --remote-debugging-port=$port --window-size=1280,900 --user-data-dir="$work/profile" \
  about:blank > "$work/chrome.log" 2>&1 &
chrome=$!
mkdir -p "$SHOTS"
"$VENV/bin/python" bench/play_browser.py "$port" "$seat" "$facilitator" "$SHOTS" \
  || { echo "--- fishbanks play said:" >&2; cat "$work/play.log" >&2; exit 1; }
kill -INT "$game"; wait "$game" || true
game=""
echo "results: $(grep -c . "$work/out/human/runs.csv") lines in runs.csv"
cut -d, -f1,6,18-21 "$work/out/human/runs.csv"
