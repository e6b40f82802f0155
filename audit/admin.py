from django.contrib import admin

from deployflow.admin_mixins import ReadOnlyAdminMixin

from .models import AuditLog


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[AuditLog]):
    """Read-only for everyone: audit rows are append-only."""

    list_display = ["created_at", "action_type", "resource_type", "resource_id", "actor_username"]
    list_filter = ["action_type", "resource_type"]
    search_fields = ["resource_id", "actor_username"]
