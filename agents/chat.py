"""Chat-template rendering shared by the SFT loss mask (``training/render.py``), the HF
backend and the token-mode agent loop: one place that knows a conversation is rendered as
growing prefixes of itself."""

from __future__ import annotations


def render(tokenizer, messages, generation_prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(
        list(messages), tokenize=False, add_generation_prompt=generation_prompt
    )


def prompt_ids(tokenizer, messages) -> list[int]:
    """The ids of a conversation rendered for the model's next turn."""
    return tokenizer(render(tokenizer, messages, True), add_special_tokens=False)["input_ids"]


def environment_ids(tokenizer, messages, user_text: str) -> list[int]:
    """The ids that follow the model's last turn (``messages[-1]``, sampled) when the
    environment answers with ``user_text``: the template's end of that turn, the user turn
    and the next assistant header. ``ValueError`` if the template rewrites the turn."""
    head = render(tokenizer, messages[:-1], True)
    turn = messages[-1]["content"]
    full = render(tokenizer, [*messages, {"role": "user", "content": user_text}], True)
    if not full.startswith(head + turn):
        raise ValueError("the chat template does not render the conversation as prefixes")
    return tokenizer(full[len(head) + len(turn) :], add_special_tokens=False)["input_ids"]
