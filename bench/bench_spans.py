"""Mask quality on real Wikipedia the project never tuned on: the issue-13 defect scan.

    make bench            # or: .venv/bin/python bench/bench_spans.py [--start 5000 --n 1500]

Takes ``--n`` lead sections of ``../shared/data/wiki/vital_articles_en.jsonl.gz`` from
``--start`` on (none of them in the bundled sample or the tests' fixtures), runs ``ramp data``
with the defaults (sentence-aware passages, the span rules on) and the old behaviour
(100-word windows, rules off), and scans every mask for
the mechanical defects of :func:`ramp.spans.mask_defects`: a DATE split from its day or
year, a DATE with no digit, punctuation at an answer's edge, a mask glued to a word, an
answer that shares a content word with the title. Prints the share of masks with each
defect and with any, the share of tasks that start or end mid-sentence, for both runs, and
the drops per rule from ``stats.json``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data" / "wiki" / "vital_articles_en.jsonl.gz"
OLD = [  # the behaviour before issue 13: 100-word windows, no span rules
    "passages.mode=words",
    "spans.merge_day=false",
    "spans.dateless_dates=true",
    "spans.small_numbers=true",
    "spans.drop_glued=false",
    "spans.drop_title_words=false",
    "spans.soft_leaks=false",
]


def unseen_slice(start: int, n: int, out: Path) -> int:
    """Lines ``start .. start+n`` of the shared set minus any article in the bundled sample."""
    bundled = ROOT / "pipelines" / "samples" / "vital_articles_300.jsonl.gz"
    seen = {json.loads(line)["id"] for line in gzip.open(bundled, "rt", encoding="utf-8")}
    kept = 0
    with gzip.open(SHARED, "rt", encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if start <= i < start + n and json.loads(line)["id"] not in seen:
                dst.write(line)
                kept += 1
    return kept


def scan(data_dir: Path) -> tuple[int, Counter]:
    """(masks, masks per defect plus ``any``, ``cut_start`` / ``cut_end`` tasks and ``tasks``)
    over every task of a ``ramp data`` output."""
    import pyarrow.parquet as pq

    from ramp.spans import mask_defects

    masks, found = 0, Counter()
    for f in sorted((data_dir / "tasks").glob("*.parquet")):
        for t in pq.read_table(f).to_pylist():
            found["tasks"] += 1
            found["cut_start"] += t["text"][:1].islower()
            found["cut_end"] += t["text"].rstrip("\"')\u201d\u2019")[-1:] not in (".", "!", "?")
            for defects in mask_defects(t["title"], t["masked_text"], t["mask_token"], t["spans"]):
                masks += 1
                found.update(defects)
                found["any"] += bool(defects)
    return masks, found


def run_data(src: Path, out: Path, overrides: list[str]) -> dict:
    from pipelines.config import DataConfig
    from pipelines.data import run
    from ramp.config import CONFIG_DIR, load_config

    cfg = load_config(
        DataConfig, CONFIG_DIR / "data" / "default.yaml", overrides, {"input": [str(src)], "output": str(out)}
    )
    return run(cfg, command="bench_spans")


def main() -> None:
    from ramp.spans import DEFECTS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=int, default=5000)
    parser.add_argument("--n", type=int, default=1500)
    args = parser.parse_args()
    if not SHARED.exists():
        print(f"bench_spans: skipped: {SHARED} is absent (CI and ../shared have it)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        n = unseen_slice(args.start, args.n, tmp / "slice.jsonl")
        print(f"bench_spans: {n} unseen lead sections (lines {args.start}..{args.start + args.n})")
        for name, overrides in (("defaults", []), ("old     ", OLD)):
            stats = run_data(tmp / "slice.jsonl", tmp / name.strip(), overrides)
            masks, found = scan(tmp / name.strip())
            shares = "  ".join(f"{d} {100 * found[d] / max(masks, 1):.2f} %" for d in ("any", *DEFECTS))
            cut = {k: f"{100 * found[k] / max(found['tasks'], 1):.1f} %" for k in ("cut_start", "cut_end")}
            print(f"  {name}: {stats['tasks']} tasks, {masks} masks; defects: {shares}")
            start, end = cut["cut_start"], cut["cut_end"]
            print(f"            tasks starting mid-sentence {start}, ending mid-sentence {end}")
            if overrides == []:
                print(f"  drops per rule: {json.dumps(stats['span_drops'], sort_keys=True)}")
                print(f"  fixes: {json.dumps(stats['span_fixes'], sort_keys=True)}")


if __name__ == "__main__":
    main()
