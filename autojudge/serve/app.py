"""The FastAPI app of `autojudge serve`: judge and reward routes over one micro-batcher.

FastAPI and pydantic come with the optional [serve] extra, so they are imported inside the
functions that build and run the app, never at the top: `autojudge` and its CLI import this
module without them. (No `from __future__ import annotations` either: FastAPI reads the route
signatures, whose types exist only inside those functions.)
"""

import functools
import hmac
import re
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from autojudge._extras import require
from autojudge._version import __version__
from autojudge.io import Row, row_from_fields
from autojudge.judges.base import Judge, JudgeError
from autojudge.judges.degenerate import claims_checked
from autojudge.rewards.adapters import openrlhf_items, require_verdicts, unit_scores
from autojudge.rewards.schemes import Reward
from autojudge.scoring import result_line
from autojudge.serve.batcher import MicroBatcher, QueueFull
from autojudge.serve.settings import ServeSettings
from autojudge.types import Judgement, Record

if TYPE_CHECKING:
    from fastapi import FastAPI, HTTPException

_FIELD = re.compile(r"field '(\w+)'")


@functools.cache
def _schemas() -> tuple[type, type]:
    """The request bodies (Items, OpenRLHFRequest) as pydantic models."""
    from pydantic import BaseModel, Field

    class Items(BaseModel):
        items: list[dict[str, Any]] = Field(
            description="Records as `autojudge score` reads them: question, reference (a string "
                        "or a list of strings), answer, optional id; other fields are passed "
                        "through.",
            examples=[[{"id": "q1", "question": "What is the capital of France?",
                        "reference": ["Paris"], "answer": "It is Paris."}]])

    class OpenRLHFRequest(BaseModel):
        query: list[str] = Field(description="prompt + response, as OpenRLHF sends them")
        prompts: list[str] = Field(description="the prompts; each query must start with its "
                                               "prompt")
        labels: list[str | list[str]] = Field(
            description="the reference answer(s) of each prompt: a string, a JSON list as a "
                        "string, or a list of strings")

    return Items, OpenRLHFRequest


def create_app(judge: Judge, reward: Reward, settings: ServeSettings | None = None,
               token: str | None = None) -> "FastAPI":
    """The app; `token`, if given, is required as `Authorization: Bearer <token>` on /v1/* and
    /get_reward. Raises MissingExtra without the [serve] extra."""
    require("fastapi", "serve", "autojudge serve")
    require("fastapi_offline", "serve", "autojudge serve")
    from fastapi import Depends, FastAPI, Request
    from fastapi.responses import JSONResponse
    from fastapi_offline import FastAPIOffline

    settings = settings or ServeSettings()
    batcher = MicroBatcher(judge, max_batch=settings.max_batch,
                           max_wait=settings.max_wait_ms / 1000, max_queue=settings.max_queue)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        await batcher.start(warm_up=[Record("Is this a warm-up?", ("yes",), "Yes.")])
        yield
        await batcher.close()  # uvicorn has finished in-flight requests by now

    # /docs and /redoc with their Swagger UI / ReDoc assets served by the app itself (under
    # /static-offline-docs), so they work on an air-gapped machine; no online validator badge.
    app = FastAPIOffline(title="autojudge", version=__version__, lifespan=lifespan,
                         description="Judgements and shaped rewards for (question, reference, "
                                     "answer).",
                         swagger_ui_parameters={"validatorUrl": None})
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.state.batcher = batcher
    auth = [Depends(_bearer(token))]

    @app.exception_handler(QueueFull)
    async def queue_full(_: Request, err: QueueFull) -> JSONResponse:
        return JSONResponse({"detail": str(err)}, status_code=503,
                            headers={"Retry-After": str(err.retry_after)})

    @app.get("/healthz", summary="Liveness and queue depth (no token needed)")
    async def healthz() -> dict[str, Any]:
        stats = batcher.stats()
        return {"status": "ok", "queued": stats.queued, "judged": stats.judged,
                "batches": stats.batches, "busy_s": round(stats.busy_s, 3)}

    _add_judge_routes(app, judge, reward, batcher, settings, auth)
    return app


def _add_judge_routes(app: "FastAPI", judge: Judge, reward: Reward, batcher: MicroBatcher,
                      settings: ServeSettings, auth: list[Any]) -> None:
    """/v1/info, /v1/judge, /v1/reward and OpenRLHF's /get_reward, each behind `auth`."""
    from fastapi import HTTPException

    Items, OpenRLHFRequest = _schemas()  # class names: the /docs page shows them

    @app.get("/v1/info", dependencies=auth, summary="Judge, reward scheme and t*, version")
    async def info() -> dict[str, Any]:
        values = reward.values
        return {"judge": judge.name, "version": __version__,
                "reward": {"scheme": reward.name, "threshold": reward.threshold,
                           "correct": values.correct, "abstain": values.abstain,
                           "incorrect": values.incorrect, "length_weight": values.length_weight,
                           "length_limit": values.length_limit,
                           "malformed_weight": values.malformed_weight},
                "limits": settings.__dict__}

    @app.post("/v1/judge", dependencies=auth, summary="Judgements, as `autojudge score` writes")
    async def judge_items(body: Items) -> dict[str, Any]:
        rows = _rows(body.items, settings)
        judgements = await _judge(batcher, rows)
        return {"judge": judge.name,
                "results": [result_line(r, j) for r, j in zip(rows, judgements, strict=True)]}

    @app.post("/v1/reward", dependencies=auth,
              summary="Rewards under the configured scheme (null where the judge failed)")
    async def reward_items(body: Items) -> dict[str, Any]:
        rows = _rows(body.items, settings)
        judgements = await _judge(batcher, rows)
        return {"scheme": reward.name, "threshold": reward.threshold,
                "rewards": reward(judgements, [r.record.answer or "" for r in rows]),
                "verdicts": [None if j.failed else j.verdict.value for j in judgements],
                "errors": [j.error for j in judgements]}

    @app.post("/get_reward", dependencies=auth,
              summary="OpenRLHF remote reward model: query / prompts / labels → rewards")
    async def openrlhf(body: OpenRLHFRequest) -> dict[str, Any]:
        try:
            items = openrlhf_items(body.query, body.prompts, body.labels)
        except ValueError as err:
            index = re.match(r"query\[(\d+)\]", str(err))
            raise _invalid(["query", int(index.group(1))] if index else [], str(err)) from None
        rows = _rows(items, settings, where="query")
        judgements = await _judge(batcher, rows)
        try:
            require_verdicts(judgements, "OpenRLHF")
        except JudgeError as err:
            raise HTTPException(500, str(err)) from None
        rewards = reward(judgements, [r.record.answer or "" for r in rows])
        return {"rewards": rewards, "scores": unit_scores(rewards, reward.values),
                "extra_logs": {"p_correct": [j.p_correct for j in judgements]}}


def _rows(items: list[dict[str, Any]], settings: ServeSettings, where: str = "items") -> list[Row]:
    """Every item checked as `autojudge score` checks a row, then the request's size; 413 / 422
    name the problem."""
    from fastapi import HTTPException

    if len(items) > settings.max_items:
        raise HTTPException(413, f"{len(items)} items in one request; the limit is "
                                 f"{settings.max_items}")
    rows = [row_from_fields(f"{where}[{i}]", item, max_chars=settings.max_field_chars)
            for i, item in enumerate(items)]
    errors = [{"loc": ["body", where, i, *_FIELD.findall(row.error)[:1]], "msg": row.error,
               "type": "value_error"} for i, row in enumerate(rows) if row.error]
    if errors:
        raise HTTPException(422, errors)
    _check_cost([row.record for row in rows], settings)
    return rows


def _check_cost(records: list[Record], settings: ServeSettings) -> None:
    """413 for a request over the bound on what it costs the judge: its characters, and the
    claims the fact judge would check (degenerate.claims_checked)."""
    from fastapi import HTTPException

    chars = sum(len(r.question) + sum(map(len, r.reference)) + len(r.answer or "")
                for r in records)
    if chars > settings.max_request_chars:
        raise HTTPException(413, f"{chars:,} characters of questions, references and answers "
                                 f"in one request; the limit is {settings.max_request_chars:,}: "
                                 "send fewer items per request")
    claims = sum(claims_checked(r.answer or "") for r in records)
    if claims > settings.max_request_claims:
        raise HTTPException(413, f"{claims:,} answer claims to check in one request; the limit "
                                 f"is {settings.max_request_claims:,}: send fewer items per "
                                 "request")


async def _judge(batcher: MicroBatcher, rows: list[Row]) -> list[Judgement]:
    from fastapi import HTTPException

    try:
        return await batcher.judge([row.record for row in rows])
    except QueueFull:
        raise
    except Exception as err:  # the judge failed on this batch: say so, keep serving
        raise HTTPException(500, f"the judge failed: {type(err).__name__}: {err}") from None


def _invalid(loc: list[Any], message: str) -> "HTTPException":
    from fastapi import HTTPException

    return HTTPException(422, [{"loc": ["body", *loc], "msg": message, "type": "value_error"}])


def _bearer(token: str | None):
    """A dependency that requires `Authorization: Bearer <token>` (constant-time compare)."""
    from fastapi import HTTPException, Request

    expected = token.encode() if token else None

    async def check(request: Request) -> None:
        if expected is None:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                                 expected):
            raise HTTPException(401, "missing or wrong bearer token",
                                headers={"WWW-Authenticate": "Bearer"})

    return check


class BodyLimit:
    """ASGI middleware: a body over `limit` bytes gets 413 before the app parses any of it."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._too_large(scope, receive, send)
        chunks, size = [], 0
        while True:  # read the body up to the limit, then replay it to the app
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                return await self._too_large(scope, receive, send)
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, scope, receive, send) -> None:
        from fastapi.responses import JSONResponse

        response = JSONResponse({"detail": f"request body over {self.limit:,} bytes"}, 413)
        await response(scope, receive, send)
