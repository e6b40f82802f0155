"""Reads of in-app notifications. A user only ever sees their own."""

from django.contrib.auth.models import User
from django.db.models import QuerySet

from .models import Notification


def notifications_for(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
