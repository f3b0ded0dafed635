#!/usr/bin/env python3
"""Writes crates/cairn-models/tests/fixtures/runtime-<name>.json: what llama.cpp, the reference,
computes with a GGUF, for Cairn's runtime to match in `tests/runtime.rs`:

  prompts   chat prompts rendered with the GGUF's own template (Python's jinja2), llama.cpp's token
            ids for each, and the first 32 tokens llama.cpp generates greedily after it, each with
            the runner-up and the margin between their logits;
  text      a ~512-token text (a document from tests/corpus), its token ids, and at every position
            llama.cpp's two best tokens and the margin between their logits, run token by token as
            decoding runs, and how often llama.cpp's own batched run of the text gives the same top
            token (they part at near-ties: 97.7% on Qwen2.5-Coder-0.5B, 93.9% on Gemma-3-270M).

llama.cpp runs through the llama-cpp-python package (a pinned version; build it into a virtual
environment outside the repository, e.g.
  python3 -m venv ~/.cache/cairn/llamapy
  CMAKE_ARGS="-DGGML_NATIVE=ON" ~/.cache/cairn/llamapy/bin/pip install llama-cpp-python==0.3.36 jinja2 gguf
) and this script runs with that environment's Python. The fixture records the model's SHA-256; the
test checks it against the file it loads.

Models with no vocabulary (the random-weight ones of `cairn_models::test_support`, written by
`cargo run -p cairn-models --features test-support --example random-gguf -- DIR`) get prompts and a
text of token ids drawn from a fixed seed instead (`--ids-only`).

Usage: make-runtime-fixture.py --model GGUF --name NAME [--out DIR] [--system TEXT] [--plain]
                               [--ids-only]
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path

import jinja2
import numpy as np
from gguf import GGUFReader
from llama_cpp import Llama

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "crates/cairn-models/tests/fixtures"
LLAMA_CPP_PYTHON_VERSION = "0.3.36"  # keep in step with scripts/build-llama-bench

QUESTIONS = [
    "When was the Fresnel lens of Skerrow Point lighthouse made?",
    "Write a Python function that returns the n-th Fibonacci number.",
    "List three things a first-year beekeeper should check in spring.",
]
SYSTEM = "You are a helpful assistant. Answer briefly."
TEXT_FILE = ROOT / "tests/corpus/nature/tides.md"
TEXT_TOKENS = 512
GENERATE = 32


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def metadata(path: Path) -> dict:
    reader = GGUFReader(str(path))
    out = {}
    for key in ("tokenizer.chat_template", "general.architecture"):
        field = reader.fields.get(key)
        if field is not None:
            out[key] = bytes(field.parts[field.data[0]]).decode()
    for key in ("tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"):
        field = reader.fields.get(key)
        if field is not None:
            out[key] = int(field.parts[field.data[0]][0])
    return out


def render(template: str, messages, bos: str, eos: str) -> str:
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = lambda msg: (_ for _ in ()).throw(Exception(msg))
    return env.from_string(template).render(
        messages=messages, add_generation_prompt=True, bos_token=bos, eos_token=eos
    )


def best_two(logits: np.ndarray):
    top2 = np.argpartition(logits, -2)[-2:]
    best, second = sorted(top2, key=lambda i: -logits[i])
    return int(best), int(second), float(logits[best] - logits[second])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--system", default=SYSTEM)
    parser.add_argument("--plain", action="store_true", help="a base model: prompts are plain text")
    parser.add_argument("--ids-only", action="store_true", help="no vocabulary: token ids only")
    args = parser.parse_args()

    md = metadata(args.model)
    llm = Llama(
        model_path=str(args.model),
        n_ctx=2048,
        n_batch=512,
        n_threads=2,
        logits_all=True,
        verbose=False,
    )
    rng = np.random.default_rng(7)
    vocab = llm.n_vocab()
    if not args.ids_only:
        vocab_text = lambda i: llm.detokenize([i], special=True).decode("utf-8", "replace")
        bos = vocab_text(md["tokenizer.ggml.bos_token_id"]) if "tokenizer.ggml.bos_token_id" in md else ""
        eos = vocab_text(md["tokenizer.ggml.eos_token_id"])

    prompts = []
    for question in QUESTIONS:
        if args.ids_only:
            text = ""
            ids = [int(i) for i in rng.integers(0, vocab, size=24)]
        else:
            if args.plain or "tokenizer.chat_template" not in md:
                text = f"{question}\n"
            else:
                messages = [
                    {"role": "system", "content": args.system},
                    {"role": "user", "content": question},
                ]
                text = render(md["tokenizer.chat_template"], messages, bos, eos)
            ids = llm.tokenize(text.encode(), add_bos=True, special=True)
        llm.reset()
        llm.eval(ids)
        generated, seconds, margins = [], [], []
        for _ in range(GENERATE):
            token, second, margin = best_two(np.array(llm.scores[llm.n_tokens - 1]))
            generated.append(token)
            seconds.append(second)
            margins.append(round(margin, 4))
            if llm.token_eos() == token:
                break
            llm.eval([token])
        prompts.append(
            {
                "text": text,
                "ids": ids,
                "greedy": generated,
                "greedy_second": seconds,
                "greedy_margin": margins,
            }
        )

    if args.ids_only:
        ids = [int(i) for i in rng.integers(0, vocab, size=TEXT_TOKENS)]
    else:
        text = TEXT_FILE.read_text()
        ids = llm.tokenize(text.encode(), add_bos=True, special=False)[:TEXT_TOKENS]
    llm.reset()
    top, second, margin = [], [], []
    for token in ids:
        llm.eval([token])
        t, s, m = best_two(np.array(llm.scores[llm.n_tokens - 1]))
        top.append(t)
        second.append(s)
        margin.append(round(m, 4))

    # llama.cpp against itself: the same text in one batch. Where its two runs part, a correct
    # implementation may take either side; the test holds the runtime to this agreement too.
    llm.reset()
    llm.eval(ids)
    batched = [int(np.argmax(llm.scores[pos])) for pos in range(len(ids))]
    self_agreement = sum(a == b for a, b in zip(batched, top)) / len(ids)

    fixture = {
        "about": "llama.cpp's tokens, greedy tokens and top-1 logits for this model; see scripts/make-runtime-fixture.py",
        "llama_cpp_python": LLAMA_CPP_PYTHON_VERSION,
        "model_sha256": sha256(args.model),
        "architecture": md.get("general.architecture"),
        "prompts": prompts,
        "text": {
            "source": "random ids" if args.ids_only else str(TEXT_FILE.relative_to(ROOT)),
            "ids": ids,
            "top1": top,
            "top2": second,
            "margin": margin,
            "llama_cpp_self_agreement": round(self_agreement, 4),
        },
    }
    out = args.out / f"runtime-{args.name}.json"
    out.write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"wrote {out}: {len(prompts)} prompts, {len(ids)} text tokens", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
