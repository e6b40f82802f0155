import json
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils.csp import CSP
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import ngettext

from automations.admin_display import attempts_text, breakable, status_badge, with_quiet_line
from deployflow.admin_mixins import ReadOnlyAdminMixin
from deployflow.words import short

from .delivery import deliveries_resend
from .models import Channel, Delivery, DeliveryStatus, Notification
from .preview import delivery_preview

# What a delivery's page shows above its message, three to a row.
DELIVERY_ROWS = (
    ("template", "channel", "recipient"),
    ("status_label", "attempts", "last_error"),
    ("created_at", "next_attempt_at", "sent_at"),
)
DELIVERY_FIELDS = tuple(name for row in DELIVERY_ROWS for name in row)


def email_html_policy(response: HttpResponse) -> HttpResponse:
    response._csp_config = {  # type: ignore[attr-defined]  # what csp_override sets
        "default-src": [CSP.NONE],
        "style-src": [CSP.UNSAFE_INLINE],
        "img-src": ["data:"],
        "frame-ancestors": [CSP.SELF],
        "sandbox": True,
    }
    return response


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Delivery]):
    # When it was sent is on its page: the list leaves the room to whom and what went wrong.
    list_display = ["created_at", "message", "recipient_cell", "status_and_attempts", "short_error"]
    list_filter = ["status", "channel", "template"]
    search_fields = ["recipient", "last_error"]
    date_hierarchy = "created_at"
    actions = ["resend"]
    fieldsets = [
        (None, {"fields": DELIVERY_ROWS}),
        ("The message as sent", {"fields": ["message_as_sent"]}),
        ("Payload", {"fields": ["payload_json"], "classes": ["collapse"]}),
    ]
    readonly_fields = [*DELIVERY_FIELDS, "message_as_sent", "payload_json"]

    @admin.display(description="message", ordering="template")
    def message(self, delivery: Delivery) -> SafeString:
        return with_quiet_line(delivery.get_template_display(), delivery.get_channel_display())

    @admin.display(description="recipient", ordering="recipient")
    def recipient_cell(self, delivery: Delivery) -> SafeString:
        return breakable(delivery.recipient)

    @admin.display(description="status", ordering="status")
    def status_and_attempts(self, delivery: Delivery) -> SafeString:
        return with_quiet_line(status_badge(delivery.status), attempts_text(delivery.attempts))

    @admin.display(description="status")
    def status_label(self, delivery: Delivery) -> SafeString:
        return status_badge(delivery.status)

    @admin.display(description="last error")
    def short_error(self, delivery: Delivery) -> str:
        return short(delivery.last_error)

    @admin.display(description="message")
    def message_as_sent(self, delivery: Delivery) -> SafeString:
        html_url = reverse("admin:notifications_delivery_html", args=[delivery.pk])
        return render_to_string(
            "notifications/admin_preview.html",
            {"preview": delivery_preview(delivery), "html_url": html_url},
        )

    def get_urls(self) -> list[URLPattern]:
        html = path(
            "<int:delivery_id>/html/",
            self.admin_site.admin_view(self.email_html_view),
            name="notifications_delivery_html",
        )
        return [html, *super().get_urls()]

    def email_html_view(self, request: HttpRequest, delivery_id: int) -> HttpResponse:
        """The email's HTML part on its own, for the preview's frame. Its own policy, not the
        site's: the email's inline styles apply (as in a mail client), while no script, form,
        plugin or outside request runs; it may only be framed by this site."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        delivery = get_object_or_404(Delivery, pk=delivery_id, channel=Channel.EMAIL)
        response = HttpResponse(delivery_preview(delivery).html)
        response["X-Frame-Options"] = "SAMEORIGIN"
        return email_html_policy(response)

    @admin.display(description="payload")
    def payload_json(self, delivery: Delivery) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(delivery.payload, indent=2, sort_keys=True))

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.resend_delivery")

    @admin.action(description="Resend the selected failed deliveries", permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        selected = list(queryset.values_list("pk", flat=True))
        queued = deliveries_resend(delivery_ids=selected)
        if queued:
            self.message_user(
                request,
                ngettext(
                    "%(n)d delivery queued again.", "%(n)d deliveries queued again.", len(queued)
                )
                % {"n": len(queued)},
            )
        skipped = len(selected) - len(queued)
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(n)d delivery skipped: only failed ones (%(failed)s) can be resent.",
                    "%(n)d deliveries skipped: only failed ones (%(failed)s) can be resent.",
                    skipped,
                )
                % {"n": skipped, "failed": DeliveryStatus.FAILED},
                level=messages.WARNING,
            )


def _kind_words(kind: str) -> str:
    return kind.replace("_", " ").capitalize()


class KindFilter(admin.SimpleListFilter):
    """The kinds that occur, in words ("Deactivation failed", not `deactivation_failed`)."""

    title = "kind"
    parameter_name = "kind"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        kinds = Notification.objects.order_by("kind").values_list("kind", flat=True).distinct()
        return [(kind, _kind_words(kind)) for kind in kinds]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Notification]
    ) -> QuerySet[Notification]:
        value = self.value()
        return queryset if value is None else queryset.filter(kind=value)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Notification]):
    list_display = ["created_at", "recipient", "kind_label", "title", "read_at"]
    list_filter = [KindFilter]
    list_select_related = ["recipient"]
    search_fields = ["title", "recipient__username"]

    @admin.display(description="kind", ordering="kind")
    def kind_label(self, notification: Notification) -> str:
        return _kind_words(notification.kind)
