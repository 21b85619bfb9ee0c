"""The command functions of the agents stages: ``ramp index``, ``search``,
``serve-retriever``, ``traces``, ``merge-traces``, ``simulator-data`` and ``models prepare``.

Each takes the parsed arguments and the extra ``key=value`` words, loads its config
(:func:`ramp.config.stage_config`), runs one function, prints the result and returns the
exit code. The parser is in :mod:`ramp.cli`, which imports this module only when one of
these commands runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from ramp.config import given, stage_config

log = logging.getLogger(__name__)


def index(args: argparse.Namespace, extra: list[str]) -> int:
    from agents.search import build_index
    from ramp.config import parse_overrides

    manifest = build_index(args.corpus, args.output, args.backend, parse_overrides(extra))
    print(json.dumps(manifest, indent=2))
    return 0


def search(args: argparse.Namespace, extra: list[str]) -> int:
    from agents.search import open_index
    from ramp.search import format_information

    retriever = open_index(args.index)
    for query, hits in zip(args.query, retriever.search(args.query, args.k)):
        print(f"query: {query}")
        print(format_information(hits) if hits else "(no hits)")
    return 0


def serve_retriever(args: argparse.Namespace, extra: list[str]) -> int:
    from agents.search import open_index
    from agents.search.index import read_manifest
    from agents.search.server import make_server

    if args.index.startswith("simulated:"):  # a (trained) ZeroSearch simulator, not an index
        info = {"backend": "simulated", "model": args.index.split(":", 1)[1]}
    else:
        manifest = read_manifest(args.index)
        info = {"backend": manifest["backend"], "documents": manifest["corpus"]["documents"]}
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning(
            "listening on %s with no authentication: anyone who can reach this port can query it; "
            "keep it on a private network",
            args.host,
        )
    retriever = open_index(args.index)
    try:
        server = make_server(
            retriever,
            args.host,
            args.port,
            info,
            max_results=args.max_results,
            client_timeout=args.client_timeout,
        )
    except OSError as exc:
        raise OSError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    host, port = server.server_address[:2]
    print(f"serving {args.index} on http://{host}:{port}/retrieve", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def traces(args: argparse.Namespace, extra: list[str]) -> int:
    from agents.traces import TracesConfig, format_trace, read_traces, run

    flags = given(
        tasks=args.tasks,
        index=args.index,
        output=args.output,
        limit=args.limit,
        teacher=args.teacher,
        overwrite=args.overwrite or None,
    )
    cfg = stage_config(TracesConfig, "traces", args.config, extra, flags)
    stats = run(cfg)
    print(f"ramp traces -> {cfg.output}  (teacher {stats['teacher']})")
    for key in (
        "tasks",
        "traces",
        "accepted",
        "acceptance_rate",
        "searches_per_trace",
        "mean_f1",
        "rejects",
        "seconds",
    ):
        print(f"  {key:<22} {stats[key]}")
    for reason, n in sorted(stats["rejects_by_reason"].items()):
        print(f"  reject {reason:<30} {n}")
    if stats["infrastructure_failures"] == stats["tasks"]:
        where = cfg.llm.base_url or cfg.llm.model or cfg.teacher
        print(
            f"ramp traces: error: every task failed on the LLM (llm_error; is {where} up?); "
            "a rerun of the same command retries them",
            file=sys.stderr,
        )
        return 1
    accepted = [t for t in read_traces(cfg.output) if t["accepted"]]
    if accepted and args.show:
        print("\none accepted trace:\n" + format_trace(min(accepted, key=lambda t: t["id"])))
    return 0


def answerability(args: argparse.Namespace, extra: list[str]) -> int:
    from agents.answerability import AnswerabilityConfig, run

    flags = given(tasks=args.tasks, index=args.index, output=args.output, topk=args.topk)
    cfg = stage_config(AnswerabilityConfig, None, args.config, extra, flags)
    stats = run(cfg)
    print(f"ramp answerability -> {cfg.output}  (top {cfg.topk}, {cfg.index})")
    for name in ("source_passage_hidden", "source_article_hidden"):
        r = stats[name]
        print(
            f"  {name:<22} masks {r['masks']}: {100 * r['masks_answerable']:.1f} % answerable; "
            f"tasks {r['tasks']}: {100 * r['tasks_answerable']:.1f} % all masks, "
            f"{100 * r['tasks_with_one_answerable_mask']:.1f} % one"
        )
    return 0


def merge_traces(args: argparse.Namespace, extra: list[str]) -> int:
    from agents.traces import merge_rounds

    print(json.dumps(merge_rounds(args.inputs, args.output, not args.all), indent=2))
    return 0


def simulator_data(args: argparse.Namespace, extra: list[str]) -> int:
    from agents.simulator_data import SimulatorDataConfig, run

    flags = given(traces=args.traces, output=args.output)
    cfg = stage_config(SimulatorDataConfig, None, args.config, extra, flags)
    stats = run(cfg)
    print(f"ramp simulator-data -> {cfg.output}  (label by {cfg.label_by})")
    for key in ("traces", "tasks", "pairs", "by_label", "has_gold_by_label", "by_split", "rejects"):
        print(f"  {key:<18} {stats[key]}")
    for reason, n in stats["rejects_by_reason"].items():
        print(f"  reject {reason:<26} {n}")
    return 0


def models(args: argparse.Namespace, extra: list[str]) -> int:
    from agents.models import resolve

    for ref in args.model:
        print(f"{ref} -> {resolve(ref)}")
    return 0
