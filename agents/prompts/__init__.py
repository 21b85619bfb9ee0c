"""Versioned prompt files. A prompt's version is part of its file name and is recorded
on every output row that used it, so changing a prompt means adding a new file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

DIR = Path(__file__).parent


@lru_cache(maxsize=None)
def load(name: str, version: str = "v1") -> str:
    path = DIR / f"{name}.{version}.txt"
    if not path.exists():
        raise FileNotFoundError(f"no prompt {name!r} version {version!r} ({path})")
    return path.read_text(encoding="utf-8")
