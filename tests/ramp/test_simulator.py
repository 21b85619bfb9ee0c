"""ZeroSearch simulator data, pure: pairs from a trajectory, labels, has_gold, the split."""

import pytest

from ramp import simulator as sim
from ramp.search import Hit
from ramp.trace import information

HITS = [
    Hit("1", "Lisbon", '"Lisbon"\nLisbon is the capital of Portugal.', 2.0),
    Hit("2", "Tagus (river)", '"Tagus (river)"\nThe Tagus flows into the Atlantic at Lisbon.', 1.0),
]


def test_information_blocks_parse_back_into_their_documents():
    docs = sim.parse_information(information(HITS))
    assert docs == [
        "Lisbon: Lisbon is the capital of Portugal.",
        "Tagus (river): The Tagus flows into the Atlantic at Lisbon.",
    ]
    assert sim.parse_information("<information></information>") == []


def test_search_pairs_take_each_search_and_the_information_that_answered_it():
    messages = [
        {"role": "user", "content": "Fill ... Passage: [mask] is the capital of Portugal."},
        {"role": "assistant", "content": "<think>t</think>\n<search>capital of Portugal</search>"},
        {"role": "user", "content": information(HITS)},
        {"role": "assistant", "content": "<think>t</think>\n<search>Tagus mouth</search>"},
        {"role": "user", "content": information(HITS[1:])},
        {"role": "assistant", "content": "<answer>Lisbon</answer>"},
    ]
    pairs = sim.search_pairs(messages)
    assert [(p.query, len(p.documents), p.turn) for p in pairs] == [
        ("capital of Portugal", 2, 0),
        ("Tagus mouth", 1, 1),
    ]
    assert sim.question_of(messages[0]["content"]) == "[mask] is the capital of Portugal."
    assert sim.search_pairs(messages[:2]) == []  # a search nobody answered


def test_labels_follow_the_trajectory_outcome():
    assert sim.label("correct", 0.0) == "useful" and sim.label("incorrect", 1.0) == "noisy"
    assert sim.label("incorrect", 0.9, "f1", 0.8) == "useful"
    assert sim.label("correct", 0.5, "f1", 0.8) == "noisy"
    with pytest.raises(ValueError, match="label_by"):
        sim.label("correct", 1.0, "vibes")


def test_has_gold_is_a_normalised_whole_word_match():
    assert sim.has_gold(["The capital is LISBON."], ["Lisbon"])
    assert not sim.has_gold(["Lisboners abound"], ["Lisbon"])
    assert not sim.has_gold(["anything"], [""])


def test_documents_render_one_line_each_and_the_split_is_by_task():
    assert sim.render_documents(["a  b\nc", "d"]) == "Doc 1: a b c\nDoc 2: d"
    assert sim.clip_words("one two three", 2) == "one two" and sim.clip_words("a b", 0) == "a b"
    splits = {sim.split_of(f"task{i}", 0.2, 0) for i in range(50)}
    assert splits == {"train", "validation"}
    assert sim.split_of("task7", 0.2, 0) == sim.split_of("task7", 0.2, 0)
