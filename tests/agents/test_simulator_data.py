"""``ramp simulator-data`` on real traces (the rule teacher over the real bm25s index, with and
without the task's own passage): pairs, labels, the SFT loss mask, rejects and reruns."""

import json

import pyarrow.parquet as pq
import pytest

from agents.simulator_data import SimulatorDataConfig, run
from ramp.simulator import search_pairs


@pytest.fixture(scope="module")
def trace_dirs(demo_data, tmp_path_factory):
    from agents.traces import TracesConfig
    from agents.traces import run as run_traces
    from ramp.cli import CONFIG_DIR
    from ramp.config import load_config

    out = tmp_path_factory.mktemp("sim-traces")
    for name, hidden in (("seen", False), ("hidden", True)):
        run_traces(
            load_config(
                TracesConfig,
                CONFIG_DIR / "traces" / "default.yaml",
                [f"machine.exclude_source={str(hidden).lower()}"],
                {
                    "tasks": str(demo_data / "data" / "tasks"),
                    "index": str(demo_data / "index"),
                    "output": str(out / name),
                    "limit": 12,
                },
            ),
            log=lambda *a: None,
        )
    return out


def make(trace_dirs, out, **kw):
    return run(
        SimulatorDataConfig(traces=f"{trace_dirs / 'seen'},{trace_dirs / 'hidden'}", output=str(out), **kw)
    )


def test_pairs_are_the_searches_of_real_traces_labelled_by_outcome(trace_dirs, tmp_path):
    from agents.traces import read_traces

    stats = make(trace_dirs, tmp_path)
    pairs = pq.read_table(tmp_path / "pairs.parquet").to_pylist()
    traces = {t["id"]: t for d in ("seen", "hidden") for t in read_traces(str(trace_dirs / d))}
    assert stats["pairs"] == len(pairs) > 0 and stats["by_label"]["useful"] and stats["by_label"]["noisy"]
    for p in pairs:  # golden: each pair is one real search and what the engine returned to it
        t = traces[p["trace_id"]]
        assert p["label"] == ("useful" if t["judge"] == "correct" else "noisy")
        found = [x for x in search_pairs(t["messages"]) if x.query == p["query"]]
        assert found and [" ".join(d.split()[:40]) for d in found[0].documents[:3]] == p["documents"]
        assert p["answer"] == " | ".join(t["answers"]) and p["question"] in t["messages"][0]["content"]
        assert p["messages"][1]["content"].startswith("Doc 1: ")
        assert ("NOT contain" in p["messages"][0]["content"]) == (p["label"] == "noisy")
    # the source passage seen: the documents hold the gold; hidden: they mostly do not
    seen = [p for p in pairs if traces[p["trace_id"]]["judge"] == "correct"]
    assert sum(p["has_gold"] for p in seen) / len(seen) > 0.8
    # every pair of a task on one side of the split
    sides = {}
    for p in pairs:
        sides.setdefault(p["task_id"], set()).add(p["split"])
    assert all(len(s) == 1 for s in sides.values())
    card = (tmp_path / "README.md").read_text()
    assert "Label rule" in card and f"| {stats['pairs']} |" in card


def test_the_sft_data_trains_the_documents_only(trace_dirs, tmp_path, tokenizer_smollm2):
    from agents.traces import read_traces
    from training.render import render_conversation

    make(trace_dirs, tmp_path)
    rows = read_traces(str(tmp_path / "train")) + read_traces(str(tmp_path / "validation"))
    assert rows and all(r["accepted"] for r in rows)
    for r in rows[:5]:
        ids, mask = render_conversation(tokenizer_smollm2, r["messages"])
        trained = tokenizer_smollm2.decode([i for i, m in zip(ids, mask) if m])
        assert r["messages"][1]["content"] in trained
        assert "web search engine" not in trained and "Query:" not in trained


def test_rerun_gives_the_same_bytes_and_every_trace_is_accounted_for(trace_dirs, tmp_path):
    from agents.traces import read_traces

    stats = make(trace_dirs, tmp_path)
    names = [
        "pairs.parquet",
        "rejects.parquet",
        "train/traces-00000.parquet",
        "validation/traces-00000.parquet",
        "stats.json",
        "README.md",
    ]
    before = {n: (tmp_path / n).read_bytes() for n in names}
    (tmp_path / "stats.json").unlink()  # as after a kill before the last write
    (tmp_path / "pairs.parquet.tmp-1").write_bytes(b"partial")
    assert make(trace_dirs, tmp_path) == stats
    assert {n: (tmp_path / n).read_bytes() for n in names} == before
    traces = [t for d in ("seen", "hidden") for t in read_traces(str(trace_dirs / d))]
    pairs = pq.read_table(tmp_path / "pairs.parquet").to_pylist()
    rejects = pq.read_table(tmp_path / "rejects.parquet").to_pylist()
    assert {t["id"] for t in traces} == {p["trace_id"] for p in pairs} | {r["trace_id"] for r in rejects}


def test_rejects_carry_a_reason(trace_dirs, tmp_path):
    import shutil

    from agents.traces import read_traces
    from ramp.trace import TRACE_SCHEMA

    src = read_traces(str(trace_dirs / "seen"))
    no_search = dict(
        src[0],
        id="t-nosearch",
        messages=src[0]["messages"][:1] + [{"role": "assistant", "content": "<answer>x</answer>"}],
    )
    empty = dict(
        src[1],
        id="t-empty",
        messages=[
            src[1]["messages"][0],
            {"role": "assistant", "content": "<search>q</search>"},
            {"role": "user", "content": "<information></information>"},
            {"role": "assistant", "content": "<answer>x</answer>"},
        ],
    )
    twice = dict(src[2], id="t-twice")  # the same searches and results as src[2]
    d = tmp_path / "in"
    d.mkdir()
    import pyarrow as pa

    pq.write_table(
        pa.Table.from_pylist([no_search, empty, twice, src[2]], schema=TRACE_SCHEMA),
        d / "traces-00000.parquet",
    )
    stats = run(SimulatorDataConfig(traces=str(d), output=str(tmp_path / "out")))
    assert stats["rejects_by_reason"]["no_search"] == 1
    assert stats["rejects_by_reason"]["too_few_documents"] == 1
    assert stats["rejects_by_reason"]["duplicate"] >= 1
    with pytest.raises(ValueError, match="label_by"):
        run(SimulatorDataConfig(traces=str(d), output=str(tmp_path / "x"), label_by="vibes"))
    with pytest.raises(FileNotFoundError, match="no traces"):
        run(SimulatorDataConfig(traces=str(tmp_path / "none"), output=str(tmp_path / "y")))
    shutil.rmtree(d)
    assert json.loads((tmp_path / "out" / "stats.json").read_text())["traces"] == 4


def test_a_trained_simulator_opens_as_an_index(tiny_model):
    """``simulated:MODEL`` is how eval and ``ramp serve-retriever`` (so verl) use a simulator."""
    from agents.search import open_index
    from agents.search.simulated import SimulatedSearchEngine

    engine = open_index(f"simulated:{tiny_model}", max_tokens=8)
    assert isinstance(engine, SimulatedSearchEngine) and engine.cfg.model == str(tiny_model)
    hits = engine.search(["capital of Portugal"], 2)
    assert len(hits) == 1 and engine.last_noisy == [False]
    with pytest.raises(ValueError, match="needs a model"):
        open_index("simulated:")
