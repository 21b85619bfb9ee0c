"""``ramp serve-retriever``: a Search-R1-compatible retrieval server over any index.

``POST /retrieve`` ``{"queries": [...], "topk": k, "return_scores": bool}`` ->
``{"result": [[{"document": {"id", "contents"}, "score": s}, ...] per query]}``
(bare ``{"id", "contents"}`` documents when ``return_scores`` is false). An optional
``"exclude_ids": [[...] per query]`` hides documents. ``GET /health`` reports the index.

Concurrent requests are micro-batched: a single thread drains the queue and calls the
backend once per batch of at most ``max_batch`` queries. A large request is served a share
of each batch, round robin with the others, so small requests are not starved behind it.
Malformed requests get a 4xx JSON error; the server stays up. A client that stalls is
dropped after ``client_timeout`` seconds; a client that goes away is one log line.
"""

from __future__ import annotations

import json
import logging
import queue
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ramp.search import Hit, Retriever

log = logging.getLogger(__name__)
MAX_BODY = 8 << 20
MAX_TOPK = 1000
# queries x topk per request: one 13 KB request (400 queries x topk 1000) made a 259 MB reply
MAX_RESULTS = 20_000
CLIENT_TIMEOUT = 30.0  # seconds a connection may stall between bytes


class BadRequest(ValueError):
    pass


@dataclass
class Request:
    queries: list[str]
    topk: int
    return_scores: bool
    exclude_ids: list[list[str]] | None


def parse_request(body: bytes) -> Request:
    try:
        obj = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"body is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise BadRequest("body must be a JSON object")
    queries = obj.get("queries")
    if not isinstance(queries, list) or not all(isinstance(q, str) for q in queries):
        raise BadRequest("'queries' must be a list of strings")
    topk = obj.get("topk", 3)
    if isinstance(topk, bool) or not isinstance(topk, int) or not 1 <= topk <= MAX_TOPK:
        raise BadRequest(f"'topk' must be an integer in 1..{MAX_TOPK}")
    return_scores = obj.get("return_scores", False)
    if not isinstance(return_scores, bool):
        raise BadRequest("'return_scores' must be true or false")
    exclude = obj.get("exclude_ids")
    if exclude is not None:
        ok = (
            isinstance(exclude, list)
            and len(exclude) == len(queries)
            and all(isinstance(e, list) and all(isinstance(i, str) for i in e) for e in exclude)
        )
        if not ok:
            raise BadRequest("'exclude_ids' must be one list of id strings per query")
    return Request(queries, topk, return_scores, exclude)


def render(hits: list[list[Hit]], return_scores: bool) -> dict[str, Any]:
    def doc(h: Hit) -> dict[str, str]:
        return {"id": h.id, "contents": h.contents}

    if return_scores:
        return {"result": [[{"document": doc(h), "score": h.score} for h in q] for q in hits]}
    return {"result": [[doc(h) for h in q] for q in hits]}


@dataclass
class _Job:
    """One request in the batcher: its hits so far."""

    request: Request
    future: Future
    hits: list[list[Hit]] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return len(self.request.queries) - len(self.hits)


class Batcher:
    """Collects queries from concurrent requests and searches them in one backend call per
    batch of at most ``max_batch`` queries, each waiting request getting a fair share."""

    def __init__(self, retriever: Retriever, max_batch: int = 256, max_wait: float = 0.002):
        self.retriever, self.max_batch, self.max_wait = retriever, max_batch, max_wait
        self.pending: queue.Queue[tuple[Request, Future]] = queue.Queue()
        self.batches = 0
        threading.Thread(target=self._loop, name="retrieval-batcher", daemon=True).start()

    def submit(self, request: Request) -> Future:
        future: Future = Future()
        self.pending.put((request, future))
        return future

    def _loop(self) -> None:
        active: list[_Job] = []
        while True:
            if not active:
                active.append(_Job(*self.pending.get()))
            deadline = time.monotonic() + self.max_wait
            while sum(j.remaining for j in active) < self.max_batch:
                try:
                    active.append(_Job(*self.pending.get(timeout=max(0.0, deadline - time.monotonic()))))
                except queue.Empty:
                    break
            self._run(active)
            active = [j for j in active if j.remaining and not j.future.done()]

    def _shares(self, jobs: list[_Job]) -> list[int]:
        """Queries per job in the next batch: an equal share first, then what is left over
        in arrival order."""
        fair = max(1, self.max_batch // len(jobs))
        take = [min(fair, j.remaining) for j in jobs]
        room = self.max_batch - sum(take)
        for i, j in enumerate(jobs):
            more = max(0, min(room, j.remaining - take[i]))
            take[i] += more
            room -= more
        return take

    def _run(self, jobs: list[_Job]) -> None:
        for j in jobs:
            if not j.request.queries:
                j.future.set_result([])
        jobs = [j for j in jobs if j.remaining]
        if not jobs:
            return
        take = self._shares(jobs)
        queries, exclude = [], []
        for j, n in zip(jobs, take):
            start, req = len(j.hits), j.request
            queries += req.queries[start : start + n]
            exclude += (req.exclude_ids or [[]] * len(req.queries))[start : start + n]
        k = max(j.request.topk for j, n in zip(jobs, take) if n)
        try:
            hits = self.retriever.search(queries, k, exclude)
        except Exception as exc:  # the backend failed: every request in the batch gets a 500
            log.exception("backend search failed")
            for j, n in zip(jobs, take):
                if n:
                    j.future.set_exception(exc)
            return
        self.batches += 1
        pos = 0
        for j, n in zip(jobs, take):
            j.hits += [h[: j.request.topk] for h in hits[pos : pos + n]]
            pos += n
            if not j.remaining:
                j.future.set_result(j.hits)


def make_handler(
    batcher: Batcher,
    info: dict[str, Any],
    timeout: float,
    max_results: int = MAX_RESULTS,
    client_timeout: float = CLIENT_TIMEOUT,
):
    class Handler(BaseHTTPRequestHandler):
        server_version = "ramp-retriever"
        # a socket timeout per connection: a client that stalls mid-request is dropped
        # (300 stalled clients used to hold 300 threads and fds forever)
        timeout = client_timeout
        batcher_ = batcher  # for tests and introspection

        def log_message(self, fmt, *args):  # one line per request at debug (--verbose)
            log.debug("%s " + fmt, self.client_address[0], *args)

        def log_error(self, fmt, *args):  # a stalled (timed out) or malformed request: one line
            log.info("client %s:%s: " + fmt, *self.client_address[:2], *args)

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path.rstrip("/") == "/health":
                self._send(HTTPStatus.OK, {"status": "ok", **info})
            else:
                self._send(HTTPStatus.NOT_FOUND, {"error": f"no route {self.path}"})

        def do_POST(self):
            if self.path.rstrip("/") != "/retrieve":
                self._send(HTTPStatus.NOT_FOUND, {"error": f"no route {self.path}"})
                return
            if self.headers.get("Content-Length") is None:  # chunked: not read
                self._send(HTTPStatus.LENGTH_REQUIRED, {"error": "Content-Length required"})
                return
            try:
                length = int(self.headers["Content-Length"])
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                self._send(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE if length > MAX_BODY else HTTPStatus.BAD_REQUEST,
                    {"error": "bad Content-Length"},
                )
                return
            try:
                request = parse_request(self.rfile.read(length))
            except BadRequest as exc:
                self._send(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
                return
            if len(request.queries) * request.topk > max_results:
                self._send(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    {
                        "error": (
                            f"{len(request.queries)} queries x topk {request.topk} > {max_results} results "
                            "per request: split the request (or raise --max-results)"
                        )
                    },
                )
                return
            try:
                hits = batcher.submit(request).result(timeout=timeout)
            except Exception as exc:
                self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"search failed: {exc}"})
                return
            self._send(HTTPStatus.OK, render(hits, request.return_scores))

    return Handler


class RetrievalHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # listen() backlog: bursts of clients queue instead of failing
    _accept_logged = 0.0

    def handle_error(self, request, client_address) -> None:
        """One line per failed connection (a client that went away or stalled), not the
        full traceback socketserver prints (517 KB of them under load)."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            log.info("client %s:%s: %s", *client_address[:2], exc or type(exc).__name__)
        else:
            log.error("client %s:%s: %s: %s", *client_address[:2], type(exc).__name__, exc)

    def get_request(self):
        """``accept()``; a failure (e.g. EMFILE at the open-file limit) is logged, at most every
        10 s, instead of the silent retry loop socketserver has."""
        try:
            return super().get_request()
        except OSError as exc:
            now = time.monotonic()
            if now - self._accept_logged > 10:
                self._accept_logged = now
                log.error("cannot accept connections: %s (raise the open-file limit: ulimit -n)", exc)
            time.sleep(0.01)
            raise


def make_server(
    retriever: Retriever,
    host: str,
    port: int,
    info: dict[str, Any] | None = None,
    timeout: float = 60.0,
    max_results: int = MAX_RESULTS,
    client_timeout: float = CLIENT_TIMEOUT,
) -> ThreadingHTTPServer:
    if max_results < 1:
        raise ValueError(f"max_results must be >= 1, not {max_results}")
    if client_timeout <= 0:
        raise ValueError(f"client_timeout must be > 0, not {client_timeout}")
    handler = make_handler(Batcher(retriever), info or {}, timeout, max_results, client_timeout)
    return RetrievalHTTPServer((host, port), handler)
