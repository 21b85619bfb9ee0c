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


def test_bad_counts_are_errors_not_silent_cuts(demo_data):
    """D16: ``limit=-1`` dropped the last task (``[:-1]``); ``max_turns=0`` and
    ``--num-workers 0`` were accepted."""
    import pytest

    from agents.loop import AgentLoop, LoopConfig
    from pipelines.config import DataConfig
    from pipelines.data import run
    from ramp.records import read_tasks

    tasks = str(demo_data / "data" / "tasks")
    for bad in (-1, True, "3"):
        with pytest.raises(ValueError, match="limit must be a count"):
            read_tasks(tasks, "train", bad)
    assert read_tasks(tasks, "train", 0) == []
    for key in ("max_turns", "topk", "max_tokens"):
        with pytest.raises(ValueError, match=f"loop.{key} must be >= 1"):
            AgentLoop(None, None, LoopConfig(**{key: 0}))
    with pytest.raises(ValueError, match="num_workers must be >= 1"):
        run(DataConfig(input=["x.jsonl"], output="out", num_workers=0))
