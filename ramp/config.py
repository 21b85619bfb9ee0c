"""Run configs: one YAML per run, dataclasses as the schema, ``key=value`` overrides.

A config file's first line is a comment with the command that runs it. Keys
are checked against the dataclass fields (a typo is an error, not a silent
default); nested dataclasses are addressed with dots: ``masking.strategy=random``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


class ConfigError(ValueError):
    """A config file or override that does not fit the schema."""


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _coerce(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if _is_dataclass_type(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return from_dict(tp, value, where)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _coerce(args[0], value, where) if len(args) == 1 else value
    if origin is list:
        (item,) = typing.get_args(tp) or (Any,)
        if isinstance(value, (str, int, float)):
            value = [value]
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return [_coerce(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, str):  # YAML 1.1 reads 1e-3 (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            return str(value)
        return value
    return value


def from_dict(cls: type[T], data: dict[str, Any], where: str = "config") -> T:
    """Build dataclass ``cls`` from a mapping; unknown keys are an error."""
    types_ = _field_types(cls)
    unknown = set(data) - set(types_)
    if unknown:
        inside = f"{where}: " if where else ""
        raise ConfigError(f"{inside}unknown key(s) {sorted(unknown)}; known: {sorted(types_)}")
    defaults = {
        f.name: f.default_factory
        for f in dataclasses.fields(cls)
        if f.default_factory is not dataclasses.MISSING
    }
    kwargs = {}
    for k, v in data.items():
        base = defaults[k]() if k in defaults else None
        if dataclasses.is_dataclass(base) and isinstance(v, dict):
            # a nested section keeps the defaults its parent gives it (RLConfig.loop differs
            # from LoopConfig's own), with the given keys on top
            v = merge(to_dict(base), v)
        kwargs[k] = _coerce(types_[k], v, f"{where}.{k}" if where else k)
    return cls(**kwargs)


def describe(cls: type, prefix: str = "", instance: Any = None) -> list[tuple[str, str, Any, str]]:
    """``(key, type, default, help)`` of every leaf field, nested sections as ``a.b``: what
    ``ramp <stage> --help`` prints. The help is the field's ``metadata["help"]``; a section's
    defaults are the ones its parent gives it."""
    instance = cls() if instance is None else instance
    hints = typing.get_type_hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        value = getattr(instance, f.name)
        if dataclasses.is_dataclass(value):
            rows += describe(type(value), f"{prefix}{f.name}.", value)
            continue
        tp = hints[f.name]
        name = getattr(tp, "__name__", None) if typing.get_origin(tp) is None else None
        rows.append(
            (prefix + f.name, name or str(tp).replace("typing.", ""), value, f.metadata.get("help", ""))
        )
    return rows


def to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["a.b=1", "c=x"]`` -> ``{"a": {"b": 1}, "c": "x"}`` (values parsed as YAML)."""
    tree: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not key=value")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw) if raw != "" else ""
        except yaml.YAMLError:
            value = raw  # not a YAML scalar or list (e.g. "a: [b"): the string as given
        node = tree
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return tree


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"


def given(**values: Any) -> dict[str, Any]:
    """The command-line flags a user gave (``None`` = not given), as config keys."""
    return {k: v for k, v in values.items() if v is not None}


def stage_config(
    cls: type[T],
    stage: str | None,
    path: str | Path | None,
    overrides: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> T:
    """:func:`load_config` from ``path``, or ``configs/<stage>/default.yaml`` when no file is
    given (the dataclass defaults when there is none)."""
    if path is None and stage is not None and (CONFIG_DIR / stage / "default.yaml").exists():
        path = CONFIG_DIR / stage / "default.yaml"
    return load_config(cls, path, overrides, extra)


def load_config(
    cls: type[T],
    path: str | Path | None = None,
    overrides: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> T:
    """Dataclass ``cls`` from a YAML file, then ``extra`` (CLI flags), then ``key=value``.

    An error names where the bad value came from: the file's keys are checked alone first,
    so an error in the merged config is one of the command line's."""
    data: dict[str, Any] = {}
    if path is not None:
        data = read_yaml(path)
        _checked(cls, data, str(path))
    if extra:
        data = merge(data, extra)
    if overrides:
        data = merge(data, parse_overrides(overrides))
    return _checked(cls, data, "command line")


def _checked(cls: type[T], data: dict[str, Any], source: str) -> T:
    try:
        return from_dict(cls, data, "")
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A config file's mapping; a syntax error is a :class:`ConfigError` naming the line."""
    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}{line}: not valid YAML: {problem}") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    return loaded
