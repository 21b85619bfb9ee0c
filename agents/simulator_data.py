"""``ramp simulator-data``: search trajectories -> SFT data for ZeroSearch's simulator.

Reads trace dirs (the teacher's ``ramp traces``, or policy rollouts ``ramp traces --teacher
CKPT``; both searched a real index) and writes, under ``output``:

- ``train/traces-00000.parquet`` and ``validation/traces-00000.parquet``: SFT-ready
  conversations in the trace schema, so ``ramp sft traces=OUT/train`` trains the simulator
  with the same stage (loss only on the documents: the assistant turn);
- ``pairs.parquet``: every pair with its label, ``has_gold``, question, gold, query and
  documents (``ramp.simulator.SIMULATOR_SCHEMA``);
- ``rejects.parquet``: every trace without a usable pair and every dropped pair, with a reason;
- ``stats.json`` (written last) and ``README.md`` (the dataset card, with the label rule).

Deterministic: ids derive from content, rows are sorted by id, the split is a hash of the
task id. The stage is a pure function of its inputs and each file is replaced atomically, so
a rerun after a kill writes the same bytes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from agents.prompts import load
from ramp import simulator as sim
from ramp.records import write_parquet, write_text
from ramp.text import content_id
from ramp.trace import TRACE_SCHEMA

REJECT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("trace_id", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string(), nullable=False),
    ]
)


@dataclass
class SimulatorDataConfig:
    traces: str = field(default="", metadata={"help": "trace dir(s) (traces-*.parquet), comma-separated"})
    output: str = field(default="", metadata={"help": "output dir"})
    label_by: str = field(
        default="judge",
        metadata={
            "help": "judge: the trace's verdict (correct -> useful); f1: mean per-mask F1 >= f1_threshold"
        },
    )
    f1_threshold: float = field(default=0.8, metadata={"help": "useful at or above (label_by: f1)"})
    validation: float = field(default=0.2, metadata={"help": "share of source tasks held out"})
    seed: int = field(default=0, metadata={"help": "the train/validation split"})
    prompt_version: str = field(
        default="v1",
        metadata={"help": "simulated_search_{useful,noisy}.<v>.txt, the prompts the simulated engine uses"},
    )
    min_documents: int = field(default=1, metadata={"help": "pairs with fewer documents are rejected"})
    max_documents: int = field(default=3, metadata={"help": "the first N documents of a search (k)"})
    max_words: int = field(
        default=40,
        metadata={"help": "words kept per document (the prompts ask for ~40-word snippets); 0 = all"},
    )


def _prompt(mode: str, version: str, k: int, query: str, question: str, answer: str) -> str:
    return load(f"simulated_search_{mode}", version).format(
        k=k, query=query, question=question, answer=answer
    )


def pairs_of(trace: dict, cfg: SimulatorDataConfig) -> tuple[list[dict], list[dict]]:
    """The pair rows of one trace and its reject rows."""
    messages = list(trace["messages"])
    if not messages or messages[0]["role"] != "user":
        return [], [_reject(trace, "no_prompt", "the trace does not start with the task prompt")]
    found = sim.search_pairs(messages)
    if not found:
        return [], [_reject(trace, "no_search", "no <search> turn answered by <information>")]
    mode = sim.label(trace["judge"], float(trace["f1"]), cfg.label_by, cfg.f1_threshold)
    question = sim.question_of(messages[0]["content"])
    golds = [str(a) for a in trace["answers"]]
    answer = " | ".join(golds)
    rows, rejects = [], []
    for p in found:
        p.documents = [sim.clip_words(d, cfg.max_words) for d in p.documents[: cfg.max_documents]]
        if len(p.documents) < cfg.min_documents:
            rejects.append(
                _reject(
                    trace, "too_few_documents", f"turn {p.turn}: {len(p.documents)} documents for {p.query!r}"
                )
            )
            continue
        target = sim.render_documents(p.documents)
        rows.append(
            {
                "id": content_id("simulator", trace["task_id"], p.query, target, mode),
                "task_id": trace["task_id"],
                "trace_id": trace["id"],
                "split": sim.split_of(trace["task_id"], cfg.validation, cfg.seed),
                "label": mode,
                "has_gold": sim.has_gold(p.documents, golds),
                "question": question,
                "answer": answer,
                "query": p.query,
                "documents": p.documents,
                "messages": [
                    {
                        "role": "user",
                        "content": _prompt(
                            mode, cfg.prompt_version, len(p.documents), p.query, question, answer
                        ),
                    },
                    {"role": "assistant", "content": target},
                ],
                "trace_f1": float(trace["f1"]),
                "trace_judge": trace["judge"],
                "teacher": trace["teacher"],
                "prompt_version": cfg.prompt_version,
                "_stage": int(trace["stage"]),
                "_num_masks": int(trace["num_masks"]),
                "_golds": golds,
            }
        )
    return rows, rejects


def _reject(trace: dict, reason: str, detail: str) -> dict:
    return {
        "id": content_id("simulator-reject", trace["id"], reason, detail),
        "trace_id": trace["id"],
        "reason": reason,
        "detail": detail,
    }


def as_trace(row: dict) -> dict:
    """A pair as one SFT trace row (accepted; the assistant turn is the documents)."""
    return {
        "id": row["id"],
        "task_id": row["task_id"],
        "messages": row["messages"],
        "prediction": [],
        "answers": row["_golds"],
        "f1": row["trace_f1"],
        "em": 0.0,
        "recall": 0.0,
        "judge": row["trace_judge"],
        "accepted": True,
        "num_searches": 0,
        "num_turns": 1,
        "num_masks": row["_num_masks"],
        "stage": row["_stage"],
        "teacher": f"simulator-{row['label']}",
        "prompt_version": row["prompt_version"],
    }


def check(cfg: SimulatorDataConfig) -> None:
    if not (cfg.traces and cfg.output):
        raise ValueError("simulator-data needs traces= and output=")
    if cfg.label_by not in ("judge", "f1"):
        raise ValueError(f"label_by must be judge or f1, not {cfg.label_by!r}")
    if cfg.max_documents < 1 or cfg.min_documents < 1 or cfg.max_words < 0:
        raise ValueError("max_documents and min_documents must be >= 1, max_words >= 0")
    if not 0.0 <= cfg.validation < 1.0:
        raise ValueError(f"validation must be in [0, 1), not {cfg.validation}")


def run(cfg: SimulatorDataConfig) -> dict[str, Any]:
    from agents.traces import read_traces

    check(cfg)
    traces = [t for d in cfg.traces.split(",") for t in read_traces(d.strip())]
    if not traces:
        raise FileNotFoundError(f"no traces-*.parquet under {cfg.traces}")
    rows, rejects = [], []
    for trace in sorted(traces, key=lambda t: t["id"]):
        got, bad = pairs_of(trace, cfg)
        rows += got
        rejects += bad
    kept: dict[str, dict] = {}
    for row in sorted(rows, key=lambda r: r["id"]):
        if row["id"] in kept:  # the same query, documents and label for the same task
            rejects.append(
                {
                    "id": content_id("simulator-reject", row["trace_id"], "duplicate", row["id"]),
                    "trace_id": row["trace_id"],
                    "reason": "duplicate",
                    "detail": row["id"],
                }
            )
        else:
            kept[row["id"]] = row
    rows = list(kept.values())
    for split in ("train", "validation"):
        write_parquet(
            os.path.join(cfg.output, split, "traces-00000.parquet"),
            [as_trace(r) for r in rows if r["split"] == split],
            TRACE_SCHEMA,
        )
    write_parquet(
        os.path.join(cfg.output, "pairs.parquet"),
        [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows],
        sim.SIMULATOR_SCHEMA,
    )
    write_parquet(
        os.path.join(cfg.output, "rejects.parquet"), sorted(rejects, key=lambda r: r["id"]), REJECT_SCHEMA
    )
    stats = summarize(cfg, traces, rows, rejects)
    write_text(os.path.join(cfg.output, "README.md"), card(cfg, stats))
    write_text(os.path.join(cfg.output, "stats.json"), json.dumps(stats, indent=2, sort_keys=True) + "\n")
    return stats


def summarize(cfg: SimulatorDataConfig, traces: list, rows: list[dict], rejects: list[dict]) -> dict:
    def count(pred) -> int:
        return sum(1 for r in rows if pred(r))

    reasons: dict[str, int] = {}
    for r in rejects:
        reasons[r["reason"]] = reasons.get(r["reason"], 0) + 1
    return {
        "traces": len(traces),
        "pairs": len(rows),
        "rejects": len(rejects),
        "rejects_by_reason": dict(sorted(reasons.items())),
        "by_split": {s: count(lambda r, s=s: r["split"] == s) for s in ("train", "validation")},
        "by_label": {m: count(lambda r, m=m: r["label"] == m) for m in sim.LABELS},
        "has_gold_by_label": {m: count(lambda r, m=m: r["label"] == m and r["has_gold"]) for m in sim.LABELS},
        "tasks": len({r["task_id"] for r in rows}),
        "label_by": cfg.label_by,
        "prompt_version": cfg.prompt_version,
    }


def card(cfg: SimulatorDataConfig, stats: dict) -> str:
    rule = (
        "the trace's judge verdict: `correct` -> useful, otherwise noisy"
        if cfg.label_by == "judge"
        else f"the trace's mean per-mask token F1: >= {cfg.f1_threshold} -> useful, otherwise noisy"
    )
    labels, gold = stats["by_label"], stats["has_gold_by_label"]
    return f"""# RAMP simulator SFT data (ZeroSearch)

Query -> documents pairs from real search trajectories (`{cfg.traces}`), for fine-tuning an LLM
to act as the search engine (`ramp sft --config configs/sft/simulator.yaml`).

- **Label rule** ({cfg.label_by}): {rule}. As in ZeroSearch, documents a real engine returned
  to a trajectory that reached the right answer teach the *useful* mode; those returned to a
  trajectory that reached a wrong one teach the *noisy* mode.
- **has_gold**: the documents (as kept: the first {cfg.max_documents}, {cfg.max_words or "all"} words each)
  contain a gold answer (normalised substring), recorded apart from the label.
- **Prompt**: `agents/prompts/simulated_search_{{useful,noisy}}.{cfg.prompt_version}.txt` (the
  mode, the question, its gold answer and the query); the target is the documents, one
  `Doc N:` line each. Loss is on the documents only.
- **Split**: by source task (a hash of its id, seed {cfg.seed}), {cfg.validation:.0%} held out.

| | pairs | useful | noisy | useful with gold | noisy with gold |
|---|---|---|---|---|---|
| all | {stats["pairs"]} | {labels["useful"]} | {labels["noisy"]} | {gold["useful"]} | {gold["noisy"]} |

Splits: train {stats["by_split"]["train"]}, validation {stats["by_split"]["validation"]}; from
{stats["traces"]} traces of {stats["tasks"]} tasks; {stats["rejects"]} rejects
({", ".join(f"{k} {v}" for k, v in stats["rejects_by_reason"].items()) or "none"}).
The documents are Wikipedia text (CC BY-SA), as retrieved.
"""
