"""The limits and batching settings of `autojudge serve` (each one a command-line flag)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServeSettings:
    max_body_bytes: int = 8 * 1024 * 1024
    """Largest request body accepted; past it the answer is 413."""
    max_items: int = 256
    """Most items in one request; past it the answer is 413."""
    max_field_chars: int = 20_000
    """Longest question / reference / answer in characters; past it the answer is 422."""
    max_request_chars: int = 200_000
    """Most characters of questions, references and answers in one request; past it, 413."""
    max_request_claims: int = 1_024
    """Most answer claims the fact judge checks in one request (each answer's first 16); past
    it, 413. With max_items it bounds what one request costs the judge."""
    max_queue: int = 2048
    """Most items waiting or being judged; a request that would pass it gets 503 + Retry-After."""
    max_batch: int = 256
    """Most items the judge is given at once (`autojudge score` judges chunks of 256)."""
    max_wait_ms: float = 10.0
    """How long the first waiting item may wait for others to join its batch."""

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_items", "max_field_chars", "max_request_chars",
                     "max_request_claims", "max_queue", "max_batch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_items > self.max_queue:
            raise ValueError(f"max_items ({self.max_items}) cannot exceed max_queue "
                             f"({self.max_queue}): such a request could never be accepted")
        if self.max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be ≥ 0, got {self.max_wait_ms}")
