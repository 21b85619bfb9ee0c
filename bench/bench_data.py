"""``ramp data`` throughput vs bare spaCy ``nlp.pipe`` on the same 2,000 passages, same run.

    make bench            # or: .venv/bin/python bench/bench_data.py [--passages 2000]

Both sides load the model and run the same components (NER only, the default
config); the pipeline side also reads, masks, leak-filters and writes Parquet.
Ratios, not absolute numbers, are the result: they cancel out the machine.

Each pipeline mode also runs on ``--small`` passages: the difference between the two runs
is the time of the extra passages without fixed costs (worker start, spaCy load per
worker), which is what more data costs; the marginal ratios compare that.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_input(n: int, path: Path) -> list[str]:
    """The first ``n`` 100-word passages of the bundled dump, one document each."""
    from pipelines.readers import read_path
    from ramp.passages import split_passages
    from ramp.records import Document

    texts = []
    src = ROOT / "pipelines" / "samples" / "enwiki-sample-pages-articles.xml.bz2"
    with path.open("w", encoding="utf-8") as f:
        for rec in read_path(str(src)):
            if not isinstance(rec, Document):
                continue
            for p in split_passages(rec, 100):
                if p.num_words < 100:
                    continue
                f.write(json.dumps({"id": p.id, "title": p.title, "text": p.text}) + "\n")
                texts.append(p.text)
                if len(texts) == n:
                    return texts
    raise SystemExit(f"only {len(texts)} passages available")


def bare_spacy(texts: list[str], cfg) -> float:
    import spacy  # noqa: F401  (imported before the clock starts, as the pipeline's is)

    from pipelines.nlp import components_for, load_spacy

    start = time.perf_counter()
    nlp = load_spacy(cfg.spacy.model, components_for(cfg.spans))
    n = 0
    for doc in nlp.pipe(texts, batch_size=cfg.spacy.batch_size):
        n += len(doc.ents)
    return time.perf_counter() - start


def pipeline(path: Path, workers: int) -> float:
    from pipelines.config import DataConfig
    from pipelines.data import run
    from ramp.cli import CONFIG_DIR
    from ramp.config import load_config

    with tempfile.TemporaryDirectory() as out:
        cfg = load_config(
            DataConfig,
            CONFIG_DIR / "data" / "default.yaml",
            [f"num_workers={workers}"],
            {"input": [str(path)], "output": out},
        )
        start = time.perf_counter()
        run(cfg, command="bench")
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--small", type=int, default=50)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    from pipelines.config import DataConfig
    from ramp.cli import CONFIG_DIR
    from ramp.config import load_config

    cfg = load_config(DataConfig, CONFIG_DIR / "data" / "default.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        path, small = Path(tmp) / "passages.jsonl", Path(tmp) / "small.jsonl"
        texts = make_input(args.passages, path)
        make_input(args.small, small)
        n = len(texts)
        bare = bare_spacy(texts, cfg)
        one = pipeline(path, 1)
        two = pipeline(path, 2)
        one_small = pipeline(small, 1)
        two_small = pipeline(small, 2)
    rows = [
        ("bare spaCy nlp.pipe (1 process)", bare),
        ("ramp data, 1 worker", one),
        ("ramp data, 2 workers", two),
    ]
    print(f"ramp data vs bare spaCy on {n} passages (wall time incl. model load)")
    for name, sec in rows:
        print(f"  {name:<34} {sec:7.2f} s  {n / sec:8.1f} passages/s")
    print(f"  ratio 1 worker / bare            {bare / one:7.2f}   (goal >= 0.85)")
    print(f"  ratio 2 workers / 1 worker       {one / two:7.2f}   (goal >= 1.7)")
    print(f"  fixed cost ({args.small} passages): 1 worker {one_small:.2f} s, 2 workers {two_small:.2f} s")
    print(
        f"  marginal ratio 2 / 1 worker      {(one - one_small) / (two - two_small):7.2f}   "
        f"(time of the other {n - args.small} passages)"
    )


if __name__ == "__main__":
    main()
