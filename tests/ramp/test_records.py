"""Reading task Parquet: one reader for the tasks dir, a curriculum dir or one stage."""

import pytest

from pipelines.curriculum import write_stages
from ramp.records import read_task_rows, read_tasks


def test_tasks_and_curriculum_dirs_read_the_same_tasks(demo_data, tmp_path):
    tasks_dir = str(demo_data / "data" / "tasks")
    rows = read_task_rows(tasks_dir)
    assert rows and [r["id"] for r in rows] == sorted({r["id"] for r in rows})
    counts = write_stages(tasks_dir, str(tmp_path / "cur"))
    assert read_task_rows(str(tmp_path / "cur")) == rows  # all stages, recursively
    stage1 = read_tasks(str(tmp_path / "cur" / "stage-1"), "train")
    assert len(stage1) == counts["stage-1"]["train"] and {t.num_masks for t in stage1} == {1}
    train = read_tasks(tasks_dir, "train", limit=5)
    assert [t.id for t in train] == [r["id"] for r in rows if r["split"] == "train"][:5]
    assert all(t.masked_text.count("[mask]") == t.num_masks for t in train)


def test_missing_task_files_are_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no task Parquet files"):
        read_tasks(str(tmp_path))
