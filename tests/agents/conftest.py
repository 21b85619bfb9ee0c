import gzip
import json
from pathlib import Path

import pytest

from tests.conftest import SAMPLES


def write_corpus(path: Path) -> Path:
    """The bundled 300 real Wikipedia leads as a wiki-18 corpus (one passage per article)."""
    with (
        gzip.open(SAMPLES / "vital_articles_300.jsonl.gz", "rt", encoding="utf-8") as src,
        path.open("w", encoding="utf-8") as out,
    ):
        for line in src:
            obj = json.loads(line)
            out.write(json.dumps({"id": obj["id"], "contents": obj["contents"]}) + "\n")
    return path


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus") / "corpus.jsonl")


@pytest.fixture(scope="session")
def bm25_index(corpus, tmp_path_factory) -> Path:
    from agents.search import build_index

    out = tmp_path_factory.mktemp("idx") / "bm25"
    build_index(corpus, out, "bm25s")
    return out
