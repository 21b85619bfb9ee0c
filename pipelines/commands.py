"""The command functions of the pipelines stages: ``ramp data``, ``curriculum`` and ``publish``.

Each takes the parsed arguments and the extra ``key=value`` words, loads its config
(:func:`ramp.config.stage_config`), runs one function, prints the result and returns the
exit code. The parser is in :mod:`ramp.cli`, which imports this module only when one of
these commands runs.
"""

from __future__ import annotations

import argparse
import json
import sys

from ramp.config import given, stage_config


def _split_extra(extra: list[str]) -> tuple[list[str], list[str]]:
    """Unknown words: ``key=value`` overrides, everything else goes to Beam."""
    overrides = [e for e in extra if "=" in e and not e.startswith("-")]
    passthrough = [e for e in extra if e not in overrides]
    return overrides, passthrough


def data(args: argparse.Namespace, extra: list[str]) -> int:
    from pipelines.config import DataConfig
    from pipelines.data import run
    from pipelines.report import print_summary

    overrides, beam_args = _split_extra(extra)
    flags = given(
        input=args.input,
        output=args.output,
        num_workers=args.num_workers,
        seed=args.seed,
        limit=args.limit,
        masking={"strategy": args.strategy} if args.strategy else None,
    )
    if beam_args:
        flags["beam_args"] = beam_args
    cfg = stage_config(DataConfig, "data", args.config, overrides, flags)
    stats = run(cfg)
    print_summary(stats, cfg.output)
    if not stats["tasks"]:
        print(
            f"ramp data: error: no task survived: all {stats['records_in']} records were rejected "
            f"(reasons above; rows in {cfg.output}/rejects)",
            file=sys.stderr,
        )
        return 1
    return 0


def curriculum(args: argparse.Namespace, extra: list[str]) -> int:
    from pipelines.curriculum import write_stages

    counts = write_stages(args.tasks, args.output, measure=args.measure)
    print(json.dumps(counts, indent=2))
    return 0


def publish(args: argparse.Namespace, extra: list[str]) -> int:
    from pipelines.publish import PublishError
    from pipelines.publish import publish as push

    try:
        where = push(args.dir, repo_id=args.repo_id, local_dir=args.local_dir, private=args.private)
    except PublishError as exc:
        print(f"ramp publish: {exc}", file=sys.stderr)
        return 2
    print(f"published to {where}")
    return 0
