import math

from ramp.ppl import span_losses
from ramp.records import Span


def test_span_loss_is_the_mean_of_overlapping_scored_tokens():
    offsets = [(0, 3), (4, 9), (10, 12), (12, 15), (0, 0)]
    losses = [math.nan, 2.0, 4.0, 6.0, 9.0]
    spans = [
        Span(4, 9, "X", "....."),
        Span(10, 15, "X", "....."),
        Span(0, 3, "X", "..."),
        Span(20, 22, "X", ".."),
    ]
    out = span_losses(offsets, losses, spans)
    assert out[:2] == [2.0, 5.0]
    assert math.isnan(out[2])  # only the unscored first token
    assert math.isnan(out[3])  # past the window
