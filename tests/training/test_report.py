"""``ramp report``: the final table and plots from what the stages wrote."""

import json

from training.report import collect, plots, table


def test_report_table_and_plots_from_a_real_data_run(demo_data, tmp_path):
    """Data stats come from the real pipeline run; the SFT/RL/eval files are small rows in
    the shapes those stages write (their own tests run them)."""
    run = tmp_path / "run"
    (run / "data").mkdir(parents=True)
    (run / "data" / "stats.json").write_text((demo_data / "data" / "stats.json").read_text())
    for name, rows in {
        "sft": [{"step": 1, "loss": 3.0}, {"step": 2, "loss": 1.5}],
        "rl": [
            {"step": 1, "reward": 0.0, "reward/format": 0.0, "kl": 0.0},
            {"step": 2, "reward": 0.25, "reward/format": 0.5, "kl": 0.01},
        ],
    }.items():
        (run / name).mkdir()
        (run / name / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (run / "rl" / "summary.json").write_text(json.dumps({"algorithm": "reinforce_pp"}))
    for name, answered in (("eval-before", 0.0), ("eval", 0.75)):
        (run / name).mkdir()
        (run / name / "metrics.json").write_text(
            json.dumps(
                {
                    "datasets": {
                        "ramp:tasks": {"f1": 0.125, "answered": answered, "searches_per_question": 1.5}
                    }
                }
            )
        )
    r = collect(str(run))
    text = table(r)
    stats = json.loads((demo_data / "data" / "stats.json").read_text())
    assert f"{stats['passages']} -> {stats['tasks']}, {stats['rejects']}" in text
    assert "3.000 -> 1.500 (2 steps)" in text and "0.000 -> 0.250 (2 steps, KL 0.0100)" in text
    assert "ramp:tasks: F1 0.125, answered 75 %, 1.50 searches" in text
    assert "traces" not in text  # stages that did not run are left out, not shown as zeros
    written = plots(r, str(run / "plots"))
    assert [p.split("/")[-1] for p in written] == ["masks.png", "training.png"]
    for p in written:
        with open(p, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
