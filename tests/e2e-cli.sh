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

# Answers (README.md, "Answers: ask and chat"): a factual question is answered by the chat model with
# the grounded prompt, citing the document that holds the answer; small talk gets a reply without
# sources; an empty question is refused with a reason.
"$cairn" --data-dir "$data" ask "When was the Fresnel lens of Skerrow Point lighthouse made?" --json \
  > "$data/ask-factual.json" || fail "ask exited $?"
"$cairn" --data-dir "$data" ask "hi there" --json > "$data/ask-chitchat.json" || fail "ask (small talk) exited $?"
python3 - "$data" <<'PY'
import json, sys
data = sys.argv[1]
problems = []
factual = json.load(open(f"{data}/ask-factual.json"))
if factual["route"] != "factual":
    problems.append(f"route {factual['route']!r} ({factual['route_reason']}), expected 'factual'")
if factual["tier"] != "primary":
    problems.append(f"tier {factual['tier']!r}, expected 'primary'")
if factual["prompt_version"] != "grounded@1.0.0":
    problems.append(f"prompt_version {factual['prompt_version']!r}, expected 'grounded@1.0.0'")
if not factual["answer"].strip():
    problems.append("the answer is empty")
if not any(c["doc_path"].endswith("lighthouse-skerrow-point.md") for c in factual["citations"]):
    cited = [c["doc_path"] for c in factual["citations"]]
    problems.append(f"no citation of lighthouse-skerrow-point.md (cited: {cited})")
chitchat = json.load(open(f"{data}/ask-chitchat.json"))
if chitchat["route"] != "chitchat":
    problems.append(f"'hi there' took route {chitchat['route']!r}, expected 'chitchat'")
if chitchat["citations"]:
    problems.append(f"'hi there' cited {len(chitchat['citations'])} passages, expected none")
if problems:
    sys.exit("e2e: ask: " + "; ".join(problems))
print("e2e: ask answered from the right document; small talk cited nothing")
PY
if "$cairn" --data-dir "$data" ask "" > /dev/null 2> "$data/ask-empty.err"; then
  fail "an empty question was answered"
fi
grep -q "empty" "$data/ask-empty.err" || fail "an empty question was refused without saying why: $(cat "$data/ask-empty.err")"

"$cairn" --data-dir "$data" check > /dev/null || fail "index and database disagree"
echo "e2e: ok ($files files)"
