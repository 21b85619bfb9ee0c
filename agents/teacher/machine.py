"""The teacher as an explicit state machine, stepped in lockstep over a batch of tasks.

States and their handlers (each handles every episode in that state with one batched
call to its role or to the retriever)::

    plan -> rewrite -> search -> observe -> (rewrite ... | answer) -> judge -> done
      any role error ----------------------------------------------------> failed

Budget: at most ``max_turns`` assistant turns, so at most ``max_turns - 1`` searches;
a mask is given up after ``max_attempts`` searches without a fill.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from agents.prompts import load
from agents.teacher.roles import Judge, Observer, Planner, Rewriter, RoleError
from ramp.records import Task
from ramp.search import Hit, Retriever
from ramp.trace import assistant_turn, information, join_fills

TERMINAL = ("done", "failed")


@dataclass
class TeacherConfig:
    max_turns: int = field(default=5, metadata={"help": "assistant turns at most (searches: one fewer)"})
    topk: int = field(default=3, metadata={"help": "passages per search"})
    max_attempts: int = field(default=2, metadata={"help": "searches per mask before giving up on it"})
    exclude_source: bool = field(default=False, metadata={"help": "hide the task's own passage from search"})
    prompt_version: str = field(default="v1", metadata={"help": "the agent_ramp.<v>.txt task prompt"})


@dataclass
class Episode:
    task: Task
    messages: list[dict[str, str]]
    state: str = "plan"
    intents: list[str] = field(default_factory=list)
    new_intent: str | None = None
    current: int = 0
    attempts: int = 0
    fills: list[str] = field(default_factory=list)
    think: str = ""
    query: str = ""
    used_queries: set[str] = field(default_factory=set)
    hits: list[Hit] = field(default_factory=list)
    searches: int = 0
    verdict: str = ""
    error: tuple[str, str, str] | None = None  # (stage, reason, detail)

    @property
    def num_turns(self) -> int:
        return sum(m["role"] == "assistant" for m in self.messages)

    def fail(self, stage: str, err: RoleError) -> None:
        self.error = (stage, err.reason, err.detail)
        self.state = "failed"


def ramp_prompt(task: Task, version: str = "v1") -> str:
    return load("agent_ramp", version).format(
        title=task.title, num_masks=task.num_masks, masked_text=task.masked_text, mask=task.mask_token
    )


class TeacherMachine:
    def __init__(
        self,
        planner: Planner,
        rewriter: Rewriter,
        observer: Observer,
        judge: Judge,
        retriever: Retriever,
        cfg: TeacherConfig,
    ):
        self.planner, self.rewriter, self.observer, self.judge = planner, rewriter, observer, judge
        self.retriever, self.cfg = retriever, cfg
        self.handlers = [
            ("plan", self.on_plan),
            ("rewrite", self.on_rewrite),
            ("search", self.on_search),
            ("observe", self.on_observe),
            ("answer", self.on_answer),
            ("judge", self.on_judge),
        ]

    def start(self, task: Task) -> Episode:
        prompt = ramp_prompt(task, self.cfg.prompt_version)
        return Episode(task=task, messages=[{"role": "user", "content": prompt}], fills=[""] * task.num_masks)

    def run(self, tasks: Sequence[Task]) -> list[Episode]:
        episodes = [self.start(t) for t in tasks]
        # Each loop moves every live episode by at least one state; this bound is only a
        # guard against a handler bug, far above what the turn budget allows.
        for _ in range(8 * self.cfg.max_turns + 8):
            if all(e.state in TERMINAL for e in episodes):
                break
            for state, handler in self.handlers:
                batch = [e for e in episodes if e.state == state]
                if batch:
                    handler(batch)
        for e in episodes:
            if e.state not in TERMINAL:
                e.fail("machine", RoleError("step_limit", f"stuck in state {e.state}"))
        return episodes

    # ---- handlers ----------------------------------------------------------------------

    def on_plan(self, batch: list[Episode]) -> None:
        for e, plan in zip(batch, self.planner.plan([e.task for e in batch])):
            if isinstance(plan, RoleError):
                e.fail("planner", plan)
                continue
            e.intents, e.think, e.state = plan.intents, plan.text, "rewrite"

    def on_rewrite(self, batch: list[Episode]) -> None:
        items = [(e.task, e.current, e.new_intent or e.intents[e.current], e.attempts) for e in batch]
        for e, queries in zip(batch, self.rewriter.rewrite(items)):
            if isinstance(queries, RoleError):
                e.fail("rewriter", queries)
                continue
            fresh = [q for q in queries if q.lower() not in e.used_queries]
            e.query = (fresh or queries)[0]
            e.used_queries.add(e.query.lower())
            e.state = "search"

    def on_search(self, batch: list[Episode]) -> None:
        exclude = [[e.task.passage_id] if self.cfg.exclude_source else [] for e in batch]
        results = self.retriever.search([e.query for e in batch], self.cfg.topk, exclude)
        for e, hits in zip(batch, results):
            e.messages.append({"role": "assistant", "content": assistant_turn(e.think, "search", e.query)})
            e.messages.append({"role": "user", "content": information(hits)})
            e.hits, e.searches, e.state = hits, e.searches + 1, "observe"

    def on_observe(self, batch: list[Episode]) -> None:
        items = [(e.task, e.current, e.hits) for e in batch]
        for e, obs in zip(batch, self.observer.observe(items)):
            if isinstance(obs, RoleError):
                e.fail("observer", obs)
                continue
            note = obs.note
            if obs.fill is not None:
                e.fills[e.current] = obs.fill
                self._next_mask(e)
            else:
                e.attempts += 1
                e.new_intent = obs.new_intent
                if e.attempts >= self.cfg.max_attempts:
                    note += f" After {e.attempts} searches I leave mask {e.current + 1} unfilled."
                    self._next_mask(e)
            budget_left = e.searches < self.cfg.max_turns - 1
            if e.current >= e.task.num_masks or not budget_left:
                e.think, e.state = note, "answer"
            else:
                e.think = f"{note} Now mask {e.current + 1}." if e.attempts == 0 else note
                e.state = "rewrite"

    @staticmethod
    def _next_mask(e: Episode) -> None:
        e.current += 1
        e.attempts, e.new_intent = 0, None

    def on_answer(self, batch: list[Episode]) -> None:
        for e in batch:
            filled = sum(bool(f) for f in e.fills)
            summary = f"{e.think} Filled {filled} of {e.task.num_masks}; answering."
            e.messages.append(
                {"role": "assistant", "content": assistant_turn(summary, "answer", join_fills(e.fills))}
            )
            e.state = "judge"

    def on_judge(self, batch: list[Episode]) -> None:
        verdicts = self.judge.judge([(list(e.fills), list(e.task.answers)) for e in batch])
        for e, verdict in zip(batch, verdicts):
            if isinstance(verdict, RoleError):
                e.fail("judge", verdict)
                continue
            e.verdict, e.state = verdict, "done"
