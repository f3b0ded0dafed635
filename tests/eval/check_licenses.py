#!/usr/bin/env python3
"""Validate tests/eval/licenses.jsonl against Debian's licence texts.

Usage:
  python3 tests/eval/check_licenses.py [LICENSE_DIR] [--set PATH]

LICENSE_DIR defaults to /usr/share/common-licenses (package base-files).
PATH defaults to tests/eval/licenses.jsonl next to this script.

Checks, for every line:
  * valid JSON object; id is unique and is L### (answerable) or LU## (unanswerable)
  * split is "held_out" when the id's number is even and "dev" when it is odd
  * answerable: keys id, question, gold, relevant, split
      - relevant is a list of 1 or 2 {"doc", "quote"} objects
      - doc is one of the ten corpus files and exists in LICENSE_DIR
      - quote occurs verbatim (case-sensitive) in one paragraph of the document
        once runs of whitespace, line breaks included, are collapsed to one space
      - quote is 6-20 words long, with single spaces and no leading/trailing space
      - gold is a list of 1-4 distinct strings, each 1-5 words long
      - at least one gold string occurs in a relevant document
        (case-insensitive, whitespace collapsed); the others may be alternative
        wordings and are only listed for information
  * unanswerable: keys id, question, unanswerable (true), split; no gold or relevant

Prints counts and exits 1 if any problem is found.
Standard library only.
"""

import argparse
import json
import os
import re
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SET = os.path.join(HERE, "licenses.jsonl")
DEFAULT_DIR = "/usr/share/common-licenses"
DOCS = [
    "Apache-2.0", "Artistic", "BSD", "CC0-1.0", "GFDL-1.3",
    "GPL-2", "GPL-3", "LGPL-2.1", "LGPL-3", "MPL-2.0",
]
ANSWERABLE_RE = re.compile(r"^L(\d{3})$")
UNANSWERABLE_RE = re.compile(r"^LU(\d{2})$")
WS = re.compile(r"\s+")


def collapse(s: str) -> str:
    return WS.sub(" ", s).strip()


def load_docs(folder, problems):
    """Return {doc: (collapsed whole text, [collapsed paragraphs])}."""
    docs = {}
    for name in DOCS:
        full = os.path.join(folder, name)
        if not os.path.isfile(full):
            problems.append(f"corpus file missing: {full}")
            continue
        with open(full, encoding="utf-8") as fh:
            text = fh.read()
        paras = [collapse(p) for p in re.split(r"\n[ \t]*\n", text)]
        docs[name] = (collapse(text), [p for p in paras if p])
    return docs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("license_dir", nargs="?", default=DEFAULT_DIR)
    ap.add_argument("--set", dest="path", default=DEFAULT_SET)
    args = ap.parse_args()

    problems = []
    docs = load_docs(args.license_dir, problems)

    ids = set()
    questions_seen = set()
    n_answerable = n_unanswerable = 0
    splits = Counter()
    n_rel = Counter()
    docs_used = Counter()
    alt_not_found = []

    with open(args.path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()

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
        qid = obj.get("id")
        where = f"line {lineno} ({qid})"

        if not isinstance(qid, str):
            problems.append(f"{where}: missing or non-string id")
            continue
        m_ans, m_un = ANSWERABLE_RE.match(qid), UNANSWERABLE_RE.match(qid)
        if not (m_ans or m_un):
            problems.append(f"{where}: bad id {qid!r} (want L### or LU##)")
            continue
        if qid in ids:
            problems.append(f"{where}: duplicate id {qid}")
        ids.add(qid)

        number = int((m_ans or m_un).group(1))
        want_split = "held_out" if number % 2 == 0 else "dev"
        split = obj.get("split")
        if split != want_split:
            problems.append(f"{where}: split is {split!r}, want {want_split!r}")
        splits[(("answerable" if m_ans else "unanswerable"), split)] += 1

        q = obj.get("question")
        if not isinstance(q, str) or not q.strip():
            problems.append(f"{where}: empty question")
        elif collapse(q).lower() in questions_seen:
            problems.append(f"{where}: duplicate question text")
        else:
            questions_seen.add(collapse(q).lower())

        if m_un:
            n_unanswerable += 1
            want = {"id", "question", "unanswerable", "split"}
            if set(obj.keys()) != want:
                problems.append(f"{where}: keys {sorted(obj.keys())}, want {sorted(want)}")
            if obj.get("unanswerable") is not True:
                problems.append(f"{where}: unanswerable must be true")
            continue

        n_answerable += 1
        want = {"id", "question", "gold", "relevant", "split"}
        if set(obj.keys()) != want:
            problems.append(f"{where}: keys {sorted(obj.keys())}, want {sorted(want)}")

        rel = obj.get("relevant")
        rel_docs = []
        if not isinstance(rel, list) or not 1 <= len(rel) <= 2:
            problems.append(f"{where}: relevant must be a list of 1 or 2 entries")
            rel = rel if isinstance(rel, list) else []
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
            if doc not in DOCS:
                problems.append(f"{rw}: {doc!r} is not one of the corpus files")
                continue
            if doc not in docs:
                problems.append(f"{rw}: document not found: {doc}")
                continue
            rel_docs.append(doc)
            docs_used[doc] += 1
            if quote != collapse(quote):
                problems.append(f"{rw}: quote must use single spaces and no leading/trailing space")
            nwords = len(quote.split())
            if not 6 <= nwords <= 20:
                problems.append(f"{rw}: quote has {nwords} words (need 6-20)")
            whole, paras = docs[doc]
            cq = collapse(quote)
            if cq not in whole:
                problems.append(f"{rw}: quote not found in {doc}: {quote!r}")
            elif not any(cq in p for p in paras):
                problems.append(f"{rw}: quote spans more than one paragraph of {doc}")
        pairs = [(r.get("doc"), r.get("quote")) for r in rel if isinstance(r, dict)]
        if len(set(pairs)) != len(pairs):
            problems.append(f"{where}: duplicate relevant entries")

        gold = obj.get("gold")
        if not isinstance(gold, list) or not 1 <= len(gold) <= 4:
            problems.append(f"{where}: gold must be a list of 1 to 4 strings")
            continue
        if not all(isinstance(g, str) and g.strip() for g in gold):
            problems.append(f"{where}: gold entries must be non-empty strings")
            continue
        if len({collapse(g).lower() for g in gold}) != len(gold):
            problems.append(f"{where}: duplicate gold strings")
        found = []
        for g in gold:
            nwords = len(g.split())
            if not 1 <= nwords <= 5:
                problems.append(f"{where}: gold {g!r} has {nwords} words (need 1-5)")
            cg = collapse(g).lower()
            hit = any(cg in docs[d][0].lower() for d in set(rel_docs))
            found.append(hit)
            if not hit:
                alt_not_found.append(f"{qid}: {g!r}")
        if rel_docs and not any(found):
            problems.append(f"{where}: no gold string occurs in a relevant document")

    print(f"answerable questions: {n_answerable}")
    for n in sorted(n_rel):
        print(f"  with {n} relevant passage(s): {n_rel[n]}")
    print(f"unanswerable questions: {n_unanswerable}")
    for (kind, split), c in sorted(splits.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        print(f"  {kind:12s} {split}: {c}")
    print(f"corpus documents: {len(docs)} of {len(DOCS)} found; "
          f"referenced by questions: {len(docs_used)}")
    for d in DOCS:
        print(f"  {d:10s} {docs_used[d]} relevant entries")
    unused = [d for d in DOCS if d in docs and not docs_used[d]]
    if unused:
        problems.append(f"corpus files no question refers to: {unused}")
    print(f"gold strings not in a relevant document (alternative wordings): {len(alt_not_found)}")
    for a in alt_not_found:
        print(f"  {a}")

    if problems:
        print(f"\n{len(problems)} problem(s):")
        for p in problems:
            print("  " + p)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
