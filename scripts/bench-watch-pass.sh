#!/usr/bin/env bash
# `cairn watch` over a folder in a fresh library: seconds to its first pass's line, the process's
# RSS then and 45 s later (models unloaded after 5 s idle, the check runs every 30 s).
# Usage: scripts/bench-watch-pass.sh PATH_TO_CAIRN FOLDER   (prefix with env VAR=… to vary it)
set -euo pipefail
bin="$1"; folder="$2"
d=$(mktemp -d)
printf '[models]\nembedder_precision = "int8"\nunload_after_secs = 5\n' > "$d/config.toml"
start=$(date +%s.%N)
"$bin" --data-dir "$d" watch "$folder" > "$d/out" 2>&1 &
pid=$!
until grep -q indexed "$d/out"; do
  kill -0 $pid 2>/dev/null || { cat "$d/out"; exit 1; }
  sleep 0.2
done
rss() { awk '/^Rss:/{printf "%d MB", $2/1024}' /proc/$pid/smaps_rollup; }
echo "first pass after $(echo "$(date +%s.%N) - $start" | bc) s: RSS $(rss)"
sleep 45
echo "45 s later: RSS $(rss)"
kill $pid; wait $pid 2>/dev/null || true
rm -rf "$d"
