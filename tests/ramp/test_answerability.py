"""The answerability measure's pure parts: queries per mask, token-bounded matches, rates."""

import pytest

from ramp.answerability import found, holds, mask_queries, rates
from ramp.curriculum import stage_of
from ramp.search import Hit

MASKED = "Lisbon is the capital of [mask]. It lies on the [mask] estuary, by the [mask]."


def test_one_query_per_mask_from_its_sentence_without_masks():
    qs = mask_queries("Lisbon", MASKED, "[mask]")
    assert qs == [
        "Lisbon Lisbon is the capital of .",
        "Lisbon It lies on the estuary, by the .",
        "Lisbon It lies on the estuary, by the .",
    ]
    assert mask_queries("T", "A <M> b.", "<M>") == ["T A b."]


def test_an_answer_counts_only_as_whole_tokens():
    hit = Hit("x_0", "Tagus", '"Tagus"\nThe Tagus flows into the Atlantic at Lisbon.', 1.0)
    assert holds("Tagus", hit) and holds("the Atlantic", hit)
    assert not holds("Lis", hit) and not holds("", hit)
    assert found(["Tagus", "Porto"], [[hit], [hit]]) == (True, False)


def test_rates_count_masks_and_tasks():
    rows = [{"found_elsewhere": [True, False]}, {"found_elsewhere": [True]}, {"found_elsewhere": [False]}]
    r = rates(rows, "found_elsewhere")
    assert r["masks"] == 4 and r["masks_answerable"] == 0.5
    assert r["tasks_answerable"] == pytest.approx(0.3333, abs=1e-4)
    assert r["tasks_with_one_answerable_mask"] == pytest.approx(0.6667, abs=1e-4)
    assert r["tasks_by_answerable_masks"] == {"0_of_1": 1, "1_of_1": 1, "1_of_2": 1}


def test_search_need_stages_by_masks_no_other_passage_holds():
    assert stage_of({"id": "a", "found_elsewhere": [True, True]}, "search_need") == 1
    assert stage_of({"id": "b", "found_elsewhere": [True, False, False]}, "search_need") == 3
    assert stage_of({"id": "c", "found_elsewhere": [False] * 4}, "search_need") == 4
    with pytest.raises(ValueError, match="ramp answerability"):
        stage_of({"id": "d", "found_elsewhere": None}, "search_need")
