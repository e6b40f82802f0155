"""Deactivation of a replaced version's workflow (SPEC §4.8).

A failure never undoes the deploy: it is logged, `workflow_deactivation_failed` is sent for
the audit, and the binding keeps claiming `active` (what WRK last confirmed) until a retry
succeeds — from the admin action or from `manage.py reconcile`. The failures between the
first one and WRK's confirmation are one incident, kept on the binding
(`deactivation_failed_at`): ops are alerted when it opens and told when it is resolved, not
at every failed retry.

The WRK call (`wrk_deactivate`) and the record (`workflow_binding_record_deactivation`) are
separate so that a deploy can record its deactivation in the transaction that records the
deploy itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from deployflow.words import attempts
from wrk_client import WrkError

from .models import BindingStatus, VersionStatus, WorkflowBinding
from .signals import (
    workflow_deactivated,
    workflow_deactivation_failed,
    workflow_deactivation_incident_opened,
    workflow_deactivation_incident_resolved,
)
from .wrk_config import wrk_client

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeactivationResult:
    ok: bool
    attempts: int
    error: str = ""
    # WRK answered 409: the workflow was inactive already.
    already: bool = False


def wrk_deactivate(*, binding: WorkflowBinding) -> DeactivationResult:
    """Ask WRK to deactivate the workflow, with its retries. No database access."""
    try:
        state = wrk_client().deactivate(binding.workflow_id)
    except WrkError as exc:
        error = (
            f"WRK did not deactivate workflow {binding.workflow_id} after "
            f"{attempts(exc.attempts)}: {exc.message}"
        )
        logger.warning("The previous workflow is still active: %s", error)
        return DeactivationResult(ok=False, attempts=exc.attempts, error=error)
    return DeactivationResult(ok=True, attempts=state.attempts, already=state.already)


def workflow_binding_record_deactivation(
    *, binding: WorkflowBinding, result: DeactivationResult, actor: User | None, origin: str
) -> None:
    """Record what WRK answered; runs inside the caller's transaction."""
    now = timezone.now()
    if not result.ok:
        workflow_deactivation_failed.send(
            sender=WorkflowBinding,
            binding=binding,
            actor=actor,
            origin=origin,
            attempts=result.attempts,
            error=result.error,
        )
        # Conditional: of all the failures until WRK confirms (the deploy's, each retry's,
        # reconcile's, concurrent or not), only the first opens the incident.
        opened = WorkflowBinding.objects.filter(
            pk=binding.pk, deactivation_failed_at__isnull=True
        ).update(deactivation_failed_at=now)
        if opened:
            binding.deactivation_failed_at = now
            workflow_deactivation_incident_opened.send(
                sender=WorkflowBinding,
                binding=binding,
                actor=actor,
                origin=origin,
                error=result.error,
            )
        return
    # A version rolled back to Live meanwhile keeps its workflow active.
    updated = (
        WorkflowBinding.objects.filter(pk=binding.pk)
        .exclude(automation_version__status=VersionStatus.LIVE)
        .update(status=BindingStatus.INACTIVE, updated_at=now)
    )
    if updated:
        binding.status = BindingStatus.INACTIVE
    workflow_deactivated.send(
        sender=WorkflowBinding,
        binding=binding,
        actor=actor,
        origin=origin,
        attempts=result.attempts,
        already_inactive=result.already,
    )
    workflow_binding_resolve_incident(
        binding=binding, actor=actor, origin=origin, how="deactivated"
    )


def workflow_binding_resolve_incident(
    *, binding: WorkflowBinding, actor: User | None, origin: str, how: str
) -> bool:
    """Close the binding's open deactivation incident, if any, in the caller's transaction:
    WRK confirmed the deactivation (`how="deactivated"`), or the version went Live again
    and its workflow is meant to run (`how="live_again"`). A conditional update, so that
    two recorders resolve it once."""
    resolved = WorkflowBinding.objects.filter(
        pk=binding.pk, deactivation_failed_at__isnull=False
    ).update(deactivation_failed_at=None)
    if resolved:
        binding.deactivation_failed_at = None
        workflow_deactivation_incident_resolved.send(
            sender=WorkflowBinding, binding=binding, actor=actor, origin=origin, how=how
        )
    return bool(resolved)


def workflow_binding_deactivate(
    *, binding: WorkflowBinding, actor: User | None, origin: str
) -> DeactivationResult:
    """Deactivate the workflow on WRK, then record the outcome in a short transaction."""
    result = wrk_deactivate(binding=binding)
    with transaction.atomic(durable=True):
        workflow_binding_record_deactivation(
            binding=binding, result=result, actor=actor, origin=origin
        )
    return result
