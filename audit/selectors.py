"""Reads of the audit trail."""

from django.db.models import Q, QuerySet

from .models import AuditLog

# A version's history page shows this many of its newest rows; the audit log has them all.
HISTORY_ROWS = 200


def audit_trail_of_version(*, version_id: int, binding_id: int | None) -> QuerySet[AuditLog]:
    """Everything audited about a version and its workflow binding, newest first."""
    about = Q(resource_type="automation_version", resource_id=str(version_id))
    if binding_id is not None:
        about |= Q(resource_type="workflow_binding", resource_id=str(binding_id))
    return AuditLog.objects.filter(about).order_by("-created_at", "-id")
