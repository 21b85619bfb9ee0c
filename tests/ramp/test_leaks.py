from ramp.leaks import LeakConfig, check_task, leaks, name_words
from ramp.masking import apply_masks
from ramp.records import Span

CFG = LeakConfig(max_mask_fraction=0.4)


def span(text, surface, nth=0):
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    return Span(start, start + len(surface), "X", surface)


def verdict(text, spans, cfg=CFG):
    masked = apply_masks(text, spans, "[mask]")
    v = check_task(text, masked, spans, "[mask]", cfg)
    return None if v is None else v.reason


def test_a_clean_task_passes():
    text = "The city of Lyon lies on the Rhône, and its population was 522,000 in 2020 by census."
    assert verdict(text, [span(text, "Lyon"), span(text, "522,000")]) is None


def test_answer_leak_is_normalised_and_word_bounded():
    text = "Marie Curie won in 1911. The prize of 1911 was her second one overall, in chemistry."
    assert verdict(text, [span(text, "1911")]) == "answer_leak"
    # Word-bounded: "Curie" inside "Curies" does not count, case and punctuation do not matter.
    assert leaks("The [mask] family; the Curies.", "Curie", "[mask]") is None
    assert leaks("He met [mask] and later MARIE CURIE.", "Marie Curie", "[mask]") == "marie curie"


def test_partial_name_leak():
    text = "Albert Einstein was born in Ulm. Later Einstein moved to Bern with his family members."
    assert verdict(text, [span(text, "Albert Einstein", 0)]) in ("starts_with_mask", "answer_leak")
    text2 = "In 1879 Albert Einstein was born in Ulm. Later Einstein moved to Bern with his family."
    assert verdict(text2, [span(text2, "Albert Einstein")]) == "answer_leak"
    assert name_words("Albert Einstein") == ["albert", "einstein"]
    assert name_words("University of Zurich") == ["zurich"]
    assert name_words("Paris") == []


def test_starts_with_mask():
    text = "Paris is the capital of France and its largest city by population, with many people."
    assert verdict(text, [span(text, "Paris")]) == "starts_with_mask"


def test_masks_touch():
    text = "The winners were Ann , Bob and Carl in the final of the regional chess championship."
    assert verdict(text, [span(text, "Ann"), span(text, "Bob")]) == "masks_touch"


def test_too_much_masked():
    text = "Rome Paris Berlin are three capitals."
    spans = [span(text, "Paris Berlin")]
    assert verdict(text, spans, LeakConfig(max_mask_fraction=0.2)) == "too_much_masked"


def test_duplicate_answer_and_mismatch():
    text = "In spring the river rose; in the Spring Festival many people came to see the river boats."
    bad = Span(3, 9, "X", "sprung")
    assert (
        check_task(text, apply_masks(text, [bad], "[mask]"), [bad], "[mask]", CFG).reason == "span_mismatch"
    )
    masked = apply_masks(text, [span(text, "Festival")], "[mask]")
    assert (
        check_task(text, masked + " [mask]", [span(text, "Festival")], "[mask]", CFG).reason == "mask_count"
    )
