#!/usr/bin/env bash
# A whole class in headless Chromium on an unkind network: two students join by the join
# page (one on a phone) and play experiments/classroom.toml (20 s per question) next to
# two mock-LLM and two scripted teams; the facilitator starts the game from its screen,
# pauses, adds a minute and releases a seat; a question times out and one is refused at
# every try (each page says what the game applied); a cross-site form tries to pause the
# game; a reconnecting slowloris, 560 slow bodies and 1,100 idle connections come from
# another address while page loads are timed, and 100 connections open at once; the
# host stops the game with Ctrl-C and resumes it. Screenshots of every page go to
# docs/img/. Prints its figures and PASS at the end (the README's figures come from its
# output).
#
#   bash bench/play-browser.sh
#
# Installs what it needs: Debian's chromium (apt-get, when missing) and npm's
# playwright-core (pinned in bench/browser/package-lock.json) to drive it. Take its
# figures under the machine's exclusive lock: flock -x /work/coord/heavy.lock ...
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
# Many sockets at once (the attacks): more than the default 1,024 descriptors.
ulimit -n 8192 2>/dev/null || true
node bench/browser/play.mjs --bin target/release/fishbanks --chromium "$CHROMIUM" "$@"
