"""How an audit row reads in one line, in the audit log and in a version's history."""

from typing import Any


def audit_summary(metadata: dict[str, Any]) -> str | None:
    parts = []
    if "from_status" in metadata or "to_status" in metadata:
        parts.append(f"{metadata.get('from_status', '?')} → {metadata.get('to_status', '?')}")
    if metadata.get("workflow_id"):
        parts.append(f"workflow {metadata['workflow_id']}")
    if metadata.get("source"):
        parts.append(f"via {metadata['source']}")
    if metadata.get("approved_by"):
        parts.append(f"approved by {metadata['approved_by']}")
    return " · ".join(parts) or None
