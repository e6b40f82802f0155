from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from deployflow.admin_mixins import ReadOnlyAdminMixin

from .delivery import deliveries_resend
from .models import Delivery, DeliveryStatus, Notification


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Delivery]):
    list_display = [
        "created_at",
        "channel",
        "template",
        "recipient",
        "status",
        "attempts",
        "short_error",
        "sent_at",
    ]
    list_filter = ["status", "channel", "template"]
    search_fields = ["recipient", "last_error"]
    date_hierarchy = "created_at"
    actions = ["resend"]

    @admin.display(description="last error")
    def short_error(self, delivery: Delivery) -> str:
        error = delivery.last_error
        return error if len(error) <= 80 else error[:79] + "…"

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.resend_delivery")

    @admin.action(description="Resend the selected failed deliveries", permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        selected = list(queryset.values_list("pk", flat=True))
        queued = deliveries_resend(delivery_ids=selected)
        if queued:
            self.message_user(request, f"{len(queued)} delivery(ies) queued again.")
        skipped = len(selected) - len(queued)
        if skipped:
            self.message_user(
                request,
                f"{skipped} delivery(ies) skipped: only failed ones ({DeliveryStatus.FAILED}) "
                "can be resent.",
                level=messages.WARNING,
            )


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Notification]):
    list_display = ["created_at", "recipient", "kind", "title", "read_at"]
    list_filter = ["kind"]
    list_select_related = ["recipient"]
    search_fields = ["title", "recipient__username"]
