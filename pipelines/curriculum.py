"""``ramp curriculum``: split a tasks directory into ``stage-1 ... stage-4`` directories."""

from __future__ import annotations

import json
import os
from collections import defaultdict

from ramp.curriculum import stage_of
from ramp.records import TASK_SCHEMA, read_task_rows, write_parquet


def write_stages(
    tasks_dir: str, output: str, measure: str = "num_masks", num_stages: int = 4
) -> dict[str, dict[str, int]]:
    """Write ``output/stage-k/{split}.parquet`` (rows sorted by id) and ``counts.json``."""
    rows = read_task_rows(tasks_dir)
    groups: dict[tuple[int, str], list[dict]] = defaultdict(list)
    for row in rows:
        groups[(stage_of(row, measure), row["split"])].append(row)
    counts: dict[str, dict[str, int]] = {}
    for stage in range(1, num_stages + 1):
        stage_dir = os.path.join(output, f"stage-{stage}")
        os.makedirs(stage_dir, exist_ok=True)
        counts[f"stage-{stage}"] = {}
        for split in ("train", "validation"):
            part = groups.get((stage, split), [])
            write_parquet(os.path.join(stage_dir, f"{split}.parquet"), part, TASK_SCHEMA)
            counts[f"stage-{stage}"][split] = len(part)
    with open(os.path.join(output, "counts.json"), "w", encoding="utf-8") as f:
        json.dump({"measure": measure, "stages": counts}, f, indent=2, sort_keys=True)
    return counts
