#!/usr/bin/env python3
"""Validate tests/eval/questions.jsonl against the corpus in tests/corpus/.

Checks, for every line:
  * valid JSON object with keys id, question, kind, relevant
  * id is unique and looks like q###
  * kind is one of lexical, semantic, mixed
  * relevant is a non-empty list of {"doc", "quote"} objects
  * doc exists under tests/corpus/ (path relative to that folder)
  * quote occurs verbatim in the document (read as UTF-8)
  * quote is 6-20 words long and lies inside one paragraph (no line break)
  * quote contains no HTML markup characters

Prints counts per kind and exits 1 if any problem is found.
Standard library only.
"""

import json
import os
import re
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.normpath(os.path.join(HERE, "..", "corpus"))
QUESTIONS = os.path.join(HERE, "questions.jsonl")
KINDS = {"lexical", "semantic", "mixed"}
ID_RE = re.compile(r"^q\d{3,}$")


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else QUESTIONS
    problems = []
    kinds = Counter()
    ids = set()
    questions_seen = set()
    n_rel = Counter()
    docs_used = set()
    cache = {}

    def load(doc):
        if doc not in cache:
            full = os.path.normpath(os.path.join(CORPUS, doc))
            if not full.startswith(CORPUS + os.sep) or not os.path.isfile(full):
                cache[doc] = None
            else:
                with open(full, encoding="utf-8") as fh:
                    cache[doc] = fh.read()
        return cache[doc]

    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()

    count = 0
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"line {lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"{where}: invalid JSON ({e})")
            continue
        if not isinstance(obj, dict):
            problems.append(f"{where}: not a JSON object")
            continue
        count += 1
        qid = obj.get("id")
        where = f"line {lineno} ({qid})"
        missing = {"id", "question", "kind", "relevant"} - obj.keys()
        if missing:
            problems.append(f"{where}: missing keys {sorted(missing)}")
            continue
        if not isinstance(qid, str) or not ID_RE.match(qid):
            problems.append(f"{where}: bad id {qid!r}")
        elif qid in ids:
            problems.append(f"{where}: duplicate id {qid}")
        ids.add(qid)

        q = obj["question"]
        if not isinstance(q, str) or not q.strip():
            problems.append(f"{where}: empty question")
        elif q.strip().lower() in questions_seen:
            problems.append(f"{where}: duplicate question text")
        else:
            questions_seen.add(q.strip().lower())

        kind = obj["kind"]
        if kind not in KINDS:
            problems.append(f"{where}: invalid kind {kind!r}")
        else:
            kinds[kind] += 1

        rel = obj["relevant"]
        if not isinstance(rel, list) or not rel:
            problems.append(f"{where}: relevant must be a non-empty list")
            continue
        n_rel[len(rel)] += 1
        for i, r in enumerate(rel):
            rw = f"{where} relevant[{i}]"
            if not isinstance(r, dict) or set(r.keys()) != {"doc", "quote"}:
                problems.append(f"{rw}: must be an object with exactly doc and quote")
                continue
            doc, quote = r["doc"], r["quote"]
            if not isinstance(doc, str) or not isinstance(quote, str):
                problems.append(f"{rw}: doc and quote must be strings")
                continue
            text = load(doc)
            if text is None:
                problems.append(f"{rw}: document not found: {doc}")
                continue
            docs_used.add(doc)
            if quote not in text:
                problems.append(f"{rw}: quote not found in {doc}: {quote!r}")
            nwords = len(quote.split())
            if not 6 <= nwords <= 20:
                problems.append(f"{rw}: quote has {nwords} words (need 6-20)")
            if "\n" in quote or "\r" in quote:
                problems.append(f"{rw}: quote spans a line break")
            if "<" in quote or ">" in quote:
                problems.append(f"{rw}: quote contains markup characters")
            if quote != quote.strip():
                problems.append(f"{rw}: quote has leading/trailing whitespace")
        pairs = [(r.get("doc"), r.get("quote")) for r in rel if isinstance(r, dict)]
        if len(set(pairs)) != len(pairs):
            problems.append(f"{where}: duplicate relevant entries")

    n_docs = 0
    for root, _, files in os.walk(CORPUS):
        n_docs += sum(1 for f in files if f.endswith((".md", ".txt", ".html")))

    print(f"questions: {count}")
    for k in sorted(KINDS):
        print(f"  {k:9s} {kinds[k]}")
    for n in sorted(n_rel):
        print(f"  with {n} relevant passage(s): {n_rel[n]}")
    print(f"corpus documents: {n_docs}; referenced by questions: {len(docs_used)}")

    if problems:
        print(f"\n{len(problems)} problem(s):")
        for p in problems:
            print("  " + p)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
