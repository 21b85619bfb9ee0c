"""Span difficulty from a causal LM's per-token loss (pure aggregation; the model runs elsewhere)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ramp.records import Span


def span_losses(
    offsets: Sequence[tuple[int, int]],
    token_losses: Sequence[float],
    spans: Sequence[Span],
) -> list[float]:
    """Mean loss of the tokens overlapping each span; NaN when no scored token overlaps.

    ``token_losses[i]`` is the loss of predicting token ``i`` from the tokens before it
    (NaN for the first token, which has no context).
    """
    out = []
    for span in spans:
        values = [
            loss
            for (start, end), loss in zip(offsets, token_losses)
            if start < span.end and span.start < end and end > start and not math.isnan(loss)
        ]
        out.append(sum(values) / len(values) if values else math.nan)
    return out
