"""Masking strategies: choose which candidate spans become ``[mask]``.

* ``salient`` (default, MaskSearch): the number of masks follows the candidate
  count (1 -> 1, 2 -> 1-2, 3 -> 3, >=4 -> 1-4 uniformly), spans sampled without
  replacement with probability proportional to their length.
* ``random``: random 1-3 word spans (the baseline), count as for ``salient``.
* ``ppl``: candidate spans ranked by a causal LM's mean token loss on them;
  the hardest (highest loss) or easiest are masked, count as for ``salient``.

Spans that cannot be masked safely are removed before sampling (the same text
repeated elsewhere would leak the answer; a span at offset 0 would start the
passage with a mask), and spans touching an already chosen one are skipped, so
the leak filter in :mod:`ramp.leaks` rarely fires; it stays as the final check.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ramp.leaks import LeakConfig, check_task, readable, spans_touch
from ramp.passages import split_of
from ramp.records import MASK_TOKEN, Passage, Reject, Span, Task, excerpt
from ramp.text import content_id, normalize_answer, stable_hash

STRATEGIES = ("salient", "random", "ppl")
POLICIES = ("ramp", "masksearch")
_WORD_CORE = re.compile(r"[\w][\w'\-.]*[\w]|[\w]")


@dataclass
class MaskConfig:
    strategy: str = field(default="salient", metadata={"help": "salient | random | ppl"})
    mask_token: str = field(default=MASK_TOKEN, metadata={"help": "the token that replaces a span"})
    policy: str = field(
        default="ramp",
        metadata={
            "help": "how many spans and which (strategy salient): ramp (1 -> 1, 2 -> 1-2, 3 -> 3, "
            ">= 4 -> uniform 1..max_masks; weight = characters) | masksearch (MaskSearch's gen_qa.py: "
            ">= 4 -> 4; weight = words, numbers the top weight; without replacement)"
        },
    )
    max_masks: int = field(default=4, metadata={"help": "masks per passage at most"})
    min_passage_words: int = field(default=20, metadata={"help": "shorter passages are rejected"})
    max_passage_chars: int = field(default=5000, metadata={"help": "longer passages are rejected"})
    ppl_order: str = field(
        default="hardest",
        metadata={"help": "ppl strategy: mask the highest-loss spans (hardest) or the lowest (easiest)"},
    )
    random_max_words: int = field(default=3, metadata={"help": "random strategy: words per span at most"})
    validation_fraction: float = field(
        default=0.05, metadata={"help": "share of source documents in the validation split"}
    )
    leak: LeakConfig = field(default_factory=LeakConfig, metadata={"help": "the final leak filter"})

    def check(self) -> None:
        """Refuse values that would fail (or silently misbehave) inside the pipeline."""
        if self.strategy not in STRATEGIES:
            raise ValueError(
                f"masking.strategy: unknown {self.strategy!r}; choose from {', '.join(STRATEGIES)}"
            )
        if self.max_masks < 1:
            raise ValueError(f"masking.max_masks must be >= 1, not {self.max_masks}")
        if not self.mask_token.strip():
            raise ValueError("masking.mask_token must not be empty")
        if self.policy not in POLICIES:
            raise ValueError(f"masking.policy: unknown {self.policy!r}; choose from {', '.join(POLICIES)}")
        if self.ppl_order not in ("hardest", "easiest"):
            raise ValueError(f"masking.ppl_order: unknown {self.ppl_order!r}; choose hardest or easiest")
        if not 0 <= self.validation_fraction < 1:
            raise ValueError(f"masking.validation_fraction must be in [0, 1), not {self.validation_fraction}")


def num_masks(num_candidates: int, rng: random.Random, max_masks: int = 4, policy: str = "ramp") -> int:
    """How many spans to mask: 1 -> 1, 2 -> 1-2, 3 -> 3, and for >= 4 candidates uniform
    1..max_masks (``ramp``, more tasks with few masks for the curriculum) or always 4
    (``masksearch``, as its gen_qa.py does)."""
    if num_candidates <= 0:
        return 0
    if num_candidates == 1:
        k = 1
    elif num_candidates == 2:
        k = rng.randint(1, 2)
    elif num_candidates == 3:
        k = 3
    else:
        k = 4 if policy == "masksearch" else rng.randint(1, max_masks)
    return min(k, num_candidates, max_masks)


def masksearch_weight(pool: Sequence[Span]) -> Callable[[Span], float]:
    """gen_qa.py's weights: a span's word count; an all-digit span the largest weight of the
    others (numbers first)."""
    words = [len(s.text.split(" ")) for s in pool if not s.text.isdigit()]
    top = float(max(words)) if words else 1.0
    return lambda s: top if s.text.isdigit() else float(len(s.text.split(" ")))


def maskable(text: str, candidates: Sequence[Span]) -> list[Span]:
    """Candidates whose masking cannot leak: not readable elsewhere, not at the start."""
    norm_text = normalize_answer(text)
    result = []
    for span in candidates:
        if not text[: span.start].strip():
            continue
        if readable(norm_text, span.text, normalize_answer(span.text)) is not None:
            continue
        result.append(span)
    return result


def _pick(
    text: str,
    ordered: Sequence[Span],
    k: int,
    rng: random.Random | None,
    weight: Callable[[Span], float],
) -> list[Span]:
    """Pick up to ``k`` spans, none touching another, none with a repeated answer."""
    pool = list(ordered)
    chosen: list[Span] = []
    while pool and len(chosen) < k:
        if rng is None:
            span = pool[0]
        else:
            span = rng.choices(pool, weights=[weight(s) for s in pool], k=1)[0]
        chosen.append(span)
        norm = normalize_answer(span.text)
        pool = [
            s
            for s in pool
            if s is not span
            and not spans_touch(text, *sorted((s, span), key=lambda x: x.start))
            and normalize_answer(s.text) != norm
        ]
    return sorted(chosen, key=lambda s: s.start)


def sample_salient(
    text: str, candidates: Sequence[Span], rng: random.Random, max_masks: int = 4, policy: str = "ramp"
):
    """k by :func:`num_masks`, spans drawn by weight without replacement: characters
    (``ramp``) or MaskSearch's words-and-numbers weight (``masksearch``; MaskSearch draws
    with replacement, which repeats spans: here each span is drawn at most once)."""
    pool = maskable(text, candidates)
    k = num_masks(len(pool), rng, max_masks, policy)
    weight = masksearch_weight(pool) if policy == "masksearch" else (lambda s: float(len(s.text)))
    return _pick(text, pool, k, rng, weight=weight)


def random_candidates(text: str, rng: random.Random, max_words: int = 3) -> list[Span]:
    """Random non-overlapping 1..max_words word spans (punctuation trimmed), left to right."""
    words = [(m.start(), m.end()) for m in _WORD_CORE.finditer(text)]
    spans: list[Span] = []
    i = 0
    while i < len(words):
        n = rng.randint(1, max_words)
        group = words[i : i + n]
        start, end = group[0][0], group[-1][1]
        if "\n" not in text[start:end]:
            spans.append(Span(start=start, end=end, label="RANDOM", text=text[start:end]))
        i += n
    return spans


def sample_random(text: str, candidates: Sequence[Span], rng: random.Random, max_masks: int = 4):
    """The ``random`` baseline: k by the same policy, spans drawn uniformly."""
    pool = maskable(text, candidates)
    k = num_masks(len(pool), rng, max_masks)
    return _pick(text, pool, k, rng, weight=lambda s: 1.0)


def rank_by_loss(
    text: str,
    candidates: Sequence[Span],
    losses: Sequence[float],
    rng: random.Random,
    order: str = "hardest",
    max_masks: int = 4,
) -> list[Span]:
    """The ``ppl`` strategy: k by policy, then the highest (or lowest) loss spans."""
    if order not in ("hardest", "easiest"):
        raise ValueError(f"ppl_order must be 'hardest' or 'easiest', not {order!r}")
    if len(losses) != len(candidates):
        raise ValueError("one loss per candidate span is needed")
    loss_of = {(s.start, s.end): loss for s, loss in zip(candidates, losses)}
    # A span the LM could not score (NaN: past its context window) is not ranked.
    pool = [s for s in maskable(text, candidates) if not math.isnan(loss_of[(s.start, s.end)])]
    k = num_masks(len(pool), rng, max_masks)
    sign = -1.0 if order == "hardest" else 1.0
    ranked = sorted(pool, key=lambda s: (sign * loss_of[(s.start, s.end)], s.start))
    return _pick(text, ranked, k, None, weight=lambda s: 1.0)


def apply_masks(text: str, spans: Sequence[Span], mask_token: str) -> str:
    """Replace each span (sorted, non-overlapping) with the mask token."""
    out, pos = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start < pos:
            raise ValueError("spans overlap")
        out.append(text[pos : span.start])
        out.append(mask_token)
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def passage_rng(seed: int, passage_id: str, strategy: str) -> random.Random:
    """Randomness that depends only on (seed, passage, strategy): same on any worker."""
    return random.Random(stable_hash("mask", seed, strategy, passage_id))


def precheck(passage: Passage, cfg: MaskConfig) -> Reject | None:
    """Passage-level rules applied before any span is looked at."""
    if passage.num_words < cfg.min_passage_words:
        return reject_passage(
            passage, "passage_too_short", f"{passage.num_words} words < {cfg.min_passage_words}"
        )
    if len(passage.text) > cfg.max_passage_chars:
        return reject_passage(
            passage, "passage_too_long", f"{len(passage.text)} characters > {cfg.max_passage_chars}"
        )
    if cfg.mask_token.lower() in passage.text.lower():
        return reject_passage(passage, "mask_token_in_text", f"text already contains {cfg.mask_token!r}")
    return None


def build_task(
    passage: Passage,
    candidates: Sequence[Span],
    chosen: Sequence[Span],
    cfg: MaskConfig,
    seed: int,
) -> Task | Reject:
    """Turn chosen spans into a task, or a reject with the reason."""
    if not candidates:
        return reject_passage(passage, "no_salient_span", "no salient span left after filtering")
    if not chosen:
        return reject_passage(
            passage,
            "no_maskable_span",
            f"{len(candidates)} candidates, each repeated in the passage or at its start",
        )
    masked = apply_masks(passage.text, chosen, cfg.mask_token)
    verdict = check_task(passage.text, masked, chosen, cfg.mask_token, cfg.leak)
    if verdict is not None:
        return reject_passage(passage, verdict.reason, verdict.detail)
    answers = tuple(s.text for s in chosen)
    return Task(
        id=content_id(passage.id, cfg.strategy, masked, *answers),
        source_id=passage.source_id,
        passage_id=passage.id,
        title=passage.title,
        text=passage.text,
        masked_text=masked,
        answers=answers,
        spans=tuple(chosen),
        num_masks=len(chosen),
        num_candidates=len(candidates),
        strategy=cfg.strategy,
        split=split_of(passage.source_id, cfg.validation_fraction, seed),
        mask_token=cfg.mask_token,
    )


def mask_passage(
    passage: Passage,
    candidates: Sequence[Span],
    cfg: MaskConfig,
    seed: int,
    losses: Sequence[float] | None = None,
) -> Task | Reject:
    """One passage to one task or one reject (the whole masking stage for a passage)."""
    rejected = precheck(passage, cfg)
    if rejected is not None:
        return rejected
    rng = passage_rng(seed, passage.id, cfg.strategy)
    if cfg.strategy == "salient":
        chosen = sample_salient(passage.text, candidates, rng, cfg.max_masks, cfg.policy)
    elif cfg.strategy == "random":
        candidates = random_candidates(passage.text, rng, cfg.random_max_words)
        chosen = sample_random(passage.text, candidates, rng, cfg.max_masks)
    elif cfg.strategy == "ppl":
        if losses is None:
            raise ValueError("the ppl strategy needs one loss per candidate")
        chosen = rank_by_loss(passage.text, candidates, losses, rng, cfg.ppl_order, cfg.max_masks)
    else:
        raise ValueError(f"unknown strategy {cfg.strategy!r}; choose from {STRATEGIES}")
    return build_task(passage, candidates, chosen, cfg, seed)


def reject_passage(passage: Passage, reason: str, detail: str) -> Reject:
    return Reject(
        id=passage.id,
        stage="mask",
        reason=reason,
        detail=detail,
        excerpt=excerpt(passage.text),
        source=passage.source_id,
    )
