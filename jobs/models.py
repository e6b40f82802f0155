"""The task workers' heartbeats: how the others tell a live worker from a dead one."""

from django.db import models


class WorkerHeartbeat(models.Model):
    # django-tasks-db's worker id, the one it appends to DBTaskResult.worker_ids on a claim.
    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "worker_heartbeats"
        ordering = ["-beat_at"]

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}, pid {self.pid})"
