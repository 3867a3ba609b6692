#!/usr/bin/env bash
# Look at the quickstart's report as a person would: plays the quickstart, writes its
# report, opens report.html in headless Chromium (Debian's `chromium`, installed with
# apt-get when missing), fails on any console error, and saves a full-page screenshot.
#
#   bash bench/report-screenshot.sh                 # -> report-screenshot.png
#   OUT=shot.png WIDTH=1280 bash bench/report-screenshot.sh
#
# The report is self-contained: Chromium runs with the network disabled.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-report-screenshot.png}
WIDTH=${WIDTH:-1280}
HEIGHT=${HEIGHT:-6000}

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "installing chromium (Debian package)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
  browser=$(command -v chromium)
fi

cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
./target/release/fishbanks run experiments/quickstart.toml --out "$work" --quiet
report="$work/quickstart/report.html"

flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run
  --disable-background-networking --proxy-server=127.0.0.1:9 --proxy-bypass-list='<-loopback>'
  --user-data-dir="$work/profile" --enable-logging=stderr --v=0)
# Console messages reach stderr as "CONSOLE(...)" lines; any of level error fails.
"$browser" "${flags[@]}" --dump-dom "file://$report" > "$work/dom.html" 2> "$work/console.log" || true
if grep -E 'CONSOLE.*(error|Uncaught)|:ERROR:CONSOLE' "$work/console.log"; then
  echo "report.html logged a console error" >&2
  exit 1
fi
grep -q '<svg' "$work/dom.html" || { echo "the rendered page has no figure" >&2; exit 1; }
"$browser" "${flags[@]}" --window-size="$WIDTH,$HEIGHT" --screenshot="$PWD/$OUT" "file://$report" 2>/dev/null
echo "no console errors; screenshot in $OUT ($(du -h "$OUT" | cut -f1))"
