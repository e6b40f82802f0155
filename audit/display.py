"""How an audit row reads: in one line (the audit log, a version's history), its resource as
a link, and its details as a table on its own page."""

import json
from typing import Any

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from deployflow.words import short, source_words

from .models import AuditLog

# The details' order on a row's page (the rest follow alphabetically): PostgreSQL's jsonb
# keeps no order of its own.
DETAIL_ORDER = ("version", "from_status", "to_status", "workflow_id", "source", "attempts", "error")


def audit_summary(metadata: dict[str, Any], *, error: bool = False) -> str | None:
    """`error`: add the error's beginning (where no column of its own shows it)."""
    parts = []
    if "from_status" in metadata or "to_status" in metadata:
        parts.append(f"{metadata.get('from_status', '?')} → {metadata.get('to_status', '?')}")
    if metadata.get("workflow_id"):
        parts.append(f"workflow {metadata['workflow_id']}")
    if metadata.get("source"):
        parts.append(f"via {source_words(str(metadata['source']))}")
    if metadata.get("approved_by"):
        parts.append(f"approved by {metadata['approved_by']}")
    if error and metadata.get("error"):
        # Long enough for WRK's own words, which come last.
        parts.append(short(str(metadata["error"]), 160))
    return " · ".join(parts) or None


def resource_link(row: AuditLog) -> SafeString | str:
    """The resource in words, linked to its version's page when the row names a version."""
    version_id = row.version_id()
    if version_id is None:
        return row.resource_name()
    url = reverse("admin:automations_automationversion_change", args=[version_id])
    return format_html('<a href="{}">{}</a>', url, row.resource_name())


def details_table(metadata: dict[str, Any]) -> SafeString:
    """Every metadata field on a line of its own, under a readable name; the JSON as stored
    stays one click away."""
    keys = sorted(
        metadata,
        key=lambda k: (DETAIL_ORDER.index(k) if k in DETAIL_ORDER else len(DETAIL_ORDER), k),
    )
    rows = format_html_join(
        "",
        "<tr><th scope='row'>{}</th><td>{}</td></tr>",
        ((key.replace("_", " ").capitalize(), _value(metadata[key])) for key in keys),
    )
    return format_html(
        '<table class="df-details">{}</table><details><summary>As stored (JSON)</summary>'
        "<pre>{}</pre></details>",
        rows,
        json.dumps(metadata, indent=2, sort_keys=True),
    )


def _value(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)
