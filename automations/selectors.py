"""Reads of the automations app."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q, QuerySet

from .errors import ErrorCode, ServiceError
from .models import AutomationVersion, BindingStatus, VersionStatus, WorkflowBinding

OPS_GROUP = "Ops"


def _not_found(version_id: int) -> ServiceError:
    return ServiceError(ErrorCode.NOT_FOUND, f"Automation version {version_id} does not exist.")


def version_get(*, version_id: int) -> AutomationVersion:
    """The version with what a deploy reads of it, in one query; 404 when unknown."""
    try:
        return AutomationVersion.objects.select_related("project__client", "workflow_binding").get(
            pk=version_id
        )
    except AutomationVersion.DoesNotExist:
        raise _not_found(version_id) from None


def version_lock(*, version_id: int) -> AutomationVersion:
    """The version, row-locked until the end of the caller's transaction; 404 when unknown."""
    try:
        # of=("self",): the binding is an outer join, which PostgreSQL cannot lock.
        return (
            AutomationVersion.objects.select_for_update(of=("self",))
            .select_related("project__client", "workflow_binding")
            .get(pk=version_id)
        )
    except AutomationVersion.DoesNotExist:
        raise _not_found(version_id) from None


def version_lock_for_deploy(*, version_id: int) -> AutomationVersion:
    """Like version_lock, with `was_live`: whether a deploy of it ever succeeded, which makes
    deploying it again a rollback."""
    from .models import Deployment, DeploymentStatus

    try:
        return (
            AutomationVersion.objects.select_for_update(of=("self",))
            .select_related("project__client", "workflow_binding")
            .annotate(
                was_live=Exists(
                    Deployment.objects.filter(
                        automation_version=OuterRef("pk"), status=DeploymentStatus.SUCCEEDED
                    )
                )
            )
            .get(pk=version_id)
        )
    except AutomationVersion.DoesNotExist:
        raise _not_found(version_id) from None


def versions_lock_with_live(
    *, version_id: int, project_id: int
) -> tuple[AutomationVersion, AutomationVersion | None]:
    """Row-lock a version and its project's Live version (if another) in one query."""
    rows = list(
        AutomationVersion.objects.select_for_update(of=("self",))
        .select_related("project__client", "workflow_binding")
        .filter(Q(pk=version_id) | Q(project_id=project_id, status=VersionStatus.LIVE))
        .order_by("pk")
    )
    version = next(row for row in rows if row.pk == version_id)
    live = next((row for row in rows if row.pk != version_id), None)
    return version, live


def live_version(*, project_id: int) -> AutomationVersion | None:
    return (
        AutomationVersion.objects.select_related("workflow_binding")
        .filter(project_id=project_id, status=VersionStatus.LIVE)
        .first()
    )


def bindings_pending_deactivation() -> QuerySet[WorkflowBinding]:
    """Workflows still active on WRK as far as we know, though their version was archived:
    their deactivation failed and must be retried."""
    return WorkflowBinding.objects.select_related("automation_version__project").filter(
        status=BindingStatus.ACTIVE, automation_version__status=VersionStatus.ARCHIVED
    )


def ops_users() -> QuerySet[User]:
    return (
        get_user_model()
        .objects.filter(groups__name=OPS_GROUP, is_active=True)
        .order_by("pk")
        .distinct()
    )
