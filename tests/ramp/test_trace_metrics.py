import pytest

from ramp.metrics import best_over_golds, exact_match, per_mask, token_f1, token_recall
from ramp.trace import join_fills, parse_turn, split_fills


@pytest.mark.parametrize(
    "text,action,content,think",
    [
        (
            "<think>plan</think>\n<search>Eiffel Tower height</search>",
            "search",
            "Eiffel Tower height",
            "plan",
        ),
        ("<think>ok</think><answer>Paris | 1889</answer>", "answer", "Paris | 1889", "ok"),
        ("Sure! <think>a</think> blah <search> q </search> trailing junk", "search", "q", "a"),
        (
            "<think>cut off by the stop string</think>\n<search>Lisbon population",
            "search",
            "Lisbon population",
            "cut off by the stop string",
        ),
        ("<search>first</search><search>second</search>", "search", "first", ""),
        (
            "<think>reflect: the documents did not say</think>\n<think>again</think><search>x</search>",
            "search",
            "x",
            "reflect: the documents did not say",
        ),
    ],
)
def test_parse_turn_golden(text, action, content, think):
    turn = parse_turn(text)
    assert (turn.action, turn.content, turn.think) == (action, content, think)


@pytest.mark.parametrize(
    "text,error",
    [
        ("I think the answer is Paris.", "no <search> or <answer> tag"),
        ("<think>only thinking</think>", "no <search> or <answer> tag"),
        ("<answer>  </answer>", "empty <answer>"),
        ("<search>a <answer>b</answer></search>", "nested tags"),
    ],
)
def test_parse_turn_invalid(text, error):
    turn = parse_turn(text)
    assert turn.action == "invalid" and error in turn.error


def test_fills_round_trip():
    assert split_fills(join_fills(["Paris", " 1889 ", "Gustave Eiffel"]), 3) == [
        "Paris",
        "1889",
        "Gustave Eiffel",
    ]
    assert split_fills("a | b", 1) == ["a | b"]
    assert split_fills("only one", 3) == ["only one"]


def test_metrics_pin_squad_style_values():
    assert exact_match("The Eiffel Tower!", "eiffel tower") == 1.0
    assert token_f1("Gustave Eiffel", "Alexandre Gustave Eiffel") == pytest.approx(0.8)
    assert token_recall("Gustave Eiffel", "Alexandre Gustave Eiffel") == pytest.approx(2 / 3)
    assert token_recall("in 1889 the tower opened", "1889") == 1.0  # recall ignores extras
    assert token_f1("", "") == 1.0 and token_f1("x", "") == 0.0
    assert per_mask(token_f1, ["Paris"], ["Paris", "1889"]) == 0.5  # a missing fill scores 0
    assert best_over_golds(exact_match, "NYC", ["New York City", "NYC"]) == 1.0
