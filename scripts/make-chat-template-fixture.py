#!/usr/bin/env python3
"""Writes crates/cairn-models/tests/fixtures/smollm2-chat-template.json: SmolLM2's chat template as
stored in the GGUF (tokenizer.chat_template), its BOS/EOS tokens and special tokens, and reference
renderings of a few conversations, for Cairn's own chat formatting to match.

Rendering follows Hugging Face transformers' apply_chat_template: a Jinja2 sandboxed environment
with trim_blocks and lstrip_blocks, the loopcontrols extension, a `tojson` filter and a
`raise_exception` global; bos_token and eos_token are passed as strings. Each rendering is also
tokenized with llama.cpp's llama-tokenize (special-token parsing on, no BOS), through
scripts/make-token-fixture.py, and stored as "ids".

Needs the `gguf` and `jinja2` Python packages (installed with pip when missing).

Usage: scripts/make-chat-template-fixture.py [--model GGUF] [--out JSON] [--llama-tokenize PATH]
                                             [--no-ids] [--metadata]
  --metadata  also print the GGUF's metadata keys and the tensors of token_embd, output and blk.0.
"""

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
tokfix = importlib.import_module("make-token-fixture")

OUT = tokfix.ROOT / "crates/cairn-models/tests/fixtures/smollm2-chat-template.json"

try:
    import gguf  # noqa: F401
    import jinja2  # noqa: F401
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "gguf", "jinja2"], check=True)

import jinja2  # noqa: E402
import jinja2.ext  # noqa: E402
from gguf import GGUFReader, GGUFValueType  # noqa: E402
from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: E402

CONVERSATIONS = [
    (
        [
            {"role": "system", "content": "You are a concise assistant."},
            {"role": "user", "content": "What is the capital of France?"},
        ],
        True,
    ),
    # No system message: this template then inserts its own default system prompt.
    ([{"role": "user", "content": "Hello!\nHow are you?"}], True),
    (
        [
            {"role": "system", "content": "Answer in one word."},
            {"role": "user", "content": "Sky colour?"},
            {"role": "assistant", "content": "Blue."},
            {"role": "user", "content": "And grass?"},
        ],
        True,
    ),
    (
        [
            {"role": "user", "content": "Say hi."},
            {"role": "assistant", "content": "Hi."},
        ],
        False,
    ),
]


def field(reader, key):
    f = reader.fields.get(key)
    return None if f is None else f.contents()


def render(template, messages, add_generation_prompt, bos, eos):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = lambda x, indent=None: json.dumps(x, ensure_ascii=False, indent=indent)
    env.globals["raise_exception"] = raise_exception
    return env.from_string(template).render(
        messages=messages,
        add_generation_prompt=add_generation_prompt,
        bos_token=bos,
        eos_token=eos,
    )


def print_metadata(reader):
    print("# metadata")
    for key, f in reader.fields.items():
        types = "/".join(GGUFValueType(t).name for t in f.types)
        value = f.contents()
        if isinstance(value, list):
            shown = f"[{len(value)} items] first: {value[:5]!r}"
        elif isinstance(value, str) and len(value) > 100:
            shown = f"<string, {len(value)} chars>"
        else:
            shown = repr(value)
        print(f"{key:42} {types:14} {shown}")
    print(f"# tensors ({len(reader.tensors)}; shapes are ggml ne[], innermost first)")
    for t in reader.tensors:
        if t.name.startswith("blk.") and not t.name.startswith("blk.0."):
            continue
        shape = [int(x) for x in t.shape]
        print(f"{t.name:26} {t.tensor_type.name:6} {shape} {int(t.n_bytes)} bytes")
    if not any(t.name == "output.weight" for t in reader.tensors):
        print("(no output.weight: the output projection is tied to token_embd.weight)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(tokfix.MODEL))
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--llama-tokenize")
    ap.add_argument("--no-ids", action="store_true")
    ap.add_argument("--metadata", action="store_true")
    args = ap.parse_args()

    digest = tokfix.sha256(args.model)
    if digest != tokfix.MODEL_SHA256:
        sys.exit(f"{args.model}: sha256 {digest}, expected {tokfix.MODEL_SHA256}")
    reader = GGUFReader(args.model)
    if args.metadata:
        print_metadata(reader)

    template = field(reader, "tokenizer.chat_template")
    tokens = field(reader, "tokenizer.ggml.tokens")
    token_types = field(reader, "tokenizer.ggml.token_type")
    bos_id = field(reader, "tokenizer.ggml.bos_token_id")
    eos_id = field(reader, "tokenizer.ggml.eos_token_id")
    bos, eos = tokens[bos_id], tokens[eos_id]

    tool = None if args.no_ids else tokfix.find_tokenizer(args.llama_tokenize)
    cases = []
    for messages, add_generation_prompt in CONVERSATIONS:
        rendered = render(template, messages, add_generation_prompt, bos, eos)
        case = {
            "messages": messages,
            "add_generation_prompt": add_generation_prompt,
            "rendered": rendered,
        }
        if tool:
            case["ids"] = tokfix.tokenize(tool, args.model, rendered, True)
        cases.append(case)

    doc = {
        "source": (
            "scripts/make-chat-template-fixture.py: tokenizer.chat_template, bos/eos ids and token "
            f"types read from SmolLM2-135M-Instruct.Q4_1.gguf with the gguf Python package "
            f"{_version('gguf')}; rendered with Jinja2 {jinja2.__version__} as transformers' "
            "apply_chat_template does (sandboxed, trim_blocks, lstrip_blocks, loopcontrols, "
            "bos_token/eos_token passed as strings); ids: the rendering tokenized by llama.cpp "
            "llama-tokenize from llama-cpp-python "
            f"{tokfix.LLAMA_CPP_PYTHON_VERSION} with `" + " ".join(tokfix.BASE_FLAGS) + "`"
            " (special tokens parsed, no BOS)."
        ),
        "model_sha256": tokfix.MODEL_SHA256,
        "template": template,
        "bos_token": bos,
        "bos_token_id": bos_id,
        "eos_token": eos,
        "eos_token_id": eos_id,
        "add_bos_token": field(reader, "tokenizer.ggml.add_bos_token"),
        "special_tokens": [
            {"id": i, "text": tokens[i], "type": t} for i, t in enumerate(token_types) if t != 1
        ],
        "cases": cases,
    }
    Path(args.out).write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(cases)} cases)")


def _version(dist):
    from importlib.metadata import version

    return version(dist)


if __name__ == "__main__":
    main()
