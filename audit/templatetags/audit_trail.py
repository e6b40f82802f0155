"""The audit trail of a version, for its admin *History* page.

The page belongs to the automations admin, which may not import audit (the core imports none
of the apps built on it); the site's template for that page
(templates/admin/automations/automationversion/object_history.html) loads this tag instead,
so the core stays unaware of the audit while its history shows the audit trail."""

from typing import Any

from django import template

from automations.models import AutomationVersion

from ..display import audit_summary
from ..selectors import HISTORY_ROWS, audit_trail_of_version

register = template.Library()


@register.inclusion_tag("audit/version_history.html")
def version_audit_trail(version: AutomationVersion) -> dict[str, Any]:
    binding = version.binding_or_none()
    trail = audit_trail_of_version(
        version_id=version.pk, binding_id=binding.pk if binding is not None else None
    )
    rows = list(trail[: HISTORY_ROWS + 1])
    return {
        "rows": [
            (row, audit_summary(row.metadata), row.metadata.get("error") or "")
            for row in rows[:HISTORY_ROWS]
        ],
        "more": len(rows) > HISTORY_ROWS,
        "version": version,
    }
