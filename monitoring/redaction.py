"""Run error texts as clients may read them: WRK's texts can name the workflow, and clients
never see workflow ids (SPEC §5)."""

from __future__ import annotations

from collections.abc import Iterable

WORKFLOW = "the workflow"


def without_workflow_ids(text: str, workflow_ids: Iterable[str]) -> str:
    # Longest first, so that an id that starts another one never leaves a tail behind.
    for workflow_id in sorted({w for w in workflow_ids if w}, key=len, reverse=True):
        text = text.replace(workflow_id, WORKFLOW)
    return text
