#!/usr/bin/env python3
"""Writes crates/cairn-models/tests/fixtures/<model>-tokens.json: reference token ids for a GGUF's
tokenizer, as llama.cpp's `llama-tokenize` produces them, for Cairn's own tokenizer to match. The
models: SmolLM2 (BPE, `smollm` pre-tokenizer), Qwen2.5-Coder (BPE, `qwen2`) and Gemma 3
(SentencePiece).

Each case is tokenized twice, both times without BOS:
  ids             special-token parsing on  ("<|im_start|>" becomes the single id 1)
  ids_no_special  special-token parsing off ("<|im_start|>" is tokenized as plain text)

Python stdlib only. llama-tokenize comes from scripts/build-llama-bench (built outside the repo)
unless --llama-tokenize or $LLAMA_TOKENIZE names one. Each text is written to a file and passed with
-f, which llama-tokenize reads byte for byte; --no-escape keeps backslashes literal.

Usage: scripts/make-token-fixture.py [--model smollm2|qwen2.5|gemma3|all] [--llama-tokenize PATH] [--check]
  --check  regenerate in memory and fail if the committed fixture differs.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# name: (GGUF under models/, its sha256, the special-token texts of its turns)
MODELS = {
    "smollm2": (
        "SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf",
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        [
            "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
            "text<|im_end|>more text",
            " <|im_start|> spaced <|im_end|> ",
            "<|endoftext|>",
            "<|im_start",
        ],
    ),
    "qwen2.5": (
        "Qwen2.5-Coder-0.5B-Instruct/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        [
            "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
            "text<|im_end|>more text",
            "<|fim_prefix|>def f(<|fim_suffix|>):<|fim_middle|>",
            "<|endoftext|>",
            "<|im_start",
        ],
    ),
    "gemma3": (
        "Gemma-3-270M/gemma-3-270m-q4_k_m.gguf",
        "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        [
            "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n",
            "text<end_of_turn>more text",
            " <start_of_turn> spaced <end_of_turn> ",
            "<eos>",
            "<start_of_turn",
        ],
    ),
}
FIXTURES = ROOT / "crates/cairn-models/tests/fixtures"
LLAMA_CPP_PYTHON_VERSION = "0.3.36"  # keep in step with scripts/build-llama-bench

BASE_FLAGS = ["--ids", "--no-bos", "--no-escape", "--log-disable"]

TEXTS = [
    # plain English
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "ALL CAPS SHOUTING and lowercase and MiXeD CaSe",
    # spaces
    " Hello",
    "Hello ",
    "Hello   world  with   multiple    spaces",
    "   ",
    # newlines, tabs, CRLF
    "line one\nline two\n\nline four\n",
    "\n\n\n",
    "tab\tseparated\tvalues\r\nwindows line\r\n",
    # numbers
    "12345 and 3.14159 and 1,000,000 and 2024-11-25 and 007",
    # contractions
    "don't I'M you're we'll they've she'd IT'S can't",
    # punctuation runs
    "Wait... what?!?! (really) [yes] {no} -- ok;; \"quoted\" 'single' <tag/> ***bold*** ==== ~~~",
    # code
    'fn main() {\n    let v: Vec<u32> = (0..10).collect();\n    println!("{:?}", v);\n}\n',
    "def f(x):\n    if x > 0:\n        return x ** 2  # square\n    return -x\n\n\tprint(f(3))\n",
    r"Backslash escapes stay literal: \n \t \\ \" and C:\Users\cairn",
    # URLs
    "See https://example.com/path/to?q=1&r=two#frag and http://localhost:8080/api/v1",
    # accented Latin, CJK, emoji, Arabic
    "café naïve Zürich façade Ångström crème brûlée",
    "日本語のテキストと中文文本，还有한국어。",
    "Emoji: 🙂 👍🏽 👨‍👩‍👧 🇫🇷 ❤️",
    "مرحبا بالعالم، كيف حالك؟",
    "non\u00a0breaking space and zero\u200bwidth",
    # a long word
    "Pneumonoultramicroscopicsilicovolcanoconiosis and antidisestablishmentarianism",
    # the empty string
    "",
    # characters few vocabularies hold: SentencePiece spells them as bytes
    "\u0378 \U0001d54f \u2fd6 \U0001fae8 \u0007",
    # a paragraph of prose and code, where merges meet in every order
    "Cairn keeps a library on your machine. To index a folder, run `cairn add ~/Documents` and "
    "then ask: \"Which operators merge two dictionaries?\" The answer cites the file and page.\n"
    "    for (i, chunk) in chunks.iter().enumerate() { total += chunk.len() * 2; }\n"
    "Résumé: 3×4=12, 1e-9, 0x1F, ½ ≈ 0.5; naïve coöperation; ÆØÅ æøå; ‘quotes’ “double” — dash…",
]


def find_tokenizer(explicit):
    if explicit:
        return explicit
    if os.environ.get("LLAMA_TOKENIZE"):
        return os.environ["LLAMA_TOKENIZE"]
    out = subprocess.run(
        [str(ROOT / "scripts/build-llama-bench")], check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    return str(Path(out.strip().splitlines()[-1]) / "llama-tokenize")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tokenize(tool, model, text, special):
    with tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False) as f:
        f.write(text.encode("utf-8"))
        path = f.name
    try:
        cmd = [tool, "-m", str(model), "-f", path, *BASE_FLAGS]
        if not special:
            cmd.append("--no-parse-special")
        res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if res.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stderr}")
        ids = json.loads(res.stdout.strip().splitlines()[-1])
        assert isinstance(ids, list) and all(isinstance(i, int) for i in ids), res.stdout
        return ids
    finally:
        os.unlink(path)


def dumps(value):
    # UTF-8 as is, except invisible characters (no-break and zero-width spaces, joiners, variation
    # selectors, controls), which are written as \uXXXX escapes so a reader can see them.
    out = []
    for ch in json.dumps(value, ensure_ascii=False):
        invisible = unicodedata.category(ch) in ("Zs", "Cf", "Cc", "Mn") and ch != " "
        if invisible and ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def render(doc):
    # One case per line keeps the fixture reviewable and its diffs small.
    lines = ["{"]
    for key in ("source", "model_sha256"):
        lines.append(f"  {json.dumps(key)}: {dumps(doc[key])},")
    lines.append('  "cases": [')
    cases = [dumps(c) for c in doc["cases"]]
    lines.append(",\n".join("    " + c for c in cases))
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="all", choices=[*MODELS, "all"])
    ap.add_argument("--llama-tokenize")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    tool = find_tokenizer(args.llama_tokenize)
    for name in MODELS if args.model == "all" else [args.model]:
        write_fixture(name, tool, args.check)


def write_fixture(name, tool, check):
    relative, model_sha256, special_texts = MODELS[name]
    model = ROOT / "models" / relative
    out = FIXTURES / f"{name}-tokens.json"
    digest = sha256(model)
    if digest != model_sha256:
        sys.exit(f"{model}: sha256 {digest}, expected {model_sha256}")
    version = subprocess.run(
        [tool, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ).stdout.strip().splitlines()
    version = "; ".join(v for v in version if v.startswith(("version", "built")))

    doc = {
        "source": (
            f"llama.cpp llama-tokenize ({version}) from the llama.cpp vendored in the PyPI "
            f"llama-cpp-python {LLAMA_CPP_PYTHON_VERSION} sdist, built by scripts/build-llama-bench; "
            f"generated by scripts/make-token-fixture.py. ids: `llama-tokenize -m "
            f"{Path(relative).name} -f <text as UTF-8 file> " + " ".join(BASE_FLAGS) + "` "
            "(special-token parsing on, the tool's default); ids_no_special: the same plus "
            "--no-parse-special. No BOS in either."
        ),
        "model_sha256": model_sha256,
        "cases": [
            {
                "text": t,
                "ids": tokenize(tool, model, t, True),
                "ids_no_special": tokenize(tool, model, t, False),
            }
            for t in TEXTS + special_texts
        ],
    }
    text = render(doc)
    assert json.loads(text) == doc
    if check:
        current = out.read_text(encoding="utf-8")
        if json.loads(current)["cases"] != doc["cases"]:
            sys.exit(f"{out} differs from a fresh run")
        print(f"{out}: up to date ({len(doc['cases'])} cases)")
        return
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({len(doc['cases'])} cases)")


if __name__ == "__main__":
    main()
