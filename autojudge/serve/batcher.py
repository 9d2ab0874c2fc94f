"""Micro-batching: concurrent requests' items gathered into one judge call, behind a bounded queue.

Each request's records wait in a FIFO. A batch starts when `max_batch` items are waiting or when
the oldest has waited `max_wait`; it takes whole requests in arrival order (a request is never
split, so one request of n ≤ max_batch items alone is judged exactly as `autojudge score` judges a
chunk of those n rows). The judge runs in one worker thread, so the event loop keeps accepting
and refusing requests while a batch is computed. The queue counts items waiting or being judged;
a request that would take it past `max_queue` is refused at once (`QueueFull`), never buffered.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from autojudge.judges.base import Judge
from autojudge.types import Judgement, Record


class QueueFull(Exception):
    """The queue cannot take this request now; try again after `retry_after` seconds."""

    def __init__(self, queued: int, limit: int, retry_after: int) -> None:
        super().__init__(f"the judge queue is full ({queued} of {limit} items); retry in "
                         f"{retry_after} s")
        self.retry_after = retry_after


@dataclass
class _Waiting:
    records: Sequence[Record]
    future: asyncio.Future
    since: float


@dataclass
class BatcherStats:
    queued: int
    """Items waiting or being judged now."""
    judged: int
    """Items judged since start."""
    batches: int
    busy_s: float
    """Seconds the judge spent on batches since start."""


class MicroBatcher:
    """`await batcher.judge(records)` from many requests; one judge call per gathered batch."""

    def __init__(self, judge: Judge, *, max_batch: int = 256, max_wait: float = 0.01,
                 max_queue: int = 2048) -> None:
        self.judge_ = judge
        self.max_batch, self.max_wait, self.max_queue = max_batch, max_wait, max_queue
        self._waiting: deque[_Waiting] = deque()
        self._queued = self._judged = self._batches = 0
        self._busy = 0.0
        self._closing = False
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._executor = None

    async def start(self, warm_up: Sequence[Record] = ()) -> None:
        """Start the worker thread; `warm_up` records are judged on it first (first-call costs
        such as building the int8 copy). All judging stays on that one thread: torch run from
        two threads keeps two OpenMP pools, which slowed the judge by a third on 2 cores."""
        from concurrent.futures import ThreadPoolExecutor

        self._wake = asyncio.Event()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="autojudge-judge")
        if warm_up:
            await asyncio.get_running_loop().run_in_executor(self._executor, self.judge_.judge,
                                                             list(warm_up))
        self._task = asyncio.create_task(self._run(), name="autojudge-batcher")

    async def close(self) -> None:
        """Judge everything already accepted, then stop the worker."""
        self._closing = True
        if self._wake is not None:
            self._wake.set()
        if self._task is not None:
            await self._task
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    def stats(self) -> BatcherStats:
        return BatcherStats(self._queued, self._judged, self._batches, self._busy)

    async def judge(self, records: Sequence[Record]) -> list[Judgement]:
        """The judgements of `records`, in order; raises QueueFull instead of queueing past
        the limit."""
        if not records:
            return []
        if self._task is None or self._closing:
            raise RuntimeError("the batcher is not running")
        if self._queued + len(records) > self.max_queue:
            raise QueueFull(self._queued, self.max_queue, self.retry_after())
        future = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(records, future, time.monotonic()))
        self._queued += len(records)
        self._wake.set()
        return await future

    def retry_after(self) -> int:
        """Seconds until the queue has likely drained, from the judge's measured speed."""
        per_item = self._busy / self._judged if self._judged else 0.05
        return max(1, min(60, math.ceil(self._queued * per_item)))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._waiting:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            await self._gather()
            batch = self._take()
            records = [r for w in batch for r in w.records]
            started = time.monotonic()
            try:
                judgements = await loop.run_in_executor(self._executor, self.judge_.judge,
                                                        records)
                if len(judgements) != len(records):
                    raise RuntimeError(f"the judge returned {len(judgements)} judgements for "
                                       f"{len(records)} items")
            except Exception as err:  # the requests in this batch fail; the server goes on
                for w in batch:
                    if not w.future.done():
                        w.future.set_exception(err)
            else:
                start = 0
                for w in batch:
                    if not w.future.done():  # its client may have gone
                        w.future.set_result(judgements[start:start + len(w.records)])
                    start += len(w.records)
                self._judged += len(records)
            finally:
                self._busy += time.monotonic() - started
                self._batches += 1
                self._queued -= len(records)

    async def _gather(self) -> None:
        """Wait until a full batch is waiting or the oldest item has waited `max_wait`."""
        while not self._closing:
            waiting = sum(len(w.records) for w in self._waiting)
            left = self._waiting[0].since + self.max_wait - time.monotonic()
            if waiting >= self.max_batch or left <= 0:
                return
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=left)
            except TimeoutError:
                return

    def _take(self) -> list[_Waiting]:
        """Whole requests in arrival order, up to `max_batch` items (at least one request)."""
        batch = [self._waiting.popleft()]
        size = len(batch[0].records)
        while self._waiting and size + len(self._waiting[0].records) <= self.max_batch:
            size += len(self._waiting[0].records)
            batch.append(self._waiting.popleft())
        return batch
