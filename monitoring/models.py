"""Run events of monitored workflows (SPEC §2), fed by WRK's webhook and by polling."""

from django.db import models
from django.db.models import Q


class RunStatus(models.TextChoices):
    SUCCESS = "success"
    ERROR = "error"
    RUNNING = "running"
    CANCELED = "canceled"
    CRASHED = "crashed"


class RunEvent(models.Model):
    workflow_binding = models.ForeignKey(
        "automations.WorkflowBinding", on_delete=models.CASCADE, related_name="run_events"
    )
    # WRK's id of the run: receiving the same event twice stores it once.
    external_id = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=16, choices=RunStatus)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "run_events"
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["workflow_binding", "-started_at"], name="run_binding_started"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values), name="run_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.status}"
