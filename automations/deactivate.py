"""Deactivation of a replaced version's workflow (SPEC §4.8).

A failure never undoes the deploy: it is logged, and `workflow_deactivation_failed` is sent
(audit and ops alerts listen), and the binding keeps claiming `active` (what WRK last
confirmed) until a retry succeeds — from the admin action or from `manage.py reconcile`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from wrk_client import WrkError

from .models import BindingStatus, VersionStatus, WorkflowBinding
from .signals import workflow_deactivated, workflow_deactivation_failed
from .wrk_config import wrk_client

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeactivationResult:
    ok: bool
    attempts: int
    error: str = ""


def workflow_binding_deactivate(
    *,
    binding: WorkflowBinding,
    actor: User | None,
    origin: str,
    record_with: Callable[[], object] | None = None,
) -> DeactivationResult:
    """Deactivate the workflow on WRK and record the outcome. `record_with` runs in the same
    transaction as the record (the deploy closes its deployment there)."""
    try:
        state = wrk_client().deactivate(binding.workflow_id)
    except WrkError as exc:
        error = (
            f"WRK did not deactivate workflow {binding.workflow_id} after {exc.attempts} "
            f"attempt(s): {exc.message}"
        )
        logger.warning("The previous workflow is still active: %s", error)
        with transaction.atomic(durable=True):
            workflow_deactivation_failed.send(
                sender=WorkflowBinding,
                binding=binding,
                actor=actor,
                origin=origin,
                attempts=exc.attempts,
                error=error,
            )
            if record_with is not None:
                record_with()
        return DeactivationResult(ok=False, attempts=exc.attempts, error=error)

    with transaction.atomic(durable=True):
        # A version rolled back to Live meanwhile keeps its workflow active.
        updated = (
            WorkflowBinding.objects.filter(pk=binding.pk)
            .exclude(automation_version__status=VersionStatus.LIVE)
            .update(status=BindingStatus.INACTIVE, updated_at=timezone.now())
        )
        workflow_deactivated.send(
            sender=WorkflowBinding,
            binding=binding,
            actor=actor,
            origin=origin,
            attempts=state.attempts,
            already_inactive=state.already,
        )
        if record_with is not None:
            record_with()
    if updated:
        binding.status = BindingStatus.INACTIVE
    return DeactivationResult(ok=True, attempts=state.attempts)
