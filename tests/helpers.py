"""What tests share, in one place (test modules never import each other):

- real HTTP servers on loopback: a JSON handler base and an in-process runner, and real
  server processes (``ramp serve-retriever``, llama.cpp) started and waited for;
- fakes, each used only where the real thing cannot show the behaviour under test
  (a misbehaving LLM server, a rule-exact judge server, a scripted policy, a fixed retriever);
- config builders for the stages."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ramp.llm import LLMError

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"


class JSONHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, code: int, text: str) -> None:
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextlib.contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free loopback port; yields the ``/v1`` base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server_process(
    command: Callable[[int], list[str]], ready_path: str, timeout: float, **popen
) -> Iterator[str]:
    """Run ``command(port)`` and yield ``http://127.0.0.1:PORT`` once ``ready_path`` answers;
    a process that exits first is an error carrying its stderr (when piped)."""
    port = free_port()
    proc = subprocess.Popen(command(port), **popen)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    try:
        while True:
            try:
                urllib.request.urlopen(url + ready_path, timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None:
                    err = proc.stderr.read() if proc.stderr else ""
                    raise RuntimeError(f"server exited before it was ready: {err}") from None
                if time.time() > deadline:
                    raise RuntimeError(f"server not ready after {timeout} s") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def retriever_command(index, port: int, *flags: str) -> list[str]:
    """``ramp serve-retriever`` on ``index`` and ``port`` as a subprocess command line."""
    import sys

    return [
        sys.executable,
        "-m",
        "ramp.cli",
        "serve-retriever",
        "--index",
        str(index),
        "--port",
        str(port),
        *flags,
    ]


@contextlib.contextmanager
def retriever_server(index) -> Iterator[str]:
    """A real ``ramp serve-retriever`` process on loopback; yields ``http://127.0.0.1:PORT``."""
    root = Path(__file__).resolve().parents[1]
    with server_process(
        lambda port: retriever_command(index, port),
        "/health",
        60,
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as url:
        yield url


class Faulty(JSONHandler):
    """A misbehaving OpenAI-compatible endpoint; the mode is the model name."""

    calls: dict[str, int] = {}
    outage = True  # model "outage": HTTP 500 while this holds, then answers

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        mode = body["model"]
        n = Faulty.calls[mode] = Faulty.calls.get(mode, 0) + 1
        ok = json.dumps({"choices": [{"message": {"role": "assistant", "content": "fine"}}]})
        if mode == "flaky" and n <= 2 or mode == "down" or mode == "outage" and Faulty.outage:
            return self._send(500, '{"error": "boom"}')
        if mode == "slow":
            time.sleep(1.5)
        if mode == "truncated":
            return self._send(200, ok[: len(ok) // 2])
        if mode == "empty":
            return self._send(200, json.dumps({"choices": [{"message": {"content": ""}}]}))
        if mode == "bad":
            return self._send(400, '{"error": "bad request"}')
        if mode == "latin1":  # a body that is not UTF-8
            body = '{"choices": [{"message": {"content": "caf\xe9"}}]}'.encode("latin-1")
            return self._send_bytes(200, body)
        if mode == "drip":  # each byte well inside a per-read timeout, the whole far beyond it
            self.send_response(200)
            self.send_header("Content-Length", str(len(ok)))
            self.end_headers()
            try:
                for ch in ok.encode():
                    self.wfile.write(bytes([ch]))
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass
            return None
        return self._send(200, ok)

    def _send_bytes(self, code: int, data: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class JudgeServer(JSONHandler):
    """An OpenAI-compatible endpoint whose "model" is a strict rule: correct when every
    predicted fill equals (case-insensitively) the gold or one of the listed golds.
    Model name "down" answers HTTP 500."""

    prompts: list[str] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body["model"] == "down":
            return self._send(500, '{"error": "boom"}')
        prompt = body["messages"][-1]["content"]
        JudgeServer.prompts.append(prompt)
        pairs = re.findall(r'predicted "(.*?)", correct (.*)', prompt)
        ok = pairs and all(
            p.lower() in [g.lower() for g in re.findall(r'"(.*?)"', gold)] for p, gold in pairs
        )
        text = f"<verdict>{'correct' if ok else 'incorrect'}</verdict>"
        self._send(200, json.dumps({"choices": [{"message": {"role": "assistant", "content": text}}]}))


class ScriptedLLM:
    """Test double for the policy model: replays scripted outputs per episode."""

    name = "scripted"

    def __init__(self, scripts):
        self.scripts, self.calls = {k: list(v) for k, v in scripts.items()}, 0

    def generate(self, conversations, sampling):
        self.calls += 1
        out = []
        for conv in conversations:
            key = conv[0]["content"]
            out.append(self.scripts[key].pop(0) if self.scripts[key] else LLMError("exhausted"))
        return out


class StaticRetriever:
    def __init__(self, hits):
        self.hits, self.calls = hits, []

    def search(self, queries, k, exclude_ids=None):
        self.calls.append(list(queries))
        excl = exclude_ids or [[]] * len(queries)
        return [[h for h in self.hits if h.id not in e][:k] for e in excl]


def data_config(inputs, output, *overrides):
    """``configs/data/default.yaml`` with ``inputs``, ``output`` and ``key=value`` overrides."""
    from pipelines.config import DataConfig
    from ramp.config import load_config

    return load_config(
        DataConfig,
        CONFIG_DIR / "data" / "default.yaml",
        list(overrides),
        {"input": [str(i) for i in inputs], "output": str(output)},
    )


def sft_cfg(model, traces, out, **kw):
    """A short SFT config on CPU: small batches, a high learning rate, frequent saves."""
    from training.sft import SFTConfig

    base = dict(
        model=str(model),
        traces=str(traces),
        output=str(out),
        batch_size=2,
        lr=3e-3,
        warmup_steps=1,
        save_steps=3,
        max_length=512,
        bf16=False,
    )
    base.update(kw)
    return SFTConfig(**base)
