"""The layers hold: ``ramp/`` is the pure core, the CLI only dispatches, tests share one
helper module."""

import ast
import subprocess
import sys

from tests.conftest import ROOT

STAGES = ("pipelines", "agents", "training")
FRAMEWORKS = ("apache_beam", "torch", "transformers", "trl", "accelerate", "verl", "vllm", "spacy")


def imported(path) -> set[str]:
    """Top-level package names a module imports, at any depth (function-level imports too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_core_imports_no_framework_and_no_stage():
    for path in sorted((ROOT / "ramp").glob("*.py")):
        bad = imported(path) & {*STAGES, *FRAMEWORKS}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_importing_the_whole_core_and_the_cli_loads_no_framework():
    modules = sorted(p.stem for p in (ROOT / "ramp").glob("*.py") if p.stem != "__init__")
    code = (
        "import sys\n"
        + "".join(f"import ramp.{m}\n" for m in modules)
        + "from ramp.cli import build_parser\nbuild_parser()\n"
        + f"print(sorted(m for m in sys.modules if m.split('.')[0] in {(*STAGES, *FRAMEWORKS)!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_subcommand_names_a_command_function_that_exists():
    import importlib

    from ramp.cli import build_parser

    parser = build_parser()
    targets = []
    for action in parser._subparsers._group_actions:
        for sub in action.choices.values():
            func = sub.get_default("func")
            if func is None:  # `ramp models` holds its own subcommands
                for inner in sub._subparsers._group_actions[0].choices.values():
                    targets.append(inner.get_default("func"))
            else:
                targets.append(func)
    assert len(targets) == 17
    for target in targets:
        module, name = target.split(":")
        assert module.split(".")[0] in STAGES and module.endswith(".commands")
        assert callable(getattr(importlib.import_module(module), name)), target


def test_test_modules_share_fakes_through_tests_helpers_only():
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tests."):
                assert node.module in ("tests.conftest", "tests.helpers"), (
                    f"{path.relative_to(ROOT)} imports {node.module}"
                )
