"""Answer metrics: exact match, token F1 and token recall (SQuAD normalisation), per mask."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ramp.text import normalize_answer


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def _overlap(prediction: str, gold: str) -> tuple[int, int, int]:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    common = sum((Counter(pred) & Counter(ref)).values())
    return common, len(pred), len(ref)


def token_f1(prediction: str, gold: str) -> float:
    common, n_pred, n_ref = _overlap(prediction, gold)
    if n_pred == 0 or n_ref == 0:
        return float(n_pred == n_ref)
    if common == 0:
        return 0.0
    precision, recall = common / n_pred, common / n_ref
    return 2 * precision * recall / (precision + recall)


def token_recall(prediction: str, gold: str) -> float:
    """Share of gold tokens found in the prediction (MaskSearch's headline metric)."""
    common, _, n_ref = _overlap(prediction, gold)
    return common / n_ref if n_ref else 0.0


def best_over_golds(fn, prediction: str, golds: Sequence[str]) -> float:
    """The best score against any acceptable gold answer (FlashRAG ``golden_answers``)."""
    return max((fn(prediction, g) for g in golds), default=0.0)


def per_mask(fn, predictions: Sequence[str], golds: Sequence[str]) -> float:
    """Mean of ``fn`` over masks; a missing fill scores 0, extra fills are ignored."""
    if not golds:
        return 0.0
    preds = list(predictions) + [""] * (len(golds) - len(predictions))
    return sum(fn(p, g) for p, g in zip(preds, golds)) / len(golds)


METRICS = {"em": exact_match, "f1": token_f1, "recall": token_recall}


def fill_scores(fills: Sequence[str], golds: Sequence[str]) -> dict[str, float]:
    """EM, F1 and token recall of a RAMP prediction, averaged over masks."""
    return {name: per_mask(fn, fills, golds) for name, fn in METRICS.items()}


def qa_scores(prediction: str, golds: Sequence[str]) -> dict[str, float]:
    """EM, F1 and token recall of a QA answer against its best gold."""
    return {name: best_over_golds(fn, prediction, golds) for name, fn in METRICS.items()}
