"""The command functions of the training stages: ``ramp sft``, ``rl``, ``eval``,
``show-mask``, ``export-verl`` and ``report``.

Each takes the parsed arguments and the extra ``key=value`` words, loads its config
(:func:`ramp.config.stage_config`), runs one function, prints the result and returns the
exit code. The parser is in :mod:`ramp.cli`, which imports this module only when one of
these commands runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from ramp.config import given, stage_config


def _train(cfg_class, train, stage: str, args: argparse.Namespace, extra: list[str]) -> int:
    """``ramp sft`` / ``ramp rl``: the config, the run, the summary (printed by rank 0)."""
    from training import engine

    summary = train(stage_config(cfg_class, stage, args.config, extra))
    if engine.rank() == 0:
        print(json.dumps(summary, indent=2))
    return 0


def sft(args: argparse.Namespace, extra: list[str]) -> int:
    from training.sft import SFTConfig, train

    return _train(SFTConfig, train, "sft", args, extra)


def rl(args: argparse.Namespace, extra: list[str]) -> int:
    from training.rl import RLConfig, train

    return _train(RLConfig, train, "rl", args, extra)


def run_eval(args: argparse.Namespace, extra: list[str]) -> int:
    from training.eval import EvalConfig, all_failed, evaluate, format_table

    flags = given(data=args.data, index=args.index, model=args.model, output=args.output, limit=args.limit)
    loop = given(max_turns=args.max_turns, topk=args.topk)
    if loop:
        flags["loop"] = loop
    cfg = stage_config(EvalConfig, "eval", args.config, extra, flags)
    result = evaluate(cfg)
    print(format_table(result))
    failed = all_failed(result)
    if failed:
        print(
            f"ramp eval: error: every item of {', '.join(failed)} failed on the LLM "
            f"(see the error column of {cfg.output}/predictions.parquet); no score",
            file=sys.stderr,
        )
        return 1
    return 0


def show_mask(args: argparse.Namespace, extra: list[str]) -> int:
    from transformers import AutoTokenizer

    from agents.models import resolve
    from agents.traces import read_traces
    from training.render import render_conversation

    tokenizer = AutoTokenizer.from_pretrained(resolve(args.model))
    traces = sorted(read_traces(args.traces), key=lambda t: t["id"])[: args.n]
    shown = []
    for t in traces:
        ids, mask = render_conversation(tokenizer, t["messages"])
        tokens = [tokenizer.decode([i]) for i in ids]
        shown.append({"trace_id": t["id"], "tokens": tokens, "mask": mask})
    if args.json:
        print(json.dumps(shown, ensure_ascii=False))
        return 0
    for item in shown:
        print(
            f"trace {item['trace_id']}: {sum(item['mask'])} of {len(item['mask'])} tokens "
            "trained (between \u27e6 and \u27e7)"
        )
        out, inside = [], False
        for tok, m in zip(item["tokens"], item["mask"]):
            if m and not inside:
                out.append("\u27e6")
            if not m and inside:
                out.append("\u27e7")
            inside = bool(m)
            out.append(tok)
        print("".join(out) + ("\u27e7" if inside else ""))
    return 0


def export_verl(args: argparse.Namespace, extra: list[str]) -> int:
    from training.verl_export import export_verl

    counts = export_verl(args.tasks, args.output, exclude_source=args.exclude_source)
    print(json.dumps(counts))
    return 0


def report(args: argparse.Namespace, extra: list[str]) -> int:
    from training.report import collect, plots, table

    result = collect(args.run)
    print(f"RAMP run {args.run}")
    print(table(result))
    for path in plots(result, args.plots or os.path.join(args.run, "plots")):
        print(f"  plot: {path}")
    return 0
