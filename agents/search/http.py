"""A client for any Search-R1-style retrieval server (ours included)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence

from ramp.search import Hit, check_exclude, split_contents


class RetrievalServerError(RuntimeError):
    pass


class HttpRetriever:
    """``search`` sends one POST /retrieve per call; bounded retries on errors and timeouts."""

    def __init__(self, url: str, timeout: float = 30.0, retries: int = 2, backoff: float = 0.5):
        self.url = url.rstrip("/")
        if not self.url.endswith("/retrieve"):
            self.url += "/retrieve"
        self.timeout, self.retries, self.backoff = timeout, retries, backoff

    def _post(self, payload: dict) -> dict:
        data = json.dumps(payload).encode("utf-8")
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            req = urllib.request.Request(self.url, data=data, headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    return json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                if 400 <= exc.code < 500:  # our request is wrong: retrying will not help
                    detail = exc.read().decode("utf-8", "replace")[:300]
                    raise RetrievalServerError(f"{self.url}: HTTP {exc.code}: {detail}") from None
                last = exc
            except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError) as exc:
                last = exc
            if attempt < self.retries:
                time.sleep(self.backoff * 2**attempt)
        raise RetrievalServerError(f"{self.url}: failed after {self.retries + 1} tries: {last!r}")

    def search(
        self, queries: Sequence[str], k: int, exclude_ids: Sequence[Sequence[str]] | None = None
    ) -> list[list[Hit]]:
        excluded = check_exclude(queries, exclude_ids)
        payload = {"queries": list(queries), "topk": k, "return_scores": True}
        if exclude_ids is not None:
            payload["exclude_ids"] = [sorted(e) for e in excluded]
        result = self._post(payload).get("result")
        if not isinstance(result, list) or len(result) != len(queries):
            raise RetrievalServerError(f"{self.url}: malformed response")
        out = []
        for per_query in result:
            hits = []
            for item in per_query:
                doc, score = (item["document"], item.get("score", 0.0)) if "document" in item else (item, 0.0)
                title = doc.get("title") or split_contents(doc["contents"])[0]
                hits.append(Hit(id=str(doc["id"]), title=title, contents=doc["contents"], score=float(score)))
            out.append(hits)
        return out
