"""``ramp answerability`` on real tasks and a real bm25s index."""

import json

import pyarrow.parquet as pq

from agents.answerability import AnswerabilityConfig, run
from ramp.records import read_task_rows


def parquet_bytes(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.rglob("*.parquet"))}


def test_every_mask_is_measured_with_its_passage_and_its_article_hidden(demo_data, tmp_path):
    cfg = AnswerabilityConfig(
        tasks=str(demo_data / "data" / "tasks"), index=str(demo_data / "index"), output=str(tmp_path / "a")
    )
    stats = run(cfg)
    before = {r["id"]: r for r in read_task_rows(cfg.tasks)}
    after = read_task_rows(str(tmp_path / "a" / "tasks"))
    assert [r["id"] for r in after] == sorted(before)  # nothing lost, nothing added
    for r in after:
        assert len(r["found_elsewhere"]) == len(r["found_outside_article"]) == r["num_masks"]
        assert r["num_found_elsewhere"] == sum(r["found_elsewhere"])
        # hiding the whole article hides more: never more answerable than with the passage hidden
        assert all(a <= p for a, p in zip(r["found_outside_article"], r["found_elsewhere"]))
        measured = ("found_elsewhere", "found_outside_article", "num_found_elsewhere")
        assert {k: v for k, v in r.items() if k not in measured} == {
            k: v for k, v in before[r["id"]].items() if k not in measured
        }
    passage, article = stats["source_passage_hidden"], stats["source_article_hidden"]
    assert passage["masks"] == sum(r["num_masks"] for r in after)
    assert 0 < article["masks_answerable"] <= passage["masks_answerable"] < 0.5
    assert json.loads((tmp_path / "a" / "stats.json").read_text()) == stats
    assert "| passage |" in (tmp_path / "a" / "README.md").read_text()
    first = parquet_bytes(tmp_path / "a")
    run(cfg)
    assert parquet_bytes(tmp_path / "a") == first  # a rerun writes the same bytes


def test_the_measure_feeds_the_search_need_curriculum(demo_data, tmp_path):
    from pipelines.curriculum import write_stages

    cfg = AnswerabilityConfig(
        tasks=str(demo_data / "data" / "tasks"), index=str(demo_data / "index"), output=str(tmp_path / "a")
    )
    run(cfg)
    counts = write_stages(str(tmp_path / "a" / "tasks"), str(tmp_path / "cur"), measure="search_need")
    total = sum(n for stage in counts.values() for n in stage.values())
    assert total == len(read_task_rows(cfg.tasks))
    stage1 = pq.read_table(tmp_path / "cur" / "stage-1" / "train.parquet").to_pylist()
    assert all(all(r["found_elsewhere"]) for r in stage1)
