"""The retrieval server as a real process on loopback, hit over real HTTP."""

import json
import subprocess
import urllib.error
import urllib.request

import pytest

from agents.search import open_index
from agents.search.http import HttpRetriever, RetrievalServerError
from tests.conftest import ROOT
from tests.helpers import free_port, retriever_command, retriever_server


@pytest.fixture(scope="module")
def server(bm25_index):
    with retriever_server(bm25_index) as url:
        yield url


def post(url, body, raw=False):
    data = body if raw else json.dumps(body).encode()
    req = urllib.request.Request(url + "/retrieve", data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_health(server):
    health = json.loads(urllib.request.urlopen(server + "/health").read())
    assert health == {"status": "ok", "backend": "bm25s", "documents": 300}


def test_search_r1_response_shapes(server):
    status, body = post(server, {"queries": ["Kubrick filmmaker", "Olmec"], "topk": 2, "return_scores": True})
    assert status == 200 and len(body["result"]) == 2
    first = body["result"][0][0]
    assert set(first) == {"document", "score"} and set(first["document"]) == {"id", "contents"}
    assert first["document"]["contents"].startswith('"Stanley Kubrick"\n')
    status, bare = post(server, {"queries": ["Kubrick filmmaker"], "topk": 2})
    assert status == 200 and set(bare["result"][0][0]) == {"id", "contents"}
    assert bare["result"][0][0]["id"] == first["document"]["id"]


def test_exclude_ids_over_http(server):
    _, body = post(server, {"queries": ["Kubrick filmmaker"], "topk": 1})
    top = body["result"][0][0]["id"]
    _, body = post(server, {"queries": ["Kubrick filmmaker"], "topk": 1, "exclude_ids": [[top]]})
    assert body["result"][0][0]["id"] != top


@pytest.mark.parametrize(
    "body,fragment",
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"topk": 3}).encode(), "'queries'"),
        (json.dumps({"queries": "one"}).encode(), "'queries'"),
        (json.dumps({"queries": ["a"], "topk": 0}).encode(), "'topk'"),
        (json.dumps({"queries": ["a"], "topk": "3"}).encode(), "'topk'"),
        (json.dumps({"queries": ["a"], "return_scores": "yes"}).encode(), "'return_scores'"),
        (json.dumps({"queries": ["a"], "exclude_ids": ["x"]}).encode(), "'exclude_ids'"),
    ],
)
def test_bad_requests_get_4xx_and_the_server_stays_up(server, body, fragment):
    status, payload = post(server, body, raw=True)
    assert status == 400 and fragment in payload["error"]
    status, _ = post(server, {"queries": ["still up"], "topk": 1})
    assert status == 200


def test_unknown_route_is_404(server):
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(server + "/nope")
    assert err.value.code == 404


def test_http_client_matches_in_process_search(server, bm25_index):
    queries = ["American film history", "ancient civilization in Mexico", "qqqzzz"]
    remote = HttpRetriever(server).search(queries, 3)
    local = open_index(bm25_index).search(queries, 3)
    assert [[h.id for h in q] for q in remote] == [[h.id for h in q] for q in local]
    assert remote[0][0].title == local[0][0].title
    assert open_index(server).search(queries[:1], 1)[0][0].id == local[0][0].id


def test_http_client_errors_are_bounded(server):
    with pytest.raises(RetrievalServerError, match="HTTP 400"):
        HttpRetriever(server).search(["a"], 0)
    closed = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(RetrievalServerError, match="failed after 3 tries"):
        HttpRetriever(closed, timeout=1, retries=2, backoff=0.01).search(["a"], 1)


def test_queries_times_topk_is_capped_and_chunked_bodies_get_411(server):
    """D1: 400 queries x topk 1000 built a 259 MB reply (1.46 GB peak); now a 413 with a JSON
    error. D19: a body without Content-Length (chunked) was answered "not JSON"; now 411."""
    import http.client

    status, body = post(server, {"queries": ["q"] * 400, "topk": 1000})
    assert status == 413 and "400 queries x topk 1000" in body["error"]
    assert post(server, {"queries": ["q"] * 20, "topk": 1000})[0] == 200  # 20,000: at the cap
    host, port = server.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.putrequest("POST", "/retrieve")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    conn.send(b'1b\r\n{"queries": ["a"], "topk": 1}\r\n0\r\n\r\n')
    resp = conn.getresponse()
    assert resp.status == 411 and "Content-Length" in json.loads(resp.read())["error"]


def test_binding_off_loopback_warns_that_there_is_no_auth(bm25_index):
    import time

    port = free_port()
    proc = subprocess.Popen(
        retriever_command(bm25_index, port, "--host", "0.0.0.0"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert "agents.commands: warning: listening on 0.0.0.0 with no authentication" in err


@pytest.fixture()
def in_process(bm25_index):
    """The real server in this process (to read its log and its batcher)."""
    import threading

    from agents.search.server import make_server

    servers = []

    def start(**kw):
        server = make_server(open_index(str(bm25_index)), "127.0.0.1", 0, **kw)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server, f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_stalled_client_is_dropped_with_one_log_line(in_process, caplog, capfd):
    """D6: stalled clients were held forever (300 held for 60 s). D7: each client that went
    away printed a full traceback. Now the connection is closed after ``client_timeout`` and
    the server logs one line."""
    import logging
    import socket

    server, _ = in_process(client_timeout=0.3)
    caplog.set_level(logging.INFO, logger="agents.search.server")
    with socket.create_connection(server.server_address[:2], timeout=10) as sock:
        sock.sendall(b"POST /retrieve HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")  # then nothing
        assert sock.recv(1024) == b""  # the server hung up (a socket.timeout here = still held)
    import time

    for _ in range(100):
        if caplog.records:
            break
        time.sleep(0.05)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "timed out" in lines[0], lines
    assert "Traceback" not in capfd.readouterr().err


def test_small_requests_are_not_starved_behind_a_large_one(in_process):
    """D7: small requests waited 55 s behind one 200,000-query request (one backend call).
    Now a large request gets a share of each batch, round robin: a small request sent while
    a 20,000-query one is being served finishes first."""
    import threading
    import time

    server, url = in_process()
    batcher = server.RequestHandlerClass.batcher_
    done = []

    def big():
        post(url, {"queries": [f"history of city {i}" for i in range(20_000)], "topk": 1})
        done.append("big")

    thread = threading.Thread(target=big)
    thread.start()
    while batcher.batches < 2 and thread.is_alive():
        time.sleep(0.001)
    status, body = post(url, {"queries": ["Portugal"], "topk": 2})
    done.append("small")
    thread.join()
    assert status == 200 and len(body["result"][0]) == 2
    assert done == ["small", "big"]


def test_accept_failures_are_logged_not_silent(in_process, caplog, monkeypatch):
    """D6: at the open-file limit the server stopped accepting and logged nothing."""
    import errno
    import logging

    server, _ = in_process()
    caplog.set_level(logging.ERROR, logger="agents.search.server")

    def emfile():
        raise OSError(errno.EMFILE, "Too many open files")

    import socketserver

    monkeypatch.setattr(socketserver.TCPServer, "get_request", lambda self: emfile())
    with pytest.raises(OSError):
        server.get_request()
    assert any("cannot accept connections" in r.getMessage() for r in caplog.records)
