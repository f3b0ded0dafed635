#!/usr/bin/env bash
# RSS and PSS of `cairn serve` after one answer, and after its models were idle for unload_after_secs.
# Usage: scripts/with-keychain scripts/bench-idle-memory.sh PATH_TO_CAIRN FOLDER_TO_INDEX
set -euo pipefail
bin="$1"; corpus="$2"
d=$(mktemp -d)
"$bin" --data-dir "$d" add "$corpus" >/dev/null 2>&1
printf '[models]\nunload_after_secs = 5\n' >> "$d/config.toml"
"$bin" --data-dir "$d" serve --port 0 --show-token > "$d/out" 2> "$d/err" &
pid=$!
sleep 3
token=$(head -1 "$d/out"); base=$(grep -o 'http://[^ ]*' "$d/err" | head -1)
mem() { awk '/^Rss:/{r=$2} /^Pss:/{p=$2} END{printf "RSS %.0f MB, PSS %.0f MB", r/1024, p/1024}' /proc/$pid/smaps_rollup; }
echo "started: $(mem)"
start=$(date +%s.%N)
curl -s -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"model":"cairn","messages":[{"role":"user","content":"When was the Fresnel lens of Skerrow Point lighthouse made?"}]}' \
  "$base/chat/completions" | head -c 300; echo
echo "answered in $(echo "$(date +%s.%N) - $start" | bc) s: $(mem)"
sleep 45
echo "after 45 s idle (unload_after_secs = 5, checked every 30 s): $(mem)"
kill $pid; wait $pid 2>/dev/null || true
rm -rf "$d"
