"""One source per config: the dataclass holds every default and its help; a shipped YAML
lists only what it changes, and its first line is the command that uses it."""

import importlib
from pathlib import Path

import pytest
import yaml

from ramp.cli import CONFIGS
from ramp.config import CONFIG_DIR, describe, load_config

STAGE_DIRS = {"data": "data", "traces": "traces", "sft": "sft", "rl": "rl", "eval": "eval"}


def config_class(stage: str):
    module, name = CONFIGS[stage].split(":")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("stage", sorted(CONFIGS))
def test_every_key_has_help(stage):
    missing = [key for key, _, _, text in describe(config_class(stage)) if not text]
    assert not missing, f"{stage}: no help for {missing}"


def _leaves(tree: dict, prefix: str = ""):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield prefix + key, value


YAMLS = [(stage, path) for stage, d in STAGE_DIRS.items() for path in sorted((CONFIG_DIR / d).glob("*.yaml"))]


@pytest.mark.parametrize("stage,path", YAMLS, ids=[f"{s}/{p.name}" for s, p in YAMLS])
def test_shipped_yamls_list_only_what_they_change(stage, path: Path):
    cls = config_class(stage)
    assert path.read_text().startswith(f"# ramp {stage}"), f"{path}: line 1 must be the command"
    load_config(cls, path)  # it loads
    defaults = {key: default for key, _, default, _ in describe(cls)}
    data = yaml.safe_load(path.read_text()) or {}
    same = [key for key, value in _leaves(data) if key in defaults and _equal(value, defaults[key])]
    assert not same, f"{path.name} repeats the defaults of {same}"


def _equal(value, default) -> bool:
    if isinstance(default, float) and isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            return float(value) == default
        except ValueError:
            return False
    return value == default
