"""The interface every channel implements.

A transport sends one delivery or raises `TransportError`: `permanent=True` when trying again
cannot help (a refused address, a revoked webhook), otherwise the worker retries with backoff,
waiting at least `retry_after` seconds when the other side said so.
"""

from __future__ import annotations

from ..models import Delivery


class TransportError(Exception):
    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after


class Transport:
    def send(self, delivery: Delivery) -> None:
        raise NotImplementedError
