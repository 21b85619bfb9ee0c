"""``ramp export-verl``: RAMP tasks in the verl / Search-R1 Parquet schema.

Columns: ``data_source``, ``prompt`` (chat messages), ``ability``, ``reward_model``
(``{"style": "rule", "ground_truth": {"target": [...], "num_masks": n}}``), ``extra_info``
(split, index, task id, title, and ``exclude_ids``: passages the retriever must hide, the
task's own with ``exclude_source``) and ``agent_name`` (``ramp_agent``, RAMP's search loop
inside verl: :mod:`training.verl_agent`). The reward is :mod:`training.verl_reward` (verl's
``compute_score`` signature over our reward functions).
"""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq

from agents.teacher.machine import ramp_prompt
from ramp.records import read_tasks

AGENT_NAME = "ramp_agent"  # training.verl_agent.RampAgentLoop
VERL_SCHEMA = pa.schema(
    [
        ("data_source", pa.string()),
        ("prompt", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
        ("ability", pa.string()),
        (
            "reward_model",
            pa.struct(
                [
                    ("style", pa.string()),
                    (
                        "ground_truth",
                        pa.struct([("target", pa.list_(pa.string())), ("num_masks", pa.int32())]),
                    ),
                ]
            ),
        ),
        (
            "extra_info",
            pa.struct(
                [
                    ("split", pa.string()),
                    ("index", pa.int64()),
                    ("task_id", pa.string()),
                    ("title", pa.string()),
                    ("exclude_ids", pa.list_(pa.string())),
                ]
            ),
        ),
        ("agent_name", pa.string()),
    ]
)


def export_verl(
    tasks_dir: str,
    output: str,
    data_source: str = "ramp",
    exclude_source: bool = False,
    prompt_version: str = "v1",
) -> dict[str, int]:
    os.makedirs(output, exist_ok=True)
    counts = {}
    for split, name in (("train", "train"), ("validation", "test")):
        rows = []
        for i, t in enumerate(read_tasks(tasks_dir, split)):
            rows.append(
                {
                    "data_source": data_source,
                    "prompt": [{"role": "user", "content": ramp_prompt(t, prompt_version)}],
                    "ability": "search-fill-mask",
                    "reward_model": {
                        "style": "rule",
                        "ground_truth": {"target": list(t.answers), "num_masks": t.num_masks},
                    },
                    "extra_info": {
                        "split": name,
                        "index": i,
                        "task_id": t.id,
                        "title": t.title,
                        "exclude_ids": [t.passage_id] if exclude_source else [],
                    },
                    "agent_name": AGENT_NAME,
                }
            )
        pq.write_table(
            pa.Table.from_pylist(rows, schema=VERL_SCHEMA), os.path.join(output, f"{name}.parquet")
        )
        counts[name] = len(rows)
    return counts
