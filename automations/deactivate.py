"""Deactivation of a replaced version's workflow (SPEC §4.8).

A failure never undoes the deploy: it is logged, audited and sent to ops, and the binding
keeps claiming `active` (what WRK last confirmed) until a retry succeeds — from the admin
action or from `manage.py reconcile`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from audit.models import ActionType
from audit.services import audit_log_create
from notifications.services import notifications_deactivation_failed
from wrk_client import WrkError

from .models import BindingStatus, VersionStatus, WorkflowBinding
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
    record_with: Callable[[], None] | None = None,
) -> DeactivationResult:
    """Deactivate the workflow on WRK and record the outcome. `record_with` runs in the same
    transaction as the record (the deploy closes its deployment there)."""
    version = binding.automation_version
    metadata: dict[str, object] = {
        "workflow_id": binding.workflow_id,
        "version_id": version.pk,
        "version": version.version,
        "source": origin,
    }
    try:
        state = wrk_client().deactivate(binding.workflow_id)
    except WrkError as exc:
        error = (
            f"WRK did not deactivate workflow {binding.workflow_id} after {exc.attempts} "
            f"attempt(s): {exc.message}"
        )
        logger.warning("Deploy kept, but the previous workflow is still active: %s", error)
        with transaction.atomic(durable=True):
            audit_log_create(
                actor=actor,
                action_type=ActionType.DEACTIVATE_FAILED,
                resource_type="workflow_binding",
                resource_id=binding.pk,
                project_id=version.project_id,
                metadata={**metadata, "attempts": exc.attempts, "error": error},
            )
            notifications_deactivation_failed(binding=binding, actor=actor, error=error)
            if record_with is not None:
                record_with()
        return DeactivationResult(ok=False, attempts=exc.attempts, error=error)

    with transaction.atomic(durable=True):
        # A version rolled back to Live meanwhile keeps its workflow active.
        updated = (
            WorkflowBinding.objects.filter(pk=binding.pk)
            .exclude(automation_version__status=VersionStatus.LIVE)
            .update(status=BindingStatus.INACTIVE)
        )
        audit_log_create(
            actor=actor,
            action_type=ActionType.DEACTIVATE,
            resource_type="workflow_binding",
            resource_id=binding.pk,
            project_id=version.project_id,
            metadata={**metadata, "attempts": state.attempts, "already_inactive": state.already},
        )
        if record_with is not None:
            record_with()
    if updated:
        binding.status = BindingStatus.INACTIVE
    return DeactivationResult(ok=True, attempts=state.attempts)
