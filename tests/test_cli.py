"""The ``ramp`` command as a user runs it."""

import json
import subprocess
import sys

from tests.conftest import ROOT, SAMPLES


def ramp(*args, cwd=ROOT, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "ramp.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def test_data_prints_a_summary_table_and_honours_overrides(tmp_path):
    out = tmp_path / "out"
    proc = ramp(
        "data",
        "--input",
        str(SAMPLES / "vital_articles_300.jsonl.gz"),
        "--output",
        str(out),
        "--limit",
        "40",
        "--seed",
        "3",
        "masking.max_masks=2",
    )
    assert proc.returncode == 0, proc.stderr
    for word in ("passages", "tasks", "masks per task", "label mix", "rejects by reason"):
        assert word in proc.stdout
    stats = json.loads((out / "stats.json").read_text())
    assert stats["documents"] == 40 and stats["seed"] == 3
    assert set(stats["masks_per_task"]) <= {"1", "2"}
    assert stats["command"].startswith("ramp data --input")


def test_config_errors_are_one_clear_line(tmp_path):
    proc = ramp(
        "data",
        "--input",
        str(SAMPLES / "vital_articles_300.jsonl.gz"),
        "--output",
        str(tmp_path),
        "masking.strateggy=x",
    )
    assert proc.returncode == 2
    assert "unknown key" in proc.stderr and "Traceback" not in proc.stderr
    proc = ramp("data", "--input", str(tmp_path / "nothing-*.xml"), "--output", str(tmp_path))
    assert proc.returncode == 2 and "no input file matches" in proc.stderr


def test_help_lists_every_stage():
    proc = ramp("--help")
    assert proc.returncode == 0
    for sub in ("data", "curriculum", "publish", "traces", "simulator-data", "export-verl"):
        assert sub in proc.stdout
