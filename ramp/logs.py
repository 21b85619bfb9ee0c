"""Logging and progress bars for every stage, configured once by the ``ramp`` command.

- RAMP's own loggers (``ramp``, ``pipelines``, ``agents``, ``training``) log at INFO to
  stderr; ``--verbose`` makes it DEBUG (and frameworks INFO), ``--quiet`` WARNING.
- Frameworks (Beam, transformers, httpx, ...) log import-time and per-worker chatter that
  is not about the user's run: they stay at ERROR unless ``--verbose``.
- Progress bars (tqdm, on stderr) show only on a terminal, never in CI, never with
  ``--quiet``. The choice is kept in ``RAMP_PROGRESS`` so that launched processes
  (torchrun ranks, Beam workers) follow it.
- Under ``torchrun`` / ``accelerate launch`` only rank 0 logs INFO.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable
from typing import Any

OWN = ("ramp", "pipelines", "agents", "training")
FRAMEWORKS = (
    "apache_beam",
    "transformers",
    "trl",
    "accelerate",
    "datasets",
    "httpx",
    "urllib3",
    "verl",
    "bm25s",
    "pyserini",
    "sentence_transformers",
)


def setup(verbosity: int = 0) -> None:
    """``verbosity``: -1 quiet, 0 default, 1 verbose."""
    own = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    if os.environ.get("RANK", "0") != "0":
        own = max(own, logging.WARNING)
    framework = logging.INFO if verbosity > 0 else logging.ERROR
    handler = _Stderr()
    handler.setFormatter(_Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
    handler.name = "ramp"
    # some libraries set their own logger to DEBUG on import (bm25s): the handler decides
    handler.addFilter(lambda r: r.levelno >= (own if r.name.split(".")[0] in OWN else framework))
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.name != "ramp"] + [handler]
    root.setLevel(framework)
    for name in OWN:
        logging.getLogger(name).setLevel(own)
    for name in FRAMEWORKS:
        logging.getLogger(name).setLevel(framework)
    if verbosity < 0:
        os.environ["RAMP_PROGRESS"] = "0"
    if not progress_enabled():  # the Hub's and transformers' own bars (weights loading) too
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


class _Stderr(logging.StreamHandler):
    """A handler on whatever ``sys.stderr`` is when a record is written (tests and notebooks
    swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


class _Formatter(logging.Formatter):
    """``12:00:00 agents.traces: message``; warnings and errors say so."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        if record.levelno >= logging.WARNING:
            head, _, tail = line.partition(": ")
            line = f"{head}: {record.levelname.lower()}: {tail}"
        return line


def progress_enabled() -> bool:
    """Bars only for a person watching: a TTY, not CI, not ``--quiet``, rank 0."""
    if os.environ.get("RAMP_PROGRESS") == "0" or os.environ.get("CI"):
        return False
    return os.environ.get("RANK", "0") == "0" and sys.stderr.isatty()


def progress(iterable: Iterable | None = None, **kwargs: Any):
    """``tqdm(iterable, **kwargs)``, drawn only when :func:`progress_enabled`."""
    from tqdm import tqdm

    return tqdm(iterable, disable=not progress_enabled(), dynamic_ncols=True, **kwargs)
