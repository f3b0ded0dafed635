"""Drives Cairn's local API with the real `openai` client library, as another tool on this device
would, and prints what it saw as one JSON object (checked by crates/cairn-cli/tests/api.rs).

Usage: openai_client.py BASE_URL TOKEN QUESTION
"""

import json
import sys
import urllib.error
import urllib.request

import openai

base, token, question = sys.argv[1], sys.argv[2], sys.argv[3]
client = openai.OpenAI(base_url=base, api_key=token, max_retries=0)
seen = {"openai_version": openai.__version__}

seen["models"] = [m.id for m in client.models.list()]

# Streamed: the pieces, then a last chunk with the citations.
stream = client.chat.completions.create(
    model="cairn", messages=[{"role": "user", "content": question}], stream=True
)
pieces, last = [], None
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        pieces.append(chunk.choices[0].delta.content)
    last = chunk
extra = last.model_extra or {}
seen["stream"] = {
    "pieces": len(pieces),
    "text": "".join(pieces),
    "finish_reason": last.choices[0].finish_reason,
    "citations": extra.get("citations"),
    "cairn": extra.get("cairn"),
}

# Not streamed, with the question as content parts.
reply = client.chat.completions.create(
    model="cairn",
    messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": question}]},
    ],
)
seen["plain"] = {
    "text": reply.choices[0].message.content,
    "finish_reason": reply.choices[0].finish_reason,
    "citations": (reply.model_extra or {}).get("citations"),
    "usage": reply.usage.model_dump() if reply.usage else None,
}

# A conversation: the earlier turns are the thread the last question follows up.
followed = client.chat.completions.create(
    model="cairn",
    messages=[
        {"role": "user", "content": "Tell me about the Skerrow Point lighthouse."},
        {"role": "assistant", "content": "It stands on Skerrow Point and has a Fresnel lens."},
        {"role": "user", "content": "When was its lens made?"},
    ],
)
seen["follow_up"] = {
    "text": followed.choices[0].message.content,
    "cairn": (followed.model_extra or {}).get("cairn"),
}

# Embeddings: the client asks for base64 by default and decodes it; floats when asked.
embedded = client.embeddings.create(model="cairn-embedding", input=["tides", "lighthouses"])
floats = client.embeddings.create(model="cairn-embedding", input="tides", encoding_format="float")
seen["embeddings"] = {
    "count": len(embedded.data),
    "dimension": len(embedded.data[0].embedding),
    "same_either_way": max(
        abs(a - b) for a, b in zip(embedded.data[0].embedding, floats.data[0].embedding)
    )
    < 1e-6,
}

# Refusals, as the client reports them.
def refused(call):
    try:
        call()
    except openai.APIStatusError as e:
        return {"status": e.status_code, "code": (e.body or {}).get("code")}
    return None


wrong = openai.OpenAI(base_url=base, api_key="cairn-not-the-token", max_retries=0)
seen["wrong_token"] = refused(lambda: wrong.models.list())
seen["unknown_model"] = refused(
    lambda: client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": question}]
    )
)

# No token at all (the client always sends one, so plain HTTP).
try:
    urllib.request.urlopen(base + "/models")
    seen["no_token"] = None
except urllib.error.HTTPError as e:
    seen["no_token"] = {"status": e.code, "code": json.load(e)["error"]["code"]}

print(json.dumps(seen))
