"""``ramp index``: build an index directory atomically; open any index by its manifest.

An index directory holds ``manifest.json`` (backend, parameters, corpus hash, document
count), ``docs.arrow`` (the documents, memory-mapped) and the backend's files. It is
built in a temporary sibling directory and renamed into place only when complete, so a
killed build never leaves a directory that loads as an index.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from agents.search.docstore import DocStore, file_sha256, read_corpus, write_docs
from ramp.logs import progress
from ramp.records import check_complete
from ramp.search import Retriever

MANIFEST = "manifest.json"
BACKENDS = ("bm25s", "lucene", "dense")


class IndexError_(ValueError):
    """A directory that is not a complete index."""


def _params(backend: str, overrides: dict[str, Any] | None):
    if backend == "bm25s":
        from agents.search.bm25 import Bm25Params as cls
    elif backend == "lucene":
        from agents.search.lucene import LuceneParams as cls
    elif backend == "dense":
        from agents.search.dense import DenseParams as cls
    else:
        raise ValueError(f"unknown backend {backend!r}; choose from {BACKENDS}")
    from ramp.config import from_dict

    return from_dict(cls, overrides or {}, f"{backend} params")


def remove_stale_builds(output: Path) -> list[Path]:
    """Remove the ``.NAME.building-PID-*`` / ``.NAME.old-PID`` dirs of builds whose process is
    gone (a killed build left them forever)."""
    removed = []
    for path in output.parent.glob(f".{output.name}.*"):
        kind, _, rest = path.name[len(output.name) + 2 :].partition("-")
        pid = rest.split("-", 1)[0]
        if kind not in ("building", "old") or not pid.isdigit() or _alive(int(pid)):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def build_index(
    corpus: str | Path, output: str | Path, backend: str = "bm25s", params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Index ``corpus`` (wiki-18 JSONL) into ``output``; returns the manifest."""
    corpus, output = Path(corpus), Path(output)
    p = _params(backend, params)
    check_complete(str(corpus))
    docs = list(progress(read_corpus(corpus), desc=f"read {corpus.name}", unit="doc"))
    if not docs:
        raise ValueError(f"{corpus} holds no documents")
    ids = [d[0] for d in docs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{corpus} repeats document ids")
    output.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(output)
    tmp = Path(tempfile.mkdtemp(prefix=f".{output.name}.building-{os.getpid()}-", dir=output.parent))
    tmp.chmod(0o755)  # mkdtemp makes it 0700: the index dir would be unreadable to others
    try:
        write_docs(tmp / "docs.arrow", docs)
        if backend == "bm25s":
            from agents.search import bm25

            bm25.build(docs, tmp, p)
        elif backend == "lucene":
            from agents.search import lucene

            lucene.build(corpus, docs, tmp, p)
        else:
            from agents.search import dense

            dense.build(docs, tmp, p)
        manifest = {
            "backend": backend,
            "params": dataclasses.asdict(p),
            "corpus": {"file": corpus.name, "sha256": file_sha256(corpus), "documents": len(docs)},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        old = None
        if output.exists():
            old = output.with_name(f".{output.name}.old-{os.getpid()}")
            os.replace(output, old)
        os.replace(tmp, output)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


def read_manifest(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        return json.loads((path / MANIFEST).read_text())
    except FileNotFoundError:
        raise IndexError_(f"{path} is not an index (no {MANIFEST}; was its build interrupted?)") from None


def open_index(path: str | Path, **options: Any) -> Retriever:
    """The retriever for an index directory (chosen by its manifest), a server URL, or
    ``simulated:MODEL``: ZeroSearch's engine on a (fine-tuned) simulator model, useful mode
    (outside RL nobody tells it the gold; the noise schedule is RL's)."""
    if str(path).startswith("simulated:"):
        from agents.llm.hf import HFBackend
        from agents.search.simulated import SimulatedConfig, SimulatedSearchEngine

        model = str(path).split(":", 1)[1]
        if not model:
            raise ValueError("simulated:MODEL needs a model (e.g. simulated:runs/sim/simulator/final)")
        return SimulatedSearchEngine(HFBackend(model, batch_size=8), SimulatedConfig(model=model, **options))
    if str(path).startswith(("http://", "https://")):
        from agents.search.http import HttpRetriever

        return HttpRetriever(str(path), **options)
    path = Path(path)
    if not (path / MANIFEST).exists():
        from agents.search.lucene import LuceneRetriever, is_lucene_index

        if is_lucene_index(path):  # a prebuilt index, e.g. Search-R1's wiki-18 BM25
            return LuceneRetriever(path)
    manifest = read_manifest(path)
    backend = manifest["backend"]
    params = _params(backend, manifest["params"])
    if backend == "lucene":
        from agents.search.lucene import LuceneRetriever

        return LuceneRetriever(path / "lucene", params)
    docs = DocStore(path / "docs.arrow")
    if backend == "bm25s":
        from agents.search.bm25 import Bm25sRetriever

        return Bm25sRetriever(path, params, docs)
    from agents.search.dense import DenseRetriever

    return DenseRetriever(path, params, docs, **options)
