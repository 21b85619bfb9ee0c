import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramp.rewards import (
    HYBRID,
    REWARDS,
    answer_em,
    answer_f1,
    answer_recall,
    extract_answer,
    format_reward,
    weighted,
)

RAMP_OK = (
    "<think>search first</think>\n<search>Portugal capital</search>"
    "<information>Doc 1(Title: Portugal) <answer>Porto</answer> Lisbon.</information>"
    "<think>found</think>\n<answer>Lisbon | Tagus</answer>"
)


def cols(answers, masks):
    return {"answers": answers, "num_masks": masks}


def test_masksearch_style_per_mask_scores():
    c = cols([["Lisbon", "Tagus River"]], [2])
    assert answer_em([""], [RAMP_OK], **c) == [0.5]
    assert answer_recall([""], [RAMP_OK], **c) == [pytest.approx((1 + 0.5) / 2)]
    assert answer_f1([""], [RAMP_OK], **c) == [pytest.approx((1 + 2 / 3) / 2)]
    assert format_reward([""], [RAMP_OK], **c) == [1.0]
    assert extract_answer(RAMP_OK) == "Lisbon | Tagus"  # not the one inside <information>


def test_zerosearch_style_qa_scores_best_gold():
    c = cols([["William Shakespeare", "Shakespeare"]], [0])
    done = "<think>x</think><answer>shakespeare</answer>"
    assert answer_em([""], [done], **c) == [1.0]
    assert answer_recall([""], ["<answer>the playwright William</answer>"], **c) == [0.5]
    assert format_reward([""], ["no answer at all"], **c) == [0.0]
    assert format_reward([""], ["<think>unclosed <answer>x</answer>"], **c) == [0.5]
    # an answer whose </answer> an OpenAI server dropped (or max_tokens cut) still counts
    # for the answer rewards, as eval's parse_turn counts it; its format is unbalanced
    assert extract_answer("<search>q</search><answer>shakespeare") == "shakespeare"
    assert answer_em([""], ["<answer> shakespeare"], **c) == [1.0]
    assert format_reward([""], ["<answer>shakespeare"], **c) == [0.5]
    assert extract_answer("<answer>") is None and extract_answer("<answer>a</answer><answer>") == "a"


def test_conversational_completions_and_hybrid():
    comp = [
        {"role": "assistant", "content": "<think>a</think><search>q</search>"},
        {"role": "user", "content": "<information>Doc 1 <answer>wrong</answer></information>"},
        {"role": "assistant", "content": "<think>b</think><answer>Lisbon</answer>"},
    ]
    c = cols([["Lisbon"]], [1])
    assert answer_em([""], [comp], **c) == [1.0]
    hybrid = weighted(HYBRID)
    assert hybrid([""], [comp], **c) == [pytest.approx(1.0)]
    assert hybrid.__name__ == "hybrid" and answer_f1.__name__ == "answer_f1"


@settings(max_examples=300, deadline=None)
@given(
    completion=st.one_of(
        st.text(),
        st.lists(
            st.fixed_dictionaries({"role": st.sampled_from(["assistant", "user"]), "content": st.text()}),
            max_size=4,
        ),
    ),
    golds=st.one_of(st.lists(st.text(), max_size=4), st.text()),
    masks=st.one_of(st.integers(-3, 6), st.none(), st.text(max_size=3)),
)
def test_rewards_never_raise_and_stay_in_range(completion, golds, masks):
    for fn in [*REWARDS.values(), weighted(HYBRID)]:
        out = fn(["prompt"], [completion], answers=[golds], num_masks=[masks])
        assert len(out) == 1 and 0.0 <= out[0] <= 1.0


@settings(max_examples=200, deadline=None)
@given(
    fills=st.lists(
        st.text(alphabet=st.characters(blacklist_characters="|<>"), min_size=1), min_size=1, max_size=4
    )
)
def test_perfect_answers_score_one(fills):
    text = "<think>t</think><answer>" + " | ".join(fills) + "</answer>"
    c = cols([fills], [len(fills)])
    if all(f.strip() for f in fills):
        assert answer_em([""], [text], **c) == [1.0]
