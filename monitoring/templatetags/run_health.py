"""`{% run_health original %}`: the last 24 h of runs on a version's or a project's admin
page.

The automations admin templates load this library: templates compose the apps, while the
Python imports stay layered (automations imports nothing of monitoring).
"""

from __future__ import annotations

from typing import Any

from django import template

from automations.models import AutomationVersion, Project, WorkflowBinding

from ..models import Monitor
from ..selectors import health

register = template.Library()


@register.inclusion_tag("monitoring/run_health.html")
def run_health(obj: AutomationVersion | Project | None) -> dict[str, Any]:
    if isinstance(obj, AutomationVersion):
        project_id = obj.project_id
        binding_ids = list(
            WorkflowBinding.objects.filter(automation_version=obj).values_list("pk", flat=True)
        )
    elif isinstance(obj, Project):
        project_id = obj.pk
        binding_ids = list(
            WorkflowBinding.objects.filter(automation_version__project=obj).values_list(
                "pk", flat=True
            )
        )
    else:
        return {"health": None}
    result = health(binding_ids=binding_ids, hours=24)
    monitor = (
        Monitor.objects.filter(binding_id=binding_ids[0]).first()
        if isinstance(obj, AutomationVersion) and binding_ids
        else None
    )
    return {
        "health": result,
        "project_id": project_id,
        "is_version": isinstance(obj, AutomationVersion),
        "monitor": monitor,
    }
