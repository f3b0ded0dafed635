#!/usr/bin/env bash
# End-to-end: the cairn binary on the sample corpus in tests/corpus, as README.md tells a person to
# use it. Usage: tests/e2e-cli.sh PATH_TO_CAIRN
set -euo pipefail
cairn="${1:?usage: $0 path/to/cairn}"
here="$(cd "$(dirname "$0")" && pwd)"
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT

fail() { echo "e2e: $*" >&2; exit 1; }

"$cairn" --data-dir "$data" add "$here/corpus" --json > "$data/add.jsonl" || fail "add exited $?"
files=$(find "$here/corpus" -type f \( -name '*.md' -o -name '*.txt' -o -name '*.html' \) | wc -l)
indexed=$(grep -c '"status":"indexed"' "$data/add.jsonl" || true)
[ "$indexed" = "$files" ] || fail "indexed $indexed of $files files"

# Re-adding an unchanged folder writes nothing.
"$cairn" --data-dir "$data" add "$here/corpus" --json | tail -n 1 | grep -q '"chunks":0' || fail "re-add wrote chunks"

# Every question of the evaluation set of the lexical kind finds its document in the top 5.
python3 - "$cairn" "$data" "$here" <<'PY'
import json, subprocess, sys
cairn, data, here = sys.argv[1:4]
misses = []
questions = [json.loads(l) for l in open(f"{here}/eval/questions.jsonl")]
lexical = [q for q in questions if q["kind"] == "lexical"][:10]
for q in lexical:
    out = subprocess.run([cairn, "--data-dir", data, "search", q["question"], "--json", "--k", "5"],
                         check=True, capture_output=True, text=True).stdout
    hits = json.loads(out)
    want = {f"{here}/corpus/{r['doc']}" for r in q["relevant"]}
    if not any(h["doc_path"] in want for h in hits):
        misses.append(q["id"])
if misses:
    sys.exit(f"e2e: these questions did not find their document in the top 5: {misses}")
print(f"e2e: {len(lexical)} questions found their documents")
PY

"$cairn" --data-dir "$data" check > /dev/null || fail "index and database disagree"
echo "e2e: ok ($files files)"
