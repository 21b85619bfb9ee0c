import random
from collections import Counter

import pytest

from ramp.masking import (
    MaskConfig,
    apply_masks,
    mask_passage,
    maskable,
    masksearch_weight,
    num_masks,
    random_candidates,
    rank_by_loss,
    sample_salient,
)
from ramp.records import Passage, Reject, Span, Task

TEXT = (
    "In 1879 Albert Einstein was born in Ulm, in the Kingdom of Württemberg. He later moved "
    "to Switzerland and studied in Zurich, where he met Mileva Marić. In 1905 he published "
    "four papers that changed physics, and in 1921 he received the Nobel Prize "
    "for his services to theoretical physics."
)


def span(text: str, surface: str, label: str = "X") -> Span:
    start = text.index(surface)
    return Span(start, start + len(surface), label, surface)


def candidates(text=TEXT):
    names = [
        "Albert Einstein",
        "Ulm",
        "Kingdom of Württemberg",
        "Switzerland",
        "Zurich",
        "Mileva Marić",
        "1905",
        "four",
        "1921",
        "Nobel Prize",
    ]
    return sorted((span(text, n) for n in names), key=lambda s: s.start)


def passage(text=TEXT, title="Physics history") -> Passage:
    return Passage(id="doc_0", source_id="doc", index=0, title=title, text=text, num_words=len(text.split()))


@pytest.mark.parametrize(
    "n,allowed", [(0, {0}), (1, {1}), (2, {1, 2}), (3, {3}), (4, {1, 2, 3, 4}), (9, {1, 2, 3, 4})]
)
def test_num_masks_follows_the_ramp_policy(n, allowed):
    seen = {num_masks(n, random.Random(i)) for i in range(200)}
    assert seen == allowed


@pytest.mark.parametrize("n,allowed", [(1, {1}), (2, {1, 2}), (3, {3}), (4, {4}), (9, {4})])
def test_masksearch_policy_masks_four_when_it_can(n, allowed):
    """gen_qa.py: fewer than 3 entities -> randint(1, n); 3 -> 3; 4 or more -> 4."""
    assert {num_masks(n, random.Random(i), policy="masksearch") for i in range(200)} == allowed


def test_masksearch_weights_words_and_puts_numbers_first():
    cands = candidates()
    picks = Counter()
    for seed in range(300):
        chosen = sample_salient(TEXT, cands, random.Random(seed), policy="masksearch")
        assert len(chosen) == min(4, len(chosen)) and len({s.text for s in chosen}) == len(chosen)
        picks.update(s.text for s in chosen)
    # "1921" (digits) weighs as much as the longest name (2 words); one-word "Ulm" half that
    assert picks["1921"] > picks["Ulm"]
    weight = masksearch_weight(cands)
    assert weight(span(TEXT, "1921")) == max(len(c.text.split()) for c in cands if not c.text.isdigit())


def test_apply_masks_replaces_each_span_in_order():
    spans = [span(TEXT, "Ulm"), span(TEXT, "1905")]
    masked = apply_masks(TEXT, spans, "[mask]")
    assert masked.count("[mask]") == 2
    assert "Ulm" not in masked and "1905" not in masked
    assert masked.index("[mask]") == TEXT.index("Ulm")


def test_maskable_drops_repeated_text_and_the_first_word():
    text = "Paris is big. Many people visit Paris and Lyon each year."
    cands = [span(text, "Paris"), span(text, "Lyon")]
    assert [s.text for s in maskable(text, cands)] == ["Lyon"]


def test_maskable_drops_names_whose_surname_appears_elsewhere():
    text = "The theory of Albert Einstein changed physics; Einstein later moved to Princeton."
    cands = [span(text, "Albert Einstein"), span(text, "Princeton")]
    assert [s.text for s in maskable(text, cands)] == ["Princeton"]


def test_salient_sampling_is_seeded_and_never_touches():
    cands = candidates()
    a = sample_salient(TEXT, cands, random.Random(7))
    b = sample_salient(TEXT, cands, random.Random(7))
    assert a == b and 1 <= len(a) <= 4
    picks = Counter()
    for seed in range(300):
        chosen = sample_salient(TEXT, cands, random.Random(seed))
        picks.update(s.text for s in chosen)
        for left, right in zip(chosen, chosen[1:]):
            assert left.end < right.start
    # Length-weighted: the long span is drawn more often than a short one.
    assert picks["Nobel Prize"] > picks["Ulm"]


def test_rank_by_loss_masks_the_hardest_or_easiest():
    cands = candidates()
    losses = [float(i) for i in range(len(cands))]  # later spans are "harder"
    rng_h, rng_e = random.Random(3), random.Random(3)
    hardest = rank_by_loss(TEXT, cands, losses, rng_h, "hardest")
    easiest = rank_by_loss(TEXT, cands, losses, rng_e, "easiest")
    assert len(hardest) == len(easiest)
    assert hardest[-1].text == "Nobel Prize"
    assert easiest[0].text == "Albert Einstein"
    with pytest.raises(ValueError):
        rank_by_loss(TEXT, cands, losses[:-1], random.Random(0))


def test_random_candidates_are_word_spans_of_the_text():
    for s in random_candidates(TEXT, random.Random(1), max_words=3):
        assert TEXT[s.start : s.end] == s.text
        assert 1 <= len(s.text.split()) <= 3
        assert s.text[-1].isalnum() and s.text[0].isalnum()


@pytest.mark.parametrize("strategy", ["salient", "random"])
def test_mask_passage_makes_a_valid_task(strategy):
    cfg = MaskConfig(strategy=strategy)
    task = mask_passage(passage(), candidates(), cfg, seed=0)
    assert isinstance(task, Task), task
    assert task.num_masks == task.masked_text.count("[mask]") == len(task.answers)
    for answer, s in zip(task.answers, task.spans):
        assert TEXT[s.start : s.end] == answer == s.text
    again = mask_passage(passage(), candidates(), cfg, seed=0)
    assert again == task
    other_seed = {mask_passage(passage(), candidates(), cfg, seed=s).id for s in range(10)}
    assert len(other_seed) > 1


def test_mask_passage_rejects_with_reasons():
    cfg = MaskConfig()
    short = passage(text="Too short to mask.")
    assert mask_passage(short, [], cfg, 0).reason == "passage_too_short"
    no_spans = mask_passage(passage(), [], cfg, 0)
    assert isinstance(no_spans, Reject) and no_spans.reason == "no_salient_span"
    text = TEXT.replace("Kingdom", "[MASK] Kingdom")
    assert mask_passage(passage(text), [], cfg, 0).reason == "mask_token_in_text"
    repeated = "Zurich " + TEXT + " Zurich is nice."
    only = [span(repeated, "Zurich")]
    only = [Span(only[0].start + 7, only[0].end + 7, "GPE", "Zurich")]
    assert mask_passage(passage(repeated), only, cfg, 0).reason == "no_maskable_span"


def test_ppl_strategy_requires_losses():
    with pytest.raises(ValueError):
        mask_passage(passage(), candidates(), MaskConfig(strategy="ppl"), 0)
    task = mask_passage(
        passage(), candidates(), MaskConfig(strategy="ppl"), 0, losses=[1.0] * len(candidates())
    )
    assert isinstance(task, Task) and task.strategy == "ppl"
