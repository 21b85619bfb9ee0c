"""verl export: the Parquet schema and the compute_score reward module (verl itself needs
GPUs and Ray and does not run here; the files it reads are checked instead)."""

import inspect

import pyarrow.parquet as pq
import pytest

from training.verl_export import VERL_SCHEMA, export_verl
from training.verl_reward import compute_score


def test_export_schema_and_rows(demo_data, tmp_path):
    counts = export_verl(str(demo_data / "data" / "tasks"), str(tmp_path))
    train = pq.read_table(tmp_path / "train.parquet")
    assert train.schema.equals(VERL_SCHEMA)
    assert train.num_rows == counts["train"] > 0
    row = train.to_pylist()[0]
    assert row["data_source"] == "ramp" and row["prompt"][0]["role"] == "user"
    assert "[mask]" in row["prompt"][0]["content"]
    gt = row["reward_model"]["ground_truth"]
    assert len(gt["target"]) == gt["num_masks"] >= 1
    assert row["extra_info"]["split"] == "train" and row["agent_name"] == "tool_agent"
    assert pq.read_table(tmp_path / "test.parquet").num_rows == counts["test"]


def test_compute_score_has_verls_signature_and_uses_our_rewards():
    params = list(inspect.signature(compute_score).parameters)
    assert params[:4] == ["data_source", "solution_str", "ground_truth", "extra_info"]
    gt = {"target": ["Lisbon", "Tagus"], "num_masks": 2}
    perfect = "<think>x</think><answer>Lisbon | Tagus</answer>"
    assert compute_score("ramp", perfect, gt) == pytest.approx(1.0)
    assert compute_score("ramp", "no answer", gt) == 0.0
    assert compute_score("nq", "<answer>Paris</answer>", ["Paris"], reward="answer_em") == 1.0
