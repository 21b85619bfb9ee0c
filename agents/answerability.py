"""``ramp answerability``: measure, per mask, whether search finds the answer elsewhere.

Reads a ``ramp data`` output (``tasks/`` and ``passages/``), searches once per mask with its
context (:func:`ramp.answerability.mask_queries`) twice: with the task's own passage hidden,
and with every passage of its source article hidden. Writes, under ``output``:

- ``tasks/{split}-00000-of-00001.parquet``: the same tasks, sorted by id, with
  ``found_elsewhere`` and ``found_outside_article`` filled in (one bool per mask) and
  ``num_found_elsewhere`` (per task);
- ``stats.json``: the shares of masks and tasks answerable in each condition, by span label;
- ``README.md``: the same as a table.

``ramp curriculum --measure search_need`` stages the measured tasks by how many masks need
the task's own passage; ``machine.exclude_source=true`` (traces) and ``--exclude-source``
(export-verl) then train the cross-document stage.
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow.parquet as pq

from ramp import answerability as ans
from ramp.logs import progress
from ramp.records import TASK_SCHEMA, read_task_rows, task_from_row, to_row, write_parquet, write_text


@dataclass
class AnswerabilityConfig:
    tasks: str = field(default="", metadata={"help": "a ramp data tasks/ dir (DIR/tasks)"})
    index: str = field(
        default="", metadata={"help": "index dir or retrieval server URL over the same corpus"}
    )
    output: str = field(
        default="", metadata={"help": "output dir: tasks/ with the measures, stats.json, README.md"}
    )
    passages: str = field(
        default="", metadata={"help": "passages dir that maps articles to passages (default: beside tasks/)"}
    )
    topk: int = field(default=5, metadata={"help": "passages searched per mask"})
    batch_size: int = field(default=512, metadata={"help": "queries per search call"})


def article_passages(passages_dir: str) -> dict[str, list[str]]:
    """source_id -> its passage ids, from ``ramp data``'s ``passages/`` Parquet."""
    files = sorted(glob.glob(os.path.join(passages_dir, "*.parquet")))
    if not files:
        raise FileNotFoundError(f"no passages Parquet under {passages_dir} (set passages=DIR/passages)")
    out: dict[str, list[str]] = {}
    for f in files:
        table = pq.read_table(f, columns=["id", "source_id"])
        for pid, sid in zip(table.column("id").to_pylist(), table.column("source_id").to_pylist()):
            out.setdefault(sid, []).append(pid)
    return out


def search_all(retriever, queries: list[str], exclude: list[list[str]], cfg: AnswerabilityConfig, desc: str):
    hits = []
    bar = progress(total=len(queries), desc=desc, unit="query")
    for i in range(0, len(queries), cfg.batch_size):
        part = slice(i, i + cfg.batch_size)
        hits += retriever.search(queries[part], cfg.topk, exclude[part])
        bar.update(len(queries[part]))
    bar.close()
    return hits


def measure(
    rows: list[dict], articles: dict[str, list[str]], retriever, cfg: AnswerabilityConfig
) -> list[dict]:
    """The rows with ``found_elsewhere`` and ``found_outside_article`` set."""
    queries, own, article, owners = [], [], [], []
    for n, row in enumerate(rows):
        qs = ans.mask_queries(row["title"], row["masked_text"], row["mask_token"])
        if len(qs) != row["num_masks"]:
            raise ValueError(
                f"task {row['id']}: {len(qs)} mask tokens in masked_text, num_masks {row['num_masks']}"
            )
        queries += qs
        own += [[row["passage_id"]]] * len(qs)
        article += [articles.get(row["source_id"], [row["passage_id"]])] * len(qs)
        owners += [n] * len(qs)
    hidden_passage = search_all(retriever, queries, own, cfg, "answerability: passage hidden")
    hidden_article = search_all(retriever, queries, article, cfg, "answerability: article hidden")
    out = []
    pos = 0
    for row in rows:
        k = row["num_masks"]
        task = task_from_row(row)
        elsewhere = ans.found(task.answers, hidden_passage[pos : pos + k])
        task = replace(
            task,
            found_elsewhere=elsewhere,
            found_outside_article=ans.found(task.answers, hidden_article[pos : pos + k]),
            num_found_elsewhere=sum(elsewhere),
        )
        out.append(to_row(task))
        pos += k
    return out


def summarize(rows: list[dict], cfg: AnswerabilityConfig) -> dict[str, Any]:
    by_label: dict[str, list[bool]] = {}
    for r in rows:
        for span, f in zip(r["spans"], r["found_elsewhere"]):
            by_label.setdefault(span["label"], []).append(f)
    return {
        "tasks_dir": cfg.tasks,
        "index": cfg.index,
        "topk": cfg.topk,
        "source_passage_hidden": ans.rates(rows, "found_elsewhere"),
        "source_article_hidden": ans.rates(rows, "found_outside_article"),
        "masks_answerable_by_label": {
            label: {"masks": len(v), "answerable": round(sum(v) / len(v), 4)}
            for label, v in sorted(by_label.items())
        },
    }


def card(stats: dict[str, Any]) -> str:
    lines = [
        "# RAMP tasks: answerability with the source hidden",
        "",
        f"Each mask was searched (top {stats['topk']}, `{stats['index']}`) with the title and its sentence,",
        "with the task's own passage hidden and with its whole source article hidden. A mask is",
        "answerable when a passage returned holds its answer as whole tokens.",
        "",
        "| hidden | masks | masks answerable | tasks | tasks with every mask answerable | with one |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in ("source_passage_hidden", "source_article_hidden"):
        r = stats[name]
        shares = (r["masks_answerable"], r["tasks_answerable"], r["tasks_with_one_answerable_mask"])
        m, t, one = (f"{100 * x:.1f} %" for x in shares)
        lines.append(f"| {name.split('_')[1]} | {r['masks']:,} | {m} | {r['tasks']:,} | {t} | {one} |")
    return "\n".join(lines) + "\n"


def run(cfg: AnswerabilityConfig, retriever=None) -> dict[str, Any]:
    from agents.search import open_index

    if not (cfg.tasks and cfg.output and (cfg.index or retriever)):
        raise ValueError("answerability needs --tasks, --index and --output")
    if cfg.topk < 1 or cfg.batch_size < 1:
        raise ValueError("topk and batch_size must be >= 1")
    rows = read_task_rows(cfg.tasks)
    articles = article_passages(
        cfg.passages or os.path.join(os.path.dirname(os.path.normpath(cfg.tasks)), "passages")
    )
    retriever = retriever or open_index(cfg.index)
    rows = measure(rows, articles, retriever, cfg)
    for split in sorted({r["split"] for r in rows}):
        path = os.path.join(cfg.output, "tasks", f"{split}-00000-of-00001.parquet")
        write_parquet(path, [r for r in rows if r["split"] == split], TASK_SCHEMA)
    stats = summarize(rows, cfg)
    write_text(os.path.join(cfg.output, "README.md"), card(stats))
    write_text(os.path.join(cfg.output, "stats.json"), json.dumps(stats, indent=2, sort_keys=True) + "\n")
    return stats
