import csv
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from automations.admin_display import with_quiet_line
from automations.models import Project
from deployflow.admin_mixins import ReadOnlyAdminMixin

from .display import audit_summary, details_table, resource_link
from .models import AuditLog

CSV_COLUMNS = [
    "id",
    "created_at",
    "action_type",
    "resource_type",
    "resource_id",
    "project_id",
    "actor_username",
    "metadata",
]
# The change page, which is a read-only view for everyone.
DETAIL_FIELDS = (
    "created_at",
    "action_type",
    "resource",
    "project_label",
    "actor_label",
    "details",
)
# Rows fetched per round trip while streaming: memory stays flat however long the export.
CSV_CHUNK_SIZE = 2000


class ActorFilter(admin.SimpleListFilter):
    title = "actor"
    parameter_name = "actor"
    # Parentheses are refused by Django's username validator, so no user can shadow it.
    SYSTEM = "(system)"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        # From the rows, not the users table: deleted users stay filterable.
        usernames = (
            AuditLog.objects.exclude(actor_username="")
            .order_by("actor_username")
            .values_list("actor_username", flat=True)
            .distinct()
        )
        return [(self.SYSTEM, "system"), *((name, name) for name in usernames)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(actor_username="" if value == self.SYSTEM else value)


class ProjectFilter(admin.RelatedOnlyFieldListFilter):
    """The projects that have rows, and the rows of no project, said in words."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.empty_value_display = SafeString("no project")


class _Echo:
    """A file-like sink that hands each CSV line back, so lines can be streamed."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    """`rows` are tuples in CSV_COLUMNS order, as `values_list(*CSV_COLUMNS)` yields them."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for pk, created_at, *fields, metadata in rows:
        yield writer.writerow(
            [pk, created_at.isoformat(), *fields, json.dumps(metadata, sort_keys=True)]
        )


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[AuditLog]):
    """Read-only for everyone: audit rows are append-only."""

    # Four columns, so that the details have room at 1280 px: who acted sits under the
    # action, the project under the resource.
    list_display = ["created_at", "action_by", "resource_in_project", "summary"]
    list_filter = [
        "action_type",
        "resource_type",
        ("project", ProjectFilter),
        ActorFilter,
        ("created_at", admin.DateFieldListFilter),
    ]
    # A LEFT JOIN, since the FK is nullable: a deleted project comes back as None, not an
    # error, and the project column costs no query per row.
    list_select_related = ["project"]
    date_hierarchy = "created_at"
    search_fields = ["=resource_id", "actor_username", "metadata__workflow_id"]
    search_help_text = "Exact resource id, or part of a username or a WRK workflow id."
    # Counting the whole table on every page view grows with the table; the filtered
    # count that pagination needs is enough.
    show_full_result_count = False
    # Without actions there is no "delete selected", even for a superuser.
    actions = None
    fields = DETAIL_FIELDS
    readonly_fields = DETAIL_FIELDS

    @admin.display(description="resource", ordering="resource_type")
    def resource(self, row: AuditLog) -> SafeString | str:
        return resource_link(row)

    @admin.display(description="project", ordering="project__name")
    def project_label(self, row: AuditLog) -> SafeString | str | None:
        if row.project_id is None:
            return None
        try:
            project = row.project
        except Project.DoesNotExist:
            # The change page loads the row without the join, so the lookup can raise.
            project = None
        if project is None:
            return f"#{row.project_id} (deleted)"
        url = reverse("admin:automations_project_change", args=[project.pk])
        return format_html('<a href="{}">{}</a>', url, project.name)

    @admin.display(description="action", ordering="action_type")
    def action_by(self, row: AuditLog) -> SafeString:
        badge = format_html(
            '<span class="df-badge df-badge-{}">{}</span>',
            row.action_type,
            row.get_action_type_display(),
        )
        return with_quiet_line(badge, f"by {self.actor_label(row)}")

    @admin.display(description="resource", ordering="resource_type")
    def resource_in_project(self, row: AuditLog) -> SafeString:
        return with_quiet_line(resource_link(row), self.project_label(row) or "no project")

    @admin.display(description="actor", ordering="actor_username")
    def actor_label(self, row: AuditLog) -> str:
        return row.actor_username or "system"

    @admin.display(description="details")
    def summary(self, row: AuditLog) -> str | None:
        return audit_summary(row.metadata, error=True)

    @admin.display(description="details")
    def details(self, row: AuditLog) -> SafeString:
        return details_table(row.metadata)

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.export_csv_view),
            name=f"{opts.app_label}_{opts.model_name}_export",
        )
        # Before the defaults, whose catch-all would read "export.csv" as an object id.
        return [export, *super().get_urls()]

    def export_csv_view(self, request: HttpRequest) -> HttpResponseBase:
        """The changelist's rows, with its filters, search and ordering, as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            # What the changelist itself does with parameters it cannot apply.
            opts = self.opts
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            return HttpResponseRedirect(f"{url}?{ERROR_FLAG}=1")
        # The changelist built this queryset from the request already; asking for it again
        # would rerun the filters' lookup queries.
        queryset: QuerySet[AuditLog] = changelist.queryset
        rows = queryset.values_list(*CSV_COLUMNS).iterator(chunk_size=CSV_CHUNK_SIZE)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        return StreamingHttpResponse(
            csv_lines(rows),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="audit-log-{stamp}.csv"'},
        )
