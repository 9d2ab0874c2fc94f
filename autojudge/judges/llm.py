"""LLM judge: any OpenAI-compatible endpoint grades answers SimpleQA-style into our three classes.

Retries with exponential backoff, a per-request timeout, a concurrency limit, and a response
cache on disk so that a re-run pays for nothing twice. `check()` (called when the judge is
loaded) asks the endpoint once, cheaply, before any run: an endpoint that cannot be reached or
refuses the key is one JudgeError, not a run of failed rows. A reply that fails or cannot be
read during a run is a failed Judgement (`error` set, no verdict), never a crash and never a
verdict. The API key comes from the environment (AUTOJUDGE_LLM_API_KEY, else OPENAI_API_KEY)
and is never printed or logged.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autojudge._extras import require
from autojudge.cache import home
from autojudge.judges.base import JudgeBase, JudgeError, read_meta, write_meta
from autojudge.types import Judgement, Record, Verdict

if TYPE_CHECKING:
    from openai import OpenAI

PROMPT = """Your job is to grade a predicted answer against the gold target(s) for a question.
- CORRECT: the predicted answer contains the meaning of a gold target and contradicts none of
  them. Paraphrases, extra true detail, other units or number formats are fine; hedging is fine
  if the answer still commits to the right one.
- INCORRECT: the answer states something that contradicts the gold target, names the wrong
  entity, or lists several candidates; a hedged wrong answer is incorrect.
- NOT_ATTEMPTED: the answer declines, says it does not know, or gives no answer to the question.

Question: {question}
Gold target(s): {reference}
Predicted answer: {answer}

Reply with exactly one letter: A for CORRECT, B for INCORRECT, C for NOT_ATTEMPTED."""

LETTERS = {"A": Verdict.CORRECT, "B": Verdict.INCORRECT, "C": Verdict.ABSTAIN}
CHECK_TIMEOUT = 10.0
"""Longest wait, in seconds, for the endpoint's answer to `LLMJudge.check`."""


def parse_grade(reply: str) -> Verdict | None:
    """The verdict in a reply ("A", "B", "C", or the words), or None if there is none."""
    text = reply.strip().upper()
    match = re.match(r"^\W*([ABC])\b", text)
    if match:
        return LETTERS[match.group(1)]
    words = {"NOT_ATTEMPTED": Verdict.ABSTAIN, "NOT ATTEMPTED": Verdict.ABSTAIN,
             "INCORRECT": Verdict.INCORRECT, "CORRECT": Verdict.CORRECT}
    for word, verdict in words.items():  # NOT_ATTEMPTED and INCORRECT before CORRECT
        if word in text:
            return verdict
    return None


class ResponseCache:
    """(model, prompt) → reply, in SQLite: safe across threads and interrupted runs."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, reply TEXT)")
        self._lock = threading.Lock()

    @staticmethod
    def key(model: str, prompt: str) -> str:
        return hashlib.sha256(f"{model}\0{prompt}".encode()).hexdigest()

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT reply FROM replies WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, reply: str) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO replies VALUES (?, ?)", (key, reply))


class LLMJudge(JudgeBase):
    """SimpleQA-style grading by a model behind an OpenAI-compatible endpoint (see the module
    docstring)."""

    def __init__(self, model: str, base_url: str | None = None, *, concurrency: int = 8,
                 timeout: float = 60.0, retries: int = 4, cache: ResponseCache | None = None
                 ) -> None:
        require("openai", "llm", "the LLM judge")
        self.model = model
        self.name = f"llm:{model}"
        self.base_url = base_url
        self.concurrency = concurrency
        self.timeout = timeout
        self.retries = retries
        self.cache = cache or ResponseCache(home() / "llm-cache.sqlite")
        self._client: OpenAI | None = None
        self.calls = 0
        """Requests actually sent (cache hits excluded)."""

    def client(self) -> OpenAI:
        if self._client is None:
            from openai import OpenAI

            # Local servers need no key; the client insists on one, so pass a placeholder.
            self._client = OpenAI(api_key=_api_key() or "not-needed", base_url=self.base_url,
                                  timeout=self.timeout, max_retries=0)
        return self._client

    def check(self) -> None:
        """Fail now, with one JudgeError, when the endpoint cannot be used: no API key for
        OpenAI's own endpoint, nothing answering at `base_url`, or the key refused. One cheap
        request (GET /models), no retries, at most CHECK_TIMEOUT seconds; any other answer
        (a server that lists no models) counts as reachable."""
        from openai import (APIConnectionError, APIStatusError, AuthenticationError,
                            PermissionDeniedError)

        if self.base_url is None and not _api_key():
            raise JudgeError("llm judge: no API key for OpenAI's endpoint; set "
                             "AUTOJUDGE_LLM_API_KEY or OPENAI_API_KEY, or pass --base-url URL "
                             "for another OpenAI-compatible server")
        where = self.base_url or "OpenAI's endpoint"
        try:
            self.client().with_options(timeout=min(self.timeout, CHECK_TIMEOUT),
                                       max_retries=0).models.list()
        except (AuthenticationError, PermissionDeniedError) as err:
            raise JudgeError(f"llm judge: {where} refused the API key (HTTP {err.status_code}); "
                             "check AUTOJUDGE_LLM_API_KEY / OPENAI_API_KEY") from None
        except APIStatusError:
            return  # it answered
        except APIConnectionError as err:  # refused, unresolvable, timed out
            hint = ("is the server running and --base-url right (e.g. http://127.0.0.1:8000/v1)?"
                    if self.base_url else "check the network, or pass --base-url URL")
            raise JudgeError(f"llm judge: cannot reach {where} ({type(err).__name__}: {err}); "
                             + hint) from None

    def judge_records(self, records: Sequence[Record]) -> list[Judgement]:
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(self._one, records))

    def save(self, path: str | Path) -> None:
        """Model, endpoint and request settings (never the API key, which comes from the
        environment); loading it checks the endpoint, as `load_judge("llm:MODEL")` does."""
        write_meta(path, "llm", {"model": self.model, "base_url": self.base_url,
                                 "concurrency": self.concurrency, "timeout": self.timeout,
                                 "retries": self.retries})

    @classmethod
    def load(cls, path: Path) -> LLMJudge:
        meta = read_meta(path)
        return cls(meta["model"], meta["base_url"], concurrency=int(meta["concurrency"]),
                   timeout=float(meta["timeout"]), retries=int(meta["retries"]))

    def _one(self, item: Record) -> Judgement:
        prompt = PROMPT.format(question=item.question, reference=" | ".join(item.reference),
                               answer=item.answer or "")
        key = ResponseCache.key(self.model, prompt)
        reply = self.cache.get(key)
        if reply is None:
            try:
                reply = self._ask(prompt)
            except Exception as err:  # the endpoint's failure is this row's error, not a crash
                return self._failed(f"LLM request failed: {type(err).__name__}: {err}")
            self.cache.put(key, reply)
        verdict = parse_grade(reply)
        if verdict is None:
            return self._failed(f"unparseable LLM reply: {reply[:200]!r}")
        probs = {v: (1.0 if v is verdict else 0.0) for v in Verdict}
        return Judgement(verdict, probs[Verdict.CORRECT], probs[Verdict.INCORRECT],
                         probs[Verdict.ABSTAIN], judge=self.name)

    def _ask(self, prompt: str) -> str:
        from openai import (APIConnectionError, APITimeoutError, InternalServerError,
                            RateLimitError)

        retryable = (APIConnectionError, APITimeoutError, RateLimitError, InternalServerError)
        delay = 1.0
        for attempt in range(self.retries + 1):
            try:
                self.calls += 1
                response = self.client().chat.completions.create(
                    model=self.model, messages=[{"role": "user", "content": prompt}],
                    temperature=0, max_tokens=8)
                return response.choices[0].message.content or ""
            except retryable:
                if attempt == self.retries:
                    raise
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def _failed(self, error: str) -> Judgement:
        return Judgement.failure(self.name, error)


def _api_key() -> str | None:
    return os.environ.get("AUTOJUDGE_LLM_API_KEY") or os.environ.get("OPENAI_API_KEY")


def label_pairs(judge: LLMJudge, items: Sequence[Record]) -> list[dict[str, Any]]:
    """Distillation: the LLM's labels for unlabelled pairs, as judge-training rows."""
    rows = []
    for item, j in zip(items, judge.judge(items), strict=True):
        if j.verdict is not None:  # a failure is no label
            rows.append({"question": item.question, "reference": list(item.reference),
                         "answer": item.answer, "label": j.verdict.value, "source": judge.name,
                         "kind": "llm_label"})
    return rows
