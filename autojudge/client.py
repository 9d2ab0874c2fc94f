"""A judge served by `autojudge serve`, used like a local one: `JudgeClient(url).judge(records)`.

`load_judge("http://host:port")` returns one, so anything that takes a judge spec (`autojudge
score --judge URL`, the RL adapters) can lean on a shared server instead of loading a model.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autojudge.io import as_records
from autojudge.judges.base import JudgeBase, JudgeError, read_meta, write_meta
from autojudge.types import Fact, FactStatus, Item, Judgement, Record, Verdict

if TYPE_CHECKING:
    import httpx

RETRY_STATUSES = frozenset({502, 503, 504})
"""Answers worth retrying: the server is busy (503 + Retry-After) or a proxy lost it."""


class ServiceError(JudgeError):
    """The served judge did not answer (after retries), or refused the request."""


class JudgeClient(JudgeBase):
    """The Judge protocol over HTTP, plus `reward`, `info` and `healthy`.

    Requests larger than `max_items` are sent in several parts. Connection errors and 502 / 503
    / 504 are retried up to `retries` times, waiting the server's Retry-After or an exponential
    back-off; other errors (401, 413, 422) are raised at once with the server's explanation.
    """

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 120.0,
                 retries: int = 5, backoff: float = 0.5, max_items: int = 256) -> None:
        import httpx

        self.url = url.rstrip("/")
        self.timeout, self.retries, self.backoff, self.max_items = timeout, retries, backoff, \
            max_items
        token = token if token is not None else os.environ.get("AUTOJUDGE_TOKEN")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)
        self._name: str | None = None

    @property
    def name(self) -> str:
        """The served judge's name (asked once)."""
        if self._name is None:
            self._name = str(self.info()["judge"])
        return self._name

    def judge_records(self, records: Sequence[Record]) -> list[Judgement]:
        out: list[Judgement] = []
        for start in range(0, len(records), self.max_items):
            part = records[start:start + self.max_items]
            answer = self._request("POST", "/v1/judge", {"items": [to_item(r) for r in part]})
            self._name = answer["judge"]
            out.extend(from_line(line, answer["judge"]) for line in answer["results"])
        return out

    def reward(self, items: Iterable[Item]) -> list[float | None]:
        """The server's rewards (its configured scheme) for `items` (in any form `judge`
        takes); None where its judge failed (see autojudge.rewards.schemes.Reward)."""
        items = as_records(items)
        out: list[float | None] = []
        for start in range(0, len(items), self.max_items):
            part = items[start:start + self.max_items]
            answer = self._request("POST", "/v1/reward", {"items": [to_item(r) for r in part]})
            out.extend(None if r is None else float(r) for r in answer["rewards"])
        return out

    def save(self, path: str | Path) -> None:
        """The server's URL and the request settings (never the token: AUTOJUDGE_TOKEN)."""
        write_meta(path, "http", {"url": self.url, "timeout": self.timeout,
                                  "retries": self.retries, "backoff": self.backoff,
                                  "max_items": self.max_items})

    @classmethod
    def load(cls, path: Path) -> JudgeClient:
        meta = read_meta(path)
        return cls(meta["url"], timeout=float(meta["timeout"]), retries=int(meta["retries"]),
                   backoff=float(meta["backoff"]), max_items=int(meta["max_items"]))

    def info(self) -> dict[str, Any]:
        """Judge name, reward scheme with t*, version and limits."""
        info: dict[str, Any] = self._request("GET", "/v1/info")
        return info

    def healthy(self) -> bool:
        import httpx

        try:
            return bool(self._http.get("/healthz").status_code == 200)
        except httpx.TransportError:
            return False

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> JudgeClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _request(self, method: str, path: str, payload: Any = None) -> Any:
        import httpx

        problem = ""
        for attempt in range(self.retries + 1):
            wait = min(30.0, self.backoff * 2 ** attempt)
            try:
                response = self._http.request(method, path, json=payload)
            except httpx.TransportError as err:
                problem = f"{type(err).__name__}: {err}"
            else:
                if response.status_code == 200:
                    return response.json()
                problem = f"HTTP {response.status_code}: {_detail(response)}"
                if response.status_code not in RETRY_STATUSES:
                    raise ServiceError(f"{self.url}{path}: {problem}")
                wait = _retry_after(response, wait)
            if attempt < self.retries:
                time.sleep(wait)
        raise ServiceError(f"{self.url}{path}: no answer after {self.retries + 1} tries "
                           f"({problem})")


def to_item(record: Record) -> dict[str, Any]:
    """A record as a request item (fields that are not ours are not sent)."""
    item: dict[str, Any] = {"question": record.question, "reference": list(record.reference),
                            "answer": record.answer}
    if record.id is not None:
        item["id"] = record.id
    return item


def from_line(line: dict[str, Any], judge: str) -> Judgement:
    """A served result line back into a Judgement (a failure when it has an error)."""
    if line["error"] is not None:
        return Judgement.failure(judge, line["error"])
    facts = tuple(Fact(f["text"], FactStatus(f["status"]), f["probability"])
                  for f in line["facts"])
    return Judgement(Verdict(line["verdict"]), line["p_correct"], line["p_incorrect"],
                     line["p_abstain"], judge=judge, facts=facts,
                     flags=tuple(line.get("flags", ())))


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        return str(response.text[:300])
    if isinstance(detail, list):  # 422: one entry per problem
        return "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
    return str(detail)


def _retry_after(response: httpx.Response, default: float) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", default)))
    except ValueError:
        return default
