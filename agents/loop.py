"""The search agent loop: one policy LLM, a retriever, an explicit batched state machine.

    generate -> (search -> generate)* -> done
    invalid output: re-generate (bounded), then failed; turn limit: failed

Used by ``ramp traces --teacher CKPT`` (self-evolve distillation), ``ramp eval`` and the
RL rollouts. Each step makes one batched ``generate`` call for every episode waiting on
the model and one batched ``search`` call for every episode waiting on the retriever.

Token mode (RL rollouts; ``AgentEpisode.tokens`` set, a :class:`ramp.llm.TokenLLM`): the
model continues the episode's token ids, and the ids it sampled are kept as they are
(``env_mask`` 1, with their log-probs); the retriever's ``<information>`` turn is rendered
by the chat template and appended as ids with ``env_mask`` 0, so the trainer sees exactly
the tokens the policy sampled and never trains on retrieved text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from agents.chat import environment_ids
from ramp.llm import LLM, LLMError, Sampling, TokenOutput
from ramp.search import Hit, Retriever
from ramp.trace import information, parse_turn

STOP = ["</search>", "</answer>"]


@dataclass
class LoopConfig:
    max_turns: int = field(default=5, metadata={"help": "assistant turns per episode at most"})
    topk: int = field(default=3, metadata={"help": "passages per search"})
    retries: int = field(default=1, metadata={"help": "re-generations of an output without a valid action"})
    max_tokens: int = field(default=256, metadata={"help": "generation budget of one turn"})
    temperature: float = field(default=0.0, metadata={"help": "sampling temperature (0: greedy)"})


@dataclass
class TokenTrace:
    """An episode as token ids: the rendered prompt, then everything after it."""

    prompt_ids: list[int]
    completion_ids: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    env_mask: list[int] = field(default_factory=list)  # 1 sampled by the policy, 0 environment

    def add(self, ids: list[int], logprobs: list[float] | None, sampled: bool) -> None:
        self.completion_ids += ids
        self.logprobs += logprobs if logprobs is not None else [0.0] * len(ids)
        self.env_mask += [int(sampled)] * len(ids)


@dataclass
class AgentEpisode:
    id: str
    messages: list[dict[str, str]]
    exclude_ids: list[str] = field(default_factory=list)
    state: str = "generate"
    answer: str | None = None
    searches: int = 0
    invalid: int = 0
    error: tuple[str, str] | None = None  # (reason, detail)
    pending_query: str = ""
    last_hits: list[Hit] = field(default_factory=list)
    # told to a retriever that simulates search from the question (ZeroSearch), else unused
    question: str = ""
    gold: str = ""
    tokens: TokenTrace | None = None  # token mode (RL): ids in, ids out

    @property
    def num_turns(self) -> int:
        return sum(m["role"] == "assistant" for m in self.messages)


class AgentLoop:
    def __init__(self, llm: LLM, retriever: Retriever, cfg: LoopConfig):
        for key in ("max_turns", "topk", "max_tokens"):
            if getattr(cfg, key) < 1:
                raise ValueError(f"loop.{key} must be >= 1, not {getattr(cfg, key)}")
        if cfg.retries < 0:
            raise ValueError(f"loop.retries must be >= 0, not {cfg.retries}")
        self.llm, self.retriever, self.cfg = llm, retriever, cfg

    def run(self, episodes: Sequence[AgentEpisode], seed: int = 0) -> list[AgentEpisode]:
        step = 0
        while any(e.state in ("generate", "search") for e in episodes):
            gen = [e for e in episodes if e.state == "generate"]
            if gen:
                self.on_generate(gen, seed + step)
            srch = [e for e in episodes if e.state == "search"]
            if srch:
                self.on_search(srch)
            step += 1
        return list(episodes)

    def on_generate(self, batch: list[AgentEpisode], seed: int) -> None:
        retrying = any(e.invalid for e in batch)
        sampling = Sampling(
            temperature=max(self.cfg.temperature, 0.7 if retrying else 0.0),
            max_tokens=self.cfg.max_tokens,
            stop=STOP,
            seed=seed,
        )
        if batch[0].tokens is not None:
            outputs = self.llm.generate_tokens(
                [e.tokens.prompt_ids + e.tokens.completion_ids for e in batch], sampling
            )
        else:
            outputs = self.llm.generate([e.messages for e in batch], sampling)
        for e, out in zip(batch, outputs):
            if isinstance(out, LLMError):
                e.state, e.error = "failed", ("llm_error", str(out))
                continue
            sampled = out if isinstance(out, TokenOutput) else None
            out = sampled.text if sampled else out
            turn = parse_turn(out)
            if turn.action == "invalid":
                e.invalid += 1
                if e.invalid > self.cfg.retries:
                    # Kept: eval shows what the model said, RL trains on it (reward 0).
                    self._append_turn(e, out, sampled)
                    e.state, e.error = "failed", ("malformed_output", f"{turn.error}: {out[:200]}")
                continue  # same messages: generate again
            self._append_turn(e, out, sampled)
            if turn.action == "answer":
                e.answer, e.state = turn.content, "done"
            elif e.num_turns >= self.cfg.max_turns:
                e.state, e.error = "failed", ("turn_limit", f"no answer in {self.cfg.max_turns} turns")
            else:
                e.pending_query, e.state = turn.content, "search"

    @staticmethod
    def _append_turn(e: AgentEpisode, text: str, sampled: TokenOutput | None) -> None:
        e.messages.append({"role": "assistant", "content": text})
        if sampled is not None and e.tokens is not None:
            e.tokens.add(sampled.ids, sampled.logprobs, sampled=True)

    def on_search(self, batch: list[AgentEpisode]) -> None:
        queries, exclude = [e.pending_query for e in batch], [e.exclude_ids for e in batch]
        if getattr(self.retriever, "uses_question", False):  # a simulated engine
            results = self.retriever.search(
                queries,
                self.cfg.topk,
                exclude,
                questions=[e.question or e.pending_query for e in batch],
                answers=[e.gold or "unknown" for e in batch],
            )
        else:
            results = self.retriever.search(queries, self.cfg.topk, exclude)
        for e, hits in zip(batch, results):
            if e.tokens is not None:
                try:
                    ids = environment_ids(self.llm.tokenizer, e.messages, information(hits))
                except ValueError as exc:  # this episode cannot go on token-exactly
                    e.state, e.error = "failed", ("template_error", str(exc))
                    continue
                e.tokens.add(ids, None, sampled=False)
            e.messages.append({"role": "user", "content": information(hits)})
            e.last_hits, e.searches, e.state = hits, e.searches + 1, "generate"
