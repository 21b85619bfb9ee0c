"""The LLM backend protocol: batch-first chat generation (pure types, no model code).

``generate(conversations, sampling)`` takes many chat conversations (lists of
``{"role", "content"}`` messages) and returns one item per conversation: the generated
text, or the :class:`LLMError` that prevented it (a timeout, a server error after
retries, an empty completion), so a caller can dead-letter that one task and go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

Message = dict[str, str]
Conversation = list[Message]


@dataclass
class Sampling:
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 1.0
    max_tokens: int = 256
    stop: list[str] = field(default_factory=list)
    seed: int = 0


class LLMError(RuntimeError):
    """Why one conversation got no text."""


@dataclass
class TokenOutput:
    """One sampled continuation, token in, token out: the exact ids the model sampled
    (a stop string's last token included, nothing re-tokenised), the log-probability of
    each under the sampling distribution, and their text."""

    ids: list[int]
    logprobs: list[float]
    text: str


@runtime_checkable
class LLM(Protocol):
    name: str

    def generate(self, conversations: Sequence[Conversation], sampling: Sampling) -> list[str | LLMError]: ...


@runtime_checkable
class TokenLLM(Protocol):
    """A backend that continues token ids (RL rollouts, the verl loop): ``tokenizer``
    renders chat turns, ``generate_tokens`` continues each id list."""

    name: str
    tokenizer: object

    def generate_tokens(
        self, prompts: Sequence[list[int]], sampling: Sampling
    ) -> list[TokenOutput | LLMError]: ...


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """Truncate at the first stop string (the stop string itself is kept, as vLLM's
    ``include_stop_str_in_output``, so a closing tag like ``</search>`` survives)."""
    cut = len(text)
    for s in stop:
        pos = text.find(s)
        if pos != -1:
            cut = min(cut, pos + len(s))
    return text[:cut]
