"""Bearer tokens of the HTTP API. Only a SHA-256 digest is stored; the token is shown once."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "dfl_"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_generate() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters, so that a person can tell their tokens apart.
    hint = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "api_tokens"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.hint}… ({self.user})"


class IdempotencyKeyStatus(models.TextChoices):
    # Claimed by a request whose view is running.
    IN_PROGRESS = "in_progress"
    # The view answered; the answer below is replayed to a retry.
    COMPLETED = "completed"


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` a user sent with a PATCH, POST or DELETE under /v1/ (SPEC §5),
    and the first answer to it (api/idempotency.py)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # The request the key names: the same key with another method, path or body is refused.
    method = models.CharField(max_length=10)
    path = models.TextField()
    body_digest = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16, choices=IdempotencyKeyStatus, default=IdempotencyKeyStatus.IN_PROGRESS
    )
    response_status = models.PositiveSmallIntegerField(null=True)
    # [name, value] pairs, as the view set them.
    response_headers = models.JSONField(default=list)
    response_body = models.BinaryField(default=b"")
    # Set by the application's clock, not the database's: it is also the claim's fencing
    # token (a takeover sets it anew), and tests move it with time-machine.
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "api_idempotency_keys"
        constraints = [
            # Decides between concurrent requests with one key: one INSERT wins.
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user"),
            models.CheckConstraint(
                condition=models.Q(status__in=IdempotencyKeyStatus.values),
                name="idempotency_key_status_valid",
            ),
            # An answer is stored exactly when the key is completed.
            models.CheckConstraint(
                condition=models.Q(
                    status=IdempotencyKeyStatus.COMPLETED, response_status__isnull=False
                )
                | models.Q(status=IdempotencyKeyStatus.IN_PROGRESS, response_status__isnull=True),
                name="idempotency_key_answer_iff_completed",
            ),
        ]
        # prune_idempotency_keys deletes by age.
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_created")]

    def __str__(self) -> str:
        return f"{self.key} ({self.method} {self.path})"
