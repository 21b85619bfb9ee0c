"""``ramp curriculum`` and ``ramp publish`` on a real (small) data run."""

import json
import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from pipelines.curriculum import write_stages
from pipelines.data import run
from pipelines.publish import PublishError, publish
from tests.conftest import ROOT
from tests.helpers import data_config as config


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, samples):
    out = tmp_path_factory.mktemp("data")
    run(config([samples / "vital_articles_300.jsonl.gz"], out, "masking.validation_fraction=0.2"))
    return out


def test_curriculum_stages_by_number_of_masks(data_dir, tmp_path):
    counts = write_stages(str(data_dir / "tasks"), str(tmp_path / "cur"))
    stats = json.loads((data_dir / "stats.json").read_text())
    assert sum(sum(v.values()) for v in counts.values()) == stats["tasks"]
    for stage in range(1, 5):
        for split in ("train", "validation"):
            table = pq.read_table(tmp_path / "cur" / f"stage-{stage}" / f"{split}.parquet")
            assert set(table.column("num_masks").to_pylist()) <= {stage}
            assert set(table.column("split").to_pylist()) <= {split}
            assert table.num_rows == counts[f"stage-{stage}"][split]
    assert json.loads((tmp_path / "cur" / "counts.json").read_text())["measure"] == "num_masks"
    with pytest.raises(ValueError, match="unknown curriculum measure"):
        write_stages(str(data_dir / "tasks"), str(tmp_path / "x"), measure="vibes")


def test_publish_local_loads_with_datasets(data_dir, tmp_path):
    import datasets

    target = tmp_path / "hub"
    publish(str(data_dir), local_dir=str(target))
    assert not (target / "corpus.jsonl").exists()
    cache = str(tmp_path / "hf-cache")  # the shared cache can hold an older run's dataset
    ds = datasets.load_dataset(str(target), cache_dir=cache)
    stats = json.loads((data_dir / "stats.json").read_text())
    assert set(ds) == {"train", "validation"}
    assert ds["train"].num_rows + ds["validation"].num_rows == stats["tasks"]
    row = ds["train"][0]
    assert row["masked_text"].count(row["mask_token"]) == row["num_masks"]
    assert row["spans"][0]["text"] == row["answers"][0]
    passages = datasets.load_dataset(str(target), "passages", cache_dir=cache)
    assert passages["train"].num_rows == stats["passages"]


def test_publish_errors_are_one_line(data_dir, tmp_path):
    with pytest.raises(PublishError, match="exactly one"):
        publish(str(data_dir))
    with pytest.raises(PublishError, match="run `ramp data` first"):
        publish(str(tmp_path), local_dir=str(tmp_path / "x"))
    # No network: point the Hub client at a closed loopback port, without a token.
    env = {**os.environ, "HF_ENDPOINT": "http://127.0.0.1:9", "HF_TOKEN": "", "HF_HOME": str(tmp_path / "hf")}
    env.pop("HF_TOKEN")
    proc = subprocess.run(
        [sys.executable, "-m", "ramp.cli", "publish", str(data_dir), "--repo-id", "someone/ramp-test"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.startswith("ramp publish:")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
