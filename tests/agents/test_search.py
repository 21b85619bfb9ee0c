"""Search backends: bm25s index, atomic builds, the noise schedule."""

import json

import pytest

from agents.search import build_index, open_index
from agents.search.index import IndexError_, read_manifest
from ramp.search import Hit, format_information, noise_probability, split_contents


def test_bm25s_finds_the_article_by_its_description(bm25_index):
    r = open_index(bm25_index)
    hits = r.search(["American filmmaker Kubrick New Hollywood", "Olmec civilization Veracruz"], 3)
    assert hits[0][0].title == "Stanley Kubrick"
    assert hits[1][0].title == "Olmecs"
    assert all(isinstance(h, Hit) and h.score > 0 for q in hits for h in q)
    scores = [h.score for h in hits[0]]
    assert scores == sorted(scores, reverse=True)


def test_exclude_ids_hides_the_source_passage(bm25_index):
    r = open_index(bm25_index)
    top = r.search(["American film history"], 3)[0]
    hidden = r.search(["American film history"], 3, exclude_ids=[[top[0].id]])[0]
    assert top[0].id not in [h.id for h in hidden] and len(hidden) == 3
    assert [h.id for h in hidden[:2]] == [h.id for h in top[1:3]]
    with pytest.raises(ValueError):
        r.search(["a", "b"], 3, exclude_ids=[["x"]])


def test_queries_without_known_terms_and_large_k(bm25_index):
    r = open_index(bm25_index)
    empty, stop, many = r.search(["qqqxxyz", "the of and", "history"], 1000)
    assert empty == [] and stop == []
    assert 0 < len(many) <= 300


def test_manifest_and_docs(bm25_index, corpus):
    m = read_manifest(bm25_index)
    assert m["backend"] == "bm25s" and m["corpus"]["documents"] == 300
    assert m["params"]["k1"] == 0.9 and m["params"]["b"] == 0.4
    hit = open_index(bm25_index).search(["Kubrick"], 1)[0][0]
    line = next(json.loads(x) for x in corpus.open() if json.loads(x)["id"] == hit.id)
    assert hit.contents == line["contents"]
    assert split_contents(hit.contents)[0] == hit.title


def test_a_killed_build_never_leaves_a_loadable_index(corpus, tmp_path, monkeypatch):
    from agents.search import bm25

    out = tmp_path / "idx"
    build_index(corpus, out, "bm25s")
    before = sorted(p.name for p in out.iterdir())

    def boom(*a, **k):
        raise KeyboardInterrupt("killed mid-build")

    monkeypatch.setattr(bm25, "build", boom)
    with pytest.raises(KeyboardInterrupt):
        build_index(corpus, out, "bm25s")
    assert sorted(p.name for p in out.iterdir()) == before  # the old index is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["idx"]  # no half-built sibling left
    with pytest.raises(KeyboardInterrupt):
        build_index(corpus, tmp_path / "fresh", "bm25s")
    assert not (tmp_path / "fresh").exists()
    (tmp_path / "partial").mkdir()
    with pytest.raises(IndexError_, match="not an index"):
        open_index(tmp_path / "partial")


def test_a_sigkilled_builds_leftovers_are_removed_and_the_index_is_world_readable(corpus, tmp_path):
    """D12: a build killed with SIGKILL (no finally) left ``.idx.building-*`` forever; the next
    build removes those of dead processes (never a live one's). D13: index dirs were 0700."""
    import os
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f".idx.building-{dead.pid}-abc"
    stale.mkdir()
    (stale / "docs.arrow").write_bytes(b"half")
    old = tmp_path / f".idx.old-{dead.pid}"
    old.mkdir()
    live = tmp_path / f".idx.building-{os.getpid()}-xyz"
    live.mkdir()
    build_index(corpus, tmp_path / "idx", "bm25s")
    assert not stale.exists() and not old.exists() and live.exists()
    assert (tmp_path / "idx").stat().st_mode & 0o777 == 0o755


def test_index_bytes_do_not_depend_on_the_hash_seed(corpus, tmp_path):
    """D15: bm25s built its vocabulary from a set, so the index bytes changed with
    PYTHONHASHSEED; the vocabulary is now in first-occurrence order."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    for seed in ("1", "2"):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "ramp.cli",
                "index",
                "--corpus",
                str(corpus),
                "--output",
                str(tmp_path / seed),
                "--backend",
                "bm25s",
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
    files = sorted(p.relative_to(tmp_path / "1") for p in (tmp_path / "1").rglob("*") if p.is_file())
    assert files and all(
        (tmp_path / "1" / f).read_bytes() == (tmp_path / "2" / f).read_bytes() for f in files
    )


def test_bad_corpus_line_is_a_clear_error(tmp_path):
    bad = tmp_path / "c.jsonl"
    bad.write_text('{"id": "1", "contents": "\\"A\\"\\nfine"}\n{"id": 2}\n')
    with pytest.raises(ValueError, match=r"c.jsonl:2"):
        build_index(bad, tmp_path / "i", "bm25s")


def test_format_information_is_search_r1_style():
    hits = [Hit("1", "Paris", '"Paris"\nParis is big.', 1.0), Hit("2", "Lyon", '"Lyon"\nLyon.', 0.5)]
    assert format_information(hits) == "Doc 1(Title: Paris) Paris is big.\nDoc 2(Title: Lyon) Lyon."


def test_noise_schedule_endpoints_and_monotonicity():
    assert noise_probability(0, 100) == 0.0
    assert noise_probability(100, 100) == pytest.approx(0.5)
    assert noise_probability(500, 100) == pytest.approx(0.5)  # clamped
    values = [noise_probability(i, 100) for i in range(101)]
    assert all(a <= b for a, b in zip(values, values[1:]))
    # b > 1: slow start (below the straight line) — the ZeroSearch curve.
    assert noise_probability(50, 100) < 0.25
    assert noise_probability(50, 100, p_start=0.1, p_end=0.9, base=4) == pytest.approx(
        0.1 + (4**0.5 - 1) / 3 * 0.8
    )
    with pytest.raises(ValueError):
        noise_probability(1, 0)
