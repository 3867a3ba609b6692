#!/usr/bin/env bash
# A whole class in headless Chromium: two students join by the join page and play
# experiments/classroom.toml next to two mock-LLM and two scripted teams; one answer's
# POST is dropped (the page retries and says so), a student reloads mid-question, the
# host stops the game with Ctrl-C and resumes it with --resume. Screenshots of the seat,
# the facilitator's screen and the debrief go to docs/img/. Prints PASS at the end.
#
#   bash bench/play-browser.sh
#
# Installs what it needs: Debian's chromium (apt-get, when missing) and npm's
# playwright-core (pinned in bench/browser/package-lock.json) to drive it.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM="${CHROMIUM:-$(command -v chromium || true)}"
if [ -z "$CHROMIUM" ]; then
  echo "installing Debian's chromium..."
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y -q chromium >/dev/null; else sudo apt-get install -y -q chromium >/dev/null; fi
  CHROMIUM="$(command -v chromium)"
fi
(cd bench/browser && npm ci --no-audit --no-fund --silent)
cargo build --release --quiet
node bench/browser/play.mjs --bin target/release/fishbanks --chromium "$CHROMIUM" "$@"
