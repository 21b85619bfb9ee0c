"""Logging levels and progress bars (ramp.logs): one switch for every stage."""

import logging

from ramp import logs


def test_levels_follow_verbose_and_quiet(monkeypatch):
    monkeypatch.delenv("RAMP_PROGRESS", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    logs.setup(0)
    assert logging.getLogger("agents.traces").getEffectiveLevel() == logging.INFO
    assert logging.getLogger("apache_beam").getEffectiveLevel() == logging.ERROR
    logs.setup(1)
    assert logging.getLogger("training.sft").getEffectiveLevel() == logging.DEBUG
    assert logging.getLogger("transformers").getEffectiveLevel() == logging.INFO
    logs.setup(-1)
    assert logging.getLogger("pipelines").getEffectiveLevel() == logging.WARNING
    assert not logs.progress_enabled()  # --quiet: no bars, in launched processes too
    monkeypatch.setenv("RANK", "1")
    logs.setup(0)
    assert logging.getLogger("training").getEffectiveLevel() == logging.WARNING  # rank 0 logs


def test_no_bars_in_ci_or_without_a_terminal(monkeypatch):
    monkeypatch.delenv("RAMP_PROGRESS", raising=False)
    monkeypatch.setenv("CI", "true")
    assert not logs.progress_enabled()
    monkeypatch.delenv("CI")
    assert logs.progress_enabled() is __import__("sys").stderr.isatty()
    bar = logs.progress(range(3))
    assert list(bar) == [0, 1, 2]


def test_warnings_say_so_in_the_line():
    fmt = logs._Formatter("%(name)s: %(message)s")
    rec = logging.LogRecord("agents.commands", logging.WARNING, __file__, 1, "no auth", None, None)
    assert fmt.format(rec) == "agents.commands: warning: no auth"
    rec = logging.LogRecord("agents.traces", logging.INFO, __file__, 1, "shard 1/2", None, None)
    assert fmt.format(rec) == "agents.traces: shard 1/2"


def test_a_library_that_sets_its_logger_to_debug_stays_quiet(monkeypatch, capsys):
    """bm25s sets its logger to DEBUG on import and logged "Building index ..." under --quiet."""
    monkeypatch.delenv("RANK", raising=False)
    logs.setup(0)
    chatty = logging.getLogger("bm25s")
    chatty.setLevel(logging.DEBUG)
    chatty.info("Building index from IDs objects")
    logging.getLogger("agents.search.index").info("index built")
    err = capsys.readouterr().err
    assert "Building index" not in err and "agents.search.index: index built" in err
