"""The append-only audit trail (SPEC §2).

Rows are never updated or deleted: the model refuses it, the queryset refuses it, and on
PostgreSQL and SQLite a trigger refuses it. Foreign keys carry no database constraint and
no cascade, so deleting a project or a user never needs to rewrite its audit rows; the
actor's username is copied so the row stays readable after the user is gone.
"""

from typing import Any, NoReturn

from django.conf import settings
from django.db import models


class AuditLogImmutableError(Exception):
    pass


class AuditLogQuerySet(models.QuerySet["AuditLog"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditLogImmutableError("Audit rows are append-only.")

    def delete(self) -> NoReturn:
        raise AuditLogImmutableError("Audit rows are append-only.")


class ActionType(models.TextChoices):
    DEPLOY = "deploy"
    DEPLOY_FAILED = "deploy_failed"
    ARCHIVE = "archive"
    DEACTIVATE = "deactivate"
    DEACTIVATE_FAILED = "deactivate_failed"
    APPROVE = "approve"
    RESTAGE = "restage"
    MARK_READY = "mark_ready"
    # WRK runs the workflow of a version in Error (activated by hand): reported once.
    ACTIVE_IN_ERROR = "active_in_error"
    REVOKE_APPROVAL = "revoke_approval"
    # A build (or ops) registered a version, or gave a Draft its workflow.
    REGISTER = "register"
    # Monitoring: a failing streak opened an incident; WRK and the database disagree (a
    # drift incident); either kind closed.
    INCIDENT_OPENED = "incident_opened"
    DRIFT_DETECTED = "drift_detected"
    INCIDENT_RESOLVED = "incident_resolved"


# What each resource type is called in words, and the metadata key that names the resource.
RESOURCE_NAMES = {
    "automation_version": ("version", "version"),
    "workflow_binding": ("workflow", "workflow_id"),
}


class AuditLog(models.Model):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        help_text="Empty for actions of the system (reconcile, worker).",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    action_type = models.CharField(max_length=32, choices=ActionType)
    resource_type = models.CharField(max_length=64)
    resource_id = models.CharField(max_length=64)
    project = models.ForeignKey(
        "automations.Project",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        db_table = "audit_logs"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "-created_at"], name="audit_project_created"),
            models.Index(fields=["resource_type", "resource_id"], name="audit_resource"),
            models.Index(fields=["action_type"], name="audit_action"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_type_display()}: {self.resource_name()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogImmutableError("Audit rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditLogImmutableError("Audit rows are append-only.")

    def resource_name(self) -> str:
        """The resource in words, `version v1.2` or `workflow wf-7`, from the row alone: the
        metadata keeps the names as they were, after a rename or a deletion too."""
        noun, key = RESOURCE_NAMES.get(self.resource_type, (self.resource_type, ""))
        label = self.metadata.get(key) if key else None
        if label:
            return f"{noun} {label}"
        return f"{noun.replace('_', ' ')} #{self.resource_id}"

    def version_id(self) -> int | None:
        """The automation version the row is about (a binding's row names its version)."""
        if self.resource_type == "automation_version":
            raw: object = self.resource_id
        else:
            raw = self.metadata.get("version_id")
        try:
            return int(str(raw))
        except ValueError:
            return None
