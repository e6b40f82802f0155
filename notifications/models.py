"""In-app notifications and the outbox of email/Slack deliveries (SPEC §2, §4.9).

Deliveries are written in the same transaction as the change they report, so a committed
deploy never loses one and a rolled-back deploy sends none; the task worker sends them.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "notifications"
        ordering = ["-created_at", "-id"]
        indexes = [
            # The unread-count bell asks this on every page.
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
            models.Index(fields=["recipient", "-created_at"], name="notification_recent"),
        ]

    def __str__(self) -> str:
        return self.title


class Channel(models.TextChoices):
    EMAIL = "email"
    SLACK = "slack"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Template(models.TextChoices):
    AUTOMATION_LIVE = "automation_live"
    DEPLOYMENT_SUCCESS = "deployment_success"
    DEPLOYMENT_FAILED = "deployment_failed"
    DEACTIVATION_FAILED = "deactivation_failed"
    ACTIVE_IN_ERROR = "active_in_error"
    DEACTIVATION_RESOLVED = "deactivation_resolved"
    APPROVAL_REQUESTED = "approval_requested"
    # Monitoring incidents: a failing streak, a drift, and either one's end.
    RUNS_FAILING = "runs_failing"
    WORKFLOW_DRIFT = "workflow_drift"
    INCIDENT_RESOLVED = "incident_resolved"
    # To client members who asked for it (status pages' settings): an incident opened or
    # resolved on their project, in their words.
    CLIENT_INCIDENT = "client_incident"


class Delivery(models.Model):
    channel = models.CharField(max_length=16, choices=Channel)
    template = models.CharField(max_length=64, choices=Template)
    # An email address, or the Slack webhook's label (never the secret URL itself).
    recipient = models.CharField(max_length=254)
    # Everything needed to render the message, captured when the event happened.
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=DeliveryStatus, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # Sends cut off by a worker that died: Slack, which cannot drop a copy, gets one more try.
    interruptions = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "notification_deliveries"
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        permissions = [("resend_delivery", "Can resend a failed delivery")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_template_display()} → {self.recipient} by {self.channel}"
