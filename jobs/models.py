"""The task workers' heartbeats (how the others tell a live worker from a dead one), and the
last run of each periodic job."""

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


class JobOutcome(models.TextChoices):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    # Its command is not installed (yet): the job was skipped, with a warning.
    SKIPPED = "skipped"


class JobRun(models.Model):
    """The last run of each periodic job (`manage.py run_jobs`), whichever machine ran it.

    Also how the schedulers of several machines agree: a job is due when its last start is
    `every` seconds ago, read under the job's lock."""

    name = models.CharField(max_length=64, unique=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=JobOutcome)
    # The command's output, or the error; cut to its last DETAIL_MAX_CHARS.
    detail = models.TextField(blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    runs = models.PositiveBigIntegerField(default=0)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()

    DETAIL_MAX_CHARS = 4000

    class Meta:
        db_table = "job_runs"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}: {self.outcome} at {self.started_at:%Y-%m-%d %H:%M:%S}"
