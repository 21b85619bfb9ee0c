"""BM25 with bm25s (no JVM): Lucene's scoring, Porter stemming and Lucene's stop words."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agents.search.docstore import DocStore
from ramp.search import Hit, check_exclude

# Lucene's EnglishAnalyzer stop set, so bm25s and Lucene score the same terms.
LUCENE_STOPWORDS = [
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
]
_POSSESSIVE = re.compile(r"(\w)['\u2019]s\b")


@dataclass
class Bm25Params:
    k1: float = 0.9
    b: float = 0.4
    method: str = "lucene"
    stemmer: str = "porter"  # Lucene's PorterStemFilter; "english" = Snowball
    token_pattern: str = r"(?u)\b\w+\b"


class Bm25Tokenizer:
    def __init__(self, params: Bm25Params):
        import Stemmer

        self.params = params
        self.stem = Stemmer.Stemmer(params.stemmer).stemWords
        self.pattern = re.compile(params.token_pattern)
        self.stop = frozenset(LUCENE_STOPWORDS)

    def __call__(self, text: str) -> list[str]:
        words = self.pattern.findall(_POSSESSIVE.sub(r"\1", text.lower()))
        return self.stem([w for w in words if w not in self.stop])


def build(docs: list[tuple[str, str, str]], out: Path, params: Bm25Params) -> None:
    import bm25s

    tok = Bm25Tokenizer(params)
    retriever = bm25s.BM25(k1=params.k1, b=params.b, method=params.method)
    retriever.index([tok(contents) for _, _, contents in docs], show_progress=False)
    retriever.save(str(out / "bm25s"), show_progress=False)


class Bm25sRetriever:
    """Loads the index memory-mapped; answers a batch of queries in one call."""

    def __init__(self, path: Path, params: Bm25Params, docs: DocStore):
        import bm25s

        self.params, self.docs = params, docs
        self.tokenize = Bm25Tokenizer(params)
        self.model = bm25s.BM25.load(str(path / "bm25s"), mmap=True)
        self.vocab = self.model.vocab_dict

    def _terms(self, query: str) -> list[str]:
        return [t for t in self.tokenize(query) if t in self.vocab]

    def search(self, queries: Sequence[str], k: int,
               exclude_ids: Sequence[Sequence[str]] | None = None) -> list[list[Hit]]:
        excluded = check_exclude(queries, exclude_ids)
        extra = max((len(e) for e in excluded), default=0)
        fetch = min(k + extra, len(self.docs))
        results: list[list[Hit]] = [[] for _ in queries]
        token_ids = [self._terms(q) for q in queries]
        todo = [i for i, ids in enumerate(token_ids) if ids]
        if not todo or fetch == 0:
            return results
        rows, scores = self.model.retrieve([token_ids[i] for i in todo], k=fetch,
                                           show_progress=False, n_threads=0)
        for pos, i in enumerate(todo):
            hits = []
            for row, score in zip(rows[pos], scores[pos]):
                if score <= 0:
                    break
                hit = self.docs.hit(int(row), float(score))
                if hit.id in excluded[i]:
                    continue
                hits.append(hit)
                if len(hits) == k:
                    break
            results[i] = hits
        return results


def scores_for(retriever: Bm25sRetriever, query: str) -> np.ndarray:
    """All document scores of one query (for tests and diagnostics)."""
    return retriever.model.get_scores(retriever._terms(query))
