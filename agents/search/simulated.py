"""ZeroSearch-style simulated search engine: an LLM writes the documents.

Each query is answered with ``k`` generated documents, from a *useful* prompt (given
the question and its gold answer) or a *noisy* one. Whether a query is noisy is drawn
with probability ``p_i`` from :func:`ramp.search.noise_probability` at the current
training ``step``; the draw is seeded by (seed, step, query), so reruns agree.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from agents.prompts import load
from ramp.llm import LLM, LLMError, Sampling
from ramp.search import Hit, check_exclude, noise_probability
from ramp.text import content_id, stable_hash

_DOC = re.compile(r"^\s*[*#]*\s*Doc(?:ument)?\s*(\d+)\s*[:.)\-]\s*[*]*\s*(.*)$", re.IGNORECASE)


@dataclass
class SimulatedConfig:
    model: str = field(
        default="",
        metadata={
            "help": "the simulating LLM: a fine-tuned simulator (ramp sft on ramp simulator-data), a Hub "
            "name or gguf:...; '' = the stage's own model (RL: the frozen reference)"
        },
    )
    total_steps: int = field(default=100, metadata={"help": "steps of the noise schedule"})
    p_start: float = field(default=0.0, metadata={"help": "noisy-document probability at step 0"})
    p_end: float = field(default=0.5, metadata={"help": "noisy-document probability at total_steps"})
    base: float = field(
        default=4.0, metadata={"help": "base b of the exponential rise from p_start to p_end (ZeroSearch)"}
    )
    seed: int = field(default=0, metadata={"help": "the noisy draws and the sampling"})
    prompt_version: str = field(
        default="v1", metadata={"help": "simulated_search_{useful,noisy}.<v>.txt prompts"}
    )
    max_tokens: int = field(default=400, metadata={"help": "generation budget of one simulated search"})
    temperature: float = field(default=0.0, metadata={"help": "sampling temperature (0: greedy)"})


def parse_documents(text: str, k: int) -> list[str]:
    """``Doc N: ...`` lines (continuations joined); without markers, non-empty lines."""
    docs: list[str] = []
    marked = False
    for line in text.splitlines():
        m = _DOC.match(line)
        if m:
            marked = True
            docs.append(m.group(2).strip())
        elif marked and docs and line.strip():
            docs[-1] = f"{docs[-1]} {line.strip()}"
    if not marked:
        docs = [line.strip() for line in text.splitlines() if len(line.split()) >= 5]
    return [d for d in docs if d][:k]


class SimulatedSearchEngine:
    """A :class:`ramp.search.Retriever` backed by an LLM; set ``step`` as training advances.
    ``uses_question``: the agent loop passes each episode's question and gold answer, which
    the "useful" prompt shows the simulating model (as ZeroSearch does)."""

    uses_question = True

    def __init__(self, llm: LLM, cfg: SimulatedConfig | None = None):
        self.llm, self.cfg = llm, cfg or SimulatedConfig()
        self.step = 0
        self.last_noisy: list[bool] = []
        self.failures = 0

    def noise_p(self) -> float:
        c = self.cfg
        return noise_probability(self.step, c.total_steps, c.p_start, c.p_end, c.base)

    def is_noisy(self, query: str) -> bool:
        rng = random.Random(stable_hash("simulated", self.cfg.seed, self.step, query))
        return rng.random() < self.noise_p()

    def search(
        self,
        queries: Sequence[str],
        k: int,
        exclude_ids: Sequence[Sequence[str]] | None = None,
        *,
        questions: Sequence[str] | None = None,
        answers: Sequence[str] | None = None,
    ) -> list[list[Hit]]:
        excluded = check_exclude(queries, exclude_ids)
        questions = list(questions) if questions is not None else list(queries)
        answers = list(answers) if answers is not None else ["unknown"] * len(queries)
        self.last_noisy = [self.is_noisy(q) for q in queries]
        conversations = []
        for q, question, answer, noisy in zip(queries, questions, answers, self.last_noisy):
            template = load(
                "simulated_search_noisy" if noisy else "simulated_search_useful", self.cfg.prompt_version
            )
            conversations.append(
                [{"role": "user", "content": template.format(k=k, query=q, question=question, answer=answer)}]
            )
        sampling = Sampling(
            temperature=self.cfg.temperature, max_tokens=self.cfg.max_tokens, seed=self.cfg.seed + self.step
        )
        outputs = self.llm.generate(conversations, sampling)
        results = []
        for q, out, exclude in zip(queries, outputs, excluded):
            if isinstance(out, LLMError):
                self.failures += 1
                results.append([])
                continue
            hits = []
            for rank, doc in enumerate(parse_documents(out, k)):
                hit_id = "sim-" + content_id(q, doc, length=12)
                if hit_id not in exclude:
                    hits.append(Hit(id=hit_id, title=q, contents=f'"{q}"\n{doc}', score=float(k - rank)))
            results.append(hits)
        return results
