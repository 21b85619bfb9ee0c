from ramp.passages import split_of, split_passages
from ramp.records import Document
from ramp.spans import SpanConfig, salient_candidates, trim_span

TEXT = "In about 1945 the United Nations was founded by 51 countries, said Harry Truman's aide."


def ents(*pairs):
    out = []
    for surface, label in pairs:
        start = TEXT.index(surface)
        out.append((start, start + len(surface), label))
    return out


def test_trim_drops_hedges_articles_and_possessives():
    s = TEXT.index("about 1945")
    assert TEXT[slice(*trim_span(TEXT, s, s + len("about 1945")))] == "1945"
    s = TEXT.index("the United Nations")
    assert TEXT[slice(*trim_span(TEXT, s, s + len("the United Nations")))] == "United Nations"
    s = TEXT.index("Harry Truman's")
    assert TEXT[slice(*trim_span(TEXT, s, s + len("Harry Truman's")))] == "Harry Truman"


def test_type_switches_and_title_filter():
    e = ents(
        ("about 1945", "DATE"),
        ("the United Nations", "ORG"),
        ("51", "CARDINAL"),
        ("Harry Truman's", "PERSON"),
    )
    all_on = salient_candidates(TEXT, "Some title", e, [], SpanConfig())
    assert [c.text for c in all_on] == ["1945", "United Nations", "51", "Harry Truman"]
    no_dates = salient_candidates(TEXT, "Some title", e, [], SpanConfig(dates=False, numbers=False))
    assert [c.label for c in no_dates] == ["ORG", "PERSON"]
    titled = salient_candidates(TEXT, "United Nations", e, [], SpanConfig())
    assert "United Nations" not in [c.text for c in titled]
    # A part of the title counts as the title.
    titled = salient_candidates(TEXT, "Harry S. Truman", e, [], SpanConfig())
    assert "Harry Truman" in [c.text for c in titled]  # "harry truman" is not a phrase of it
    assert all(TEXT[c.start : c.end] == c.text for c in all_on)


def test_terms_do_not_overlap_entities():
    e = ents(("the United Nations", "ORG"))
    chunk = (TEXT.index("51 countries"), TEXT.index("51 countries") + len("51 countries"))
    un = (TEXT.index("the United Nations"), TEXT.index("the United Nations") + 18)
    out = salient_candidates(TEXT, "x", e, [chunk, un], SpanConfig(terms=True))
    assert [(c.text, c.label) for c in out] == [("United Nations", "ORG"), ("51 countries", "TERM")]


def test_long_and_short_spans_are_dropped():
    e = ents(("the United Nations was founded by 51 countries", "ORG"), ("51", "CARDINAL"))
    out = salient_candidates(TEXT, "x", e, [], SpanConfig(max_words=4, min_chars=3))
    assert out == []


def test_passages_are_100_word_windows_with_stable_ids():
    doc = Document(id="42", title="T", text=" ".join(f"w{i}" for i in range(250)), source="s")
    ps = list(split_passages(doc, 100))
    assert [p.num_words for p in ps] == [100, 100, 50]
    assert [p.id for p in ps] == ["42_0", "42_1", "42_2"]
    assert ps[1].text.split()[0] == "w100"
    assert list(split_passages(doc, 100)) == ps


def test_split_is_stable_and_by_document():
    ids = [f"doc{i}" for i in range(2000)]
    splits = [split_of(i, 0.1) for i in ids]
    assert splits == [split_of(i, 0.1) for i in ids]
    share = splits.count("validation") / len(ids)
    assert 0.07 < share < 0.13
    assert all(split_of(i, 0.0) == "train" for i in ids[:50])
