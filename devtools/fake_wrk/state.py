"""The stand-in WRK's workflows on disk, so that a restarted demo still runs what the demo's
database says is active (a WRK platform does not forget its workflows when it restarts)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .runs import Period, Timeline


def timelines_load(path: Path) -> dict[str, Timeline]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {
        workflow_id: Timeline(
            periods=[Period(start=p["start"], end=p["end"]) for p in saved["periods"]],
            forced_failures=set(saved.get("forced_failures", [])),
        )
        for workflow_id, saved in data.items()
    }


def timelines_save(path: Path, timelines: dict[str, Timeline]) -> None:
    """Written whole to a temporary file, then renamed: a crash never leaves half a file."""
    data = {
        workflow_id: {
            "periods": [{"start": p.start, "end": p.end} for p in timeline.periods],
            "forced_failures": sorted(timeline.forced_failures),
        }
        for workflow_id, timeline in timelines.items()
    }
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(data))
    os.replace(temporary, path)
