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
    "a",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "but",
    "by",
    "for",
    "if",
    "in",
    "into",
    "is",
    "it",
    "no",
    "not",
    "of",
    "on",
    "or",
    "such",
    "that",
    "the",
    "their",
    "then",
    "there",
    "these",
    "they",
    "this",
    "to",
    "was",
    "will",
    "with",
]
# An approximation of Lucene's StandardTokenizer (Unicode word boundaries, UAX #29): a
# token is a run of word characters; letters joined by . ' ’ : stay one token
# ("U.S", "don't"), and so do digits joined by . , ; ' ("3.14", "2,000").
# Han and Hiragana characters are single tokens, as in Lucene. (``regex`` V1 syntax.)
_W = r"[[\w\p{M}]--[\p{Han}\p{Hiragana}]]"
LUCENE_TOKEN = (
    rf"\p{{Han}}|\p{{Hiragana}}|{_W}+(?:(?:(?<=[\p{{L}}\p{{M}}])[.'\u2019:](?=\p{{L}})"
    rf"|(?<=\d)[.,;'\u2019](?=\d)){_W}+)*"
)
# The same rule for ASCII text with the faster ``re`` engine (most queries and passages).
_ASCII_TOKEN = re.compile(r"\w+(?:(?:(?<=[a-z])[.':](?=[a-z])|(?<=\d)[.,;'](?=\d))\w+)*", re.ASCII)
_POSSESSIVE_END = ("'s", "\u2019s")


@dataclass
class Bm25Params:
    k1: float = 0.9
    b: float = 0.4
    method: str = "lucene"
    stemmer: str = "porter"  # Lucene's PorterStemFilter; "english" = Snowball
    token_pattern: str = LUCENE_TOKEN
    lucene_norms: bool = True  # quantise document lengths as Lucene does (SmallFloat, 1 byte)


class Bm25Tokenizer:
    """Lower case, Lucene-like tokens, possessive 's dropped, Lucene stop words, Porter stems."""

    def __init__(self, params: Bm25Params):
        import regex
        import Stemmer

        self.params = params
        self.stem = Stemmer.Stemmer(params.stemmer).stemWords
        self.pattern = regex.compile(params.token_pattern, regex.V1)
        self.ascii = _ASCII_TOKEN if params.token_pattern == LUCENE_TOKEN else self.pattern
        self.stop = frozenset(LUCENE_STOPWORDS)
        self.lucene_porter = params.stemmer == "porter"

    def __call__(self, text: str) -> list[str]:
        words = []
        text = text.lower()
        pattern = self.ascii if text.isascii() else self.pattern
        for w in pattern.findall(text):
            if w.endswith(_POSSESSIVE_END):
                w = w[:-2]
            if w and w not in self.stop:
                words.append(w)
        stems = self.stem(words)
        if not self.lucene_porter:
            return stems
        return [w if len(w) <= 2 else lucene_porter_fix(s) for w, s in zip(words, stems)]


def porter_measure(stem: str) -> int:
    """Porter's m: the number of vowel-consonant sequences in ``stem``."""
    kinds = []
    for i, ch in enumerate(stem):
        vowel = ch in "aeiou" or (ch == "y" and i > 0 and kinds[-1] == "C")
        kinds.append("V" if vowel else "C")
    return "".join(kinds).count("VC")


def lucene_porter_fix(stem: str) -> str:
    """Lucene's PorterStemmer is Porter's reference code, which departs from the published
    algorithm (and from Snowball's porter) in step 2: "logi" -> "log" and "bli" -> "ble"
    (whose final e step 5 then drops), when the stem before the suffix has m > 0."""
    for suffix in ("logi", "bli"):
        if stem.endswith(suffix) and porter_measure(stem[: -len(suffix)]) > 0:
            return stem[:-1]
    return stem


def _int4(i: int) -> int:
    bits = i.bit_length()
    if bits < 4:
        return i
    shift = bits - 4
    return ((i >> shift) & 0x07) | ((shift + 1) << 3)


def _int4_to_long(i: int) -> int:
    bits, shift = i & 0x07, (i >> 3) - 1
    return bits if shift == -1 else (bits | 0x08) << shift


_FREE = 255 - _int4(2**31 - 1)  # lengths below this are stored exactly (24)


def lucene_length(length: int) -> int:
    """The document length Lucene's BM25 sees after its 1-byte norm (SmallFloat.intToByte4)."""
    if length < _FREE:
        return length
    return _FREE + _int4_to_long(_int4(length - _FREE))


def _lucene_bm25(params: Bm25Params):
    """bm25s.BM25 whose index uses Lucene's quantised document lengths.

    ``build_index_from_ids`` is bm25s's documented override point; scoring (idf and the
    length-normalised tf of BM25Similarity) is Lucene's, as in bm25s's ``lucene`` method.
    """
    import bm25s
    import scipy.sparse as sp

    class LuceneNormBM25(bm25s.BM25):
        def build_index_from_ids(
            self, unique_token_ids, corpus_token_ids, show_progress=True, leave_progress=False
        ):
            self.nonoccurrence_array = None  # only BM25L/BM25+ use it
            n_docs, n_vocab = len(corpus_token_ids), len(unique_token_ids)
            lengths = [len(ids) for ids in corpus_token_ids]
            avgdl = np.float32(sum(lengths) / max(n_docs, 1))
            rows, cols, tfs = [], [], []
            for doc, ids in enumerate(corpus_token_ids):
                terms, counts = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
                rows.append(np.full(len(terms), doc, dtype=np.int64))
                cols.append(terms)
                tfs.append(counts)
            rows_a = np.concatenate(rows) if rows else np.zeros(0, np.int64)
            cols_a = np.concatenate(cols) if cols else np.zeros(0, np.int64)
            tf = (np.concatenate(tfs) if tfs else np.zeros(0)).astype(np.float32)
            df = np.bincount(cols_a, minlength=n_vocab).astype(np.float64)
            idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
            qlen = np.array([lucene_length(n) for n in lengths], dtype=np.float32)
            norm = np.float32(self.k1) * (np.float32(1 - self.b) + np.float32(self.b) * qlen[rows_a] / avgdl)
            scores = (idf[cols_a] * tf / (tf + norm)).astype(self.dtype)
            matrix = sp.csc_matrix((scores, (rows_a, cols_a)), shape=(n_docs, n_vocab), dtype=self.dtype)
            return {
                "data": matrix.data,
                "indices": matrix.indices,
                "indptr": matrix.indptr,
                "num_docs": n_docs,
            }

    return LuceneNormBM25(k1=params.k1, b=params.b, method=params.method)


def build(docs: list[tuple[str, str, str]], out: Path, params: Bm25Params) -> None:
    import bm25s

    tok = Bm25Tokenizer(params)
    if params.lucene_norms and params.method == "lucene":
        retriever = _lucene_bm25(params)
    else:
        retriever = bm25s.BM25(k1=params.k1, b=params.b, method=params.method)
    # the vocabulary in first-occurrence order: bm25s builds it from a set, whose order (and
    # so the index bytes) changed with PYTHONHASHSEED
    from bm25s.tokenization import Tokenized

    vocab: dict[str, int] = {}
    from ramp.logs import progress

    ids = [
        [vocab.setdefault(t, len(vocab)) for t in tok(contents)]
        for _, _, contents in progress(docs, desc="bm25s: tokenize", unit="doc")
    ]
    retriever.index(Tokenized(ids=ids, vocab=vocab), show_progress=False)
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

    def search(
        self, queries: Sequence[str], k: int, exclude_ids: Sequence[Sequence[str]] | None = None
    ) -> list[list[Hit]]:
        excluded = check_exclude(queries, exclude_ids)
        extra = max((len(e) for e in excluded), default=0)
        fetch = min(k + extra, len(self.docs))
        results: list[list[Hit]] = [[] for _ in queries]
        token_ids = [self._terms(q) for q in queries]
        todo = [i for i, ids in enumerate(token_ids) if ids]
        if not todo or fetch == 0:
            return results
        rows, scores = self.model.retrieve(
            [token_ids[i] for i in todo], k=fetch, show_progress=False, n_threads=0
        )
        keep = scores > 0  # documents sharing no term with the query are not hits
        flat = self.docs.hits(rows[keep].tolist(), scores[keep].tolist())
        counts = keep.sum(axis=1).tolist()
        pos = 0
        for n, i in zip(counts, todo):
            hits = [h for h in flat[pos : pos + n] if h.id not in excluded[i]]
            results[i] = hits[:k]
            pos += n
        return results
