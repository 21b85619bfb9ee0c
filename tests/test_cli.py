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


def one_line_error(capsys, argv, code=2):
    """Run ``ramp`` in-process; return its only stderr line (the error)."""
    from ramp.cli import main

    assert main(argv) == code
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


def test_user_errors_are_one_line_naming_the_cause(tmp_path, capsys, demo_data):
    """D11, D14: each of these ended in a traceback of 20-108 lines (a Beam worker's, for the
    masking values and the spaCy model) instead of one line naming the key, file or line."""
    sample = str(SAMPLES / "vital_articles_300.jsonl.gz")
    data = ["data", "--input", sample, "--output", str(tmp_path / "out"), "--limit", "2"]
    (tmp_path / "afile").write_text("")
    (tmp_path / "bad.yaml").write_text("seed: [1\n")
    (tmp_path / "typed.yaml").write_text("seed: x\n")
    (tmp_path / "qa.jsonl").write_text('{"question": "q", "answer": "a"}\n')
    (tmp_path / "corpus.jsonl").write_text('{"id": "1", "contents": "\\"A\\"\\nx"}\nnot json\n')
    tasks, index = str(demo_data / "data" / "tasks"), str(demo_data / "index")
    cases = [
        (["data", "--input", sample, "--output", str(tmp_path / "afile" / "out")], "Not a directory"),
        ([*data, "--config", str(tmp_path / "bad.yaml")], "bad.yaml:2: not valid YAML"),
        ([*data, "--config", str(tmp_path / "typed.yaml")], "typed.yaml: seed: expected an integer"),
        ([*data, "seed=x"], "command line: seed: expected an integer"),
        ([*data, "spacy.model=en_core_web_xx"], "spacy.model: 'en_core_web_xx' is neither"),
        ([*data, "masking.max_masks=0"], "masking.max_masks must be >= 1"),
        ([*data, "masking.strategy=bogus"], "masking.strategy: unknown 'bogus'"),
        ([*data, "shards=0"], "shards must be >= 1"),
        (
            ["traces", "--tasks", tasks, "--index", index, "--output", str(tmp_path / "t"), "shard_size=0"],
            "shard_size must be >= 1",
        ),
        (
            ["traces", "--tasks", tasks, "--index", index, "--output", str(tmp_path / "afile" / "t")],
            "Not a directory",
        ),
        (
            ["index", "--corpus", str(tmp_path / "corpus.jsonl"), "--output", str(tmp_path / "i")],
            "corpus.jsonl:2: not a corpus record",
        ),
        (
            [
                "eval",
                "--data",
                str(tmp_path / "qa.jsonl"),
                "--index",
                index,
                "--output",
                str(tmp_path / "e"),
                "--model",
                str(tmp_path / "no-such-model"),
            ],
            "no such checkpoint directory",
        ),
    ]
    for argv, expect in cases:
        assert expect in one_line_error(capsys, argv), argv


def test_a_port_in_use_is_one_line(demo_data, capsys):
    """D14: ``serve-retriever`` on a taken port ended in an OSError traceback."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = ["serve-retriever", "--index", str(demo_data / "index"), "--port", str(port)]
        assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in one_line_error(capsys, argv)


def test_a_run_that_keeps_no_task_says_so_and_fails(tmp_path, capsys):
    """A ``ramp data`` run whose every record was rejected exited 0 with no warning."""
    from ramp.cli import main

    (tmp_path / "in.jsonl").write_text("not json\n" + json.dumps({"id": 1, "title": "T", "text": ""}) + "\n")
    assert main(["data", "--input", str(tmp_path / "in.jsonl"), "--output", str(tmp_path / "out")]) == 1
    assert "no task survived: all 2 records were rejected" in capsys.readouterr().err
