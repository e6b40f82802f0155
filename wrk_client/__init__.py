"""The one HTTP boundary to the WRK Platform (SPEC §5). It knows nothing of Django or models."""

from .client import (
    RETRYABLE_STATUSES,
    RetryPolicy,
    RunsPage,
    WorkflowState,
    WrkClient,
    WrkError,
    WrkPermanentError,
    WrkTransientError,
)

__all__ = [
    "RETRYABLE_STATUSES",
    "RetryPolicy",
    "RunsPage",
    "WorkflowState",
    "WrkClient",
    "WrkError",
    "WrkPermanentError",
    "WrkTransientError",
]
