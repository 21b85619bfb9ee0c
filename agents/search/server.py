"""``ramp serve-retriever``: a Search-R1-compatible retrieval server over any index.

``POST /retrieve`` ``{"queries": [...], "topk": k, "return_scores": bool}`` ->
``{"result": [[{"document": {"id", "contents"}, "score": s}, ...] per query]}``
(bare ``{"id", "contents"}`` documents when ``return_scores`` is false). An optional
``"exclude_ids": [[...] per query]`` hides documents. ``GET /health`` reports the index.

Concurrent requests are micro-batched: a single thread drains the queue and calls the
backend once per batch. Malformed requests get a 4xx JSON error; the server stays up.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ramp.search import Hit, Retriever

log = logging.getLogger(__name__)
MAX_BODY = 8 << 20
MAX_TOPK = 1000
# queries x topk per request: one 13 KB request (400 queries x topk 1000) made a 259 MB reply
MAX_RESULTS = 20_000


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


class Batcher:
    """Collects queries from concurrent requests and searches them in one backend call."""

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
        while True:
            items = [self.pending.get()]
            size = len(items[0][0].queries)
            while size < self.max_batch:
                try:
                    item = self.pending.get(timeout=self.max_wait)
                except queue.Empty:
                    break
                items.append(item)
                size += len(item[0].queries)
            self._run(items)

    def _run(self, items: list[tuple[Request, Future]]) -> None:
        queries = [q for req, _ in items for q in req.queries]
        exclude = [e for req, _ in items for e in (req.exclude_ids or [[]] * len(req.queries))]
        k = max(req.topk for req, _ in items)
        try:
            hits = self.retriever.search(queries, k, exclude) if queries else []
        except Exception as exc:  # the backend failed: every waiting request gets a 500
            log.exception("backend search failed")
            for _, future in items:
                future.set_exception(exc)
            return
        self.batches += 1
        pos = 0
        for req, future in items:
            part = hits[pos : pos + len(req.queries)]
            pos += len(req.queries)
            future.set_result([h[: req.topk] for h in part])


def make_handler(batcher: Batcher, info: dict[str, Any], timeout: float, max_results: int = MAX_RESULTS):
    class Handler(BaseHTTPRequestHandler):
        server_version = "ramp-retriever"

        def log_message(self, fmt, *args):  # quiet by default; errors are logged below
            log.debug(fmt, *args)

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


def make_server(
    retriever: Retriever,
    host: str,
    port: int,
    info: dict[str, Any] | None = None,
    timeout: float = 60.0,
    max_results: int = MAX_RESULTS,
) -> ThreadingHTTPServer:
    if max_results < 1:
        raise ValueError(f"max_results must be >= 1, not {max_results}")
    return RetrievalHTTPServer(
        (host, port), make_handler(Batcher(retriever), info or {}, timeout, max_results)
    )
