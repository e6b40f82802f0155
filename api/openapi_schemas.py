"""The schemas of the OpenAPI document (openapi.py), written by hand to match
representations.py."""

from typing import Any

from automations.models import (
    BindingStatus,
    DeploymentSource,
    DeploymentStatus,
    ProjectStatus,
    VersionStatus,
)
from monitoring.models import RunStatus

from .pagination import MAX_LIMIT
from .webhooks import MAX_EVENTS


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [{"type": "null"}, schema]}


def _page(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["results", "next_cursor"],
        "properties": {
            "results": {"type": "array", "items": _ref(item)},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` for the next (older) page; null on the last.",
            },
        },
    }


DATE_TIME = {"type": "string", "format": "date-time"}
ID = {"type": "integer"}

SCHEMAS: dict[str, Any] = {
    "StatusChange": {
        "type": "object",
        "required": ["status"],
        "additionalProperties": False,
        "properties": {
            "status": {"type": "string", "enum": ["Live", "Ready to Launch"]},
            "adopt": {
                "type": "boolean",
                "default": False,
                "description": "With 'Live', for a version in Error whose workflow ops "
                "activated by hand in WRK: once WRK reports it active, the version is "
                "re-staged and recorded Live (source `manual`) without an activate call.",
            },
        },
    },
    "Registration": {
        "type": "object",
        "required": ["project", "version", "workflow_id"],
        "additionalProperties": False,
        "properties": {
            "project": {"type": "integer", "minimum": 1},
            "version": {"type": "string", "minLength": 1, "maxLength": 64},
            "workflow_id": {"type": "string", "minLength": 1, "maxLength": 200},
        },
    },
    "AutomationVersion": {
        "type": "object",
        "required": [
            "id",
            "version",
            "status",
            "project",
            "workflow_binding",
            "approval",
            "created_at",
        ],
        "properties": {
            "id": ID,
            "version": {"type": "string"},
            "status": {"type": "string", "enum": VersionStatus.values},
            "project": {
                "type": "object",
                "required": ["id", "slug", "status"],
                "properties": {
                    "id": ID,
                    "slug": {"type": "string"},
                    "status": {"type": "string", "enum": ProjectStatus.values},
                },
            },
            "workflow_binding": _nullable(
                {
                    "type": "object",
                    "required": ["workflow_id", "status"],
                    "properties": {
                        "workflow_id": {"type": "string"},
                        "status": {"type": "string", "enum": BindingStatus.values},
                    },
                }
            ),
            "approval": _nullable(
                {
                    "type": "object",
                    "required": ["approved_by", "approved_at"],
                    "properties": {"approved_by": {"type": "string"}, "approved_at": DATE_TIME},
                }
            ),
            "created_at": DATE_TIME,
        },
    },
    "AutomationVersionDeployed": {
        "allOf": [
            _ref("AutomationVersion"),
            {
                "type": "object",
                "properties": {
                    "deploy": {
                        "type": "object",
                        "description": "Present when the request deployed.",
                        "properties": {
                            "deployment_id": ID,
                            "attempts": {
                                "type": ["integer", "null"],
                                "description": "WRK activation requests; null when an "
                                "activation done by hand was adopted.",
                            },
                            "archived_version_id": {"type": ["integer", "null"]},
                            "previous_workflow_deactivation": {
                                "type": "string",
                                "enum": ["none", "ok", "failed"],
                            },
                            "previous_workflow_deactivation_error": {"type": ["string", "null"]},
                        },
                    }
                },
            },
        ]
    },
    "Project": {
        "type": "object",
        "required": ["id", "slug", "name", "status", "client", "live_version", "waiting"],
        "properties": {
            "id": ID,
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "status": {"type": "string", "enum": ProjectStatus.values},
            "client": {
                "type": "object",
                "properties": {"id": ID, "slug": {"type": "string"}, "name": {"type": "string"}},
            },
            "live_version": _nullable(
                {"type": "object", "properties": {"id": ID, "version": {"type": "string"}}}
            ),
            "waiting": {
                "type": "object",
                "description": "How many versions wait, by kind.",
                "properties": {
                    "ready": ID,
                    "awaiting_approval": ID,
                    "error": ID,
                    "deactivation_pending": ID,
                },
            },
            "created_at": DATE_TIME,
        },
    },
    "Deployment": {
        "type": "object",
        "required": ["id", "project", "automation_version", "status", "source", "started_at"],
        "properties": {
            "id": ID,
            "project": ID,
            "automation_version": ID,
            "version": {"type": "string"},
            "workflow_id": {"type": "string"},
            "status": {"type": "string", "enum": DeploymentStatus.values},
            "source": {"type": "string", "enum": DeploymentSource.values},
            "actor": {"type": ["string", "null"]},
            "is_rollback": {"type": "boolean"},
            "attempts": {"type": ["integer", "null"]},
            "error": {"type": ["string", "null"]},
            "previous_version": {"type": ["integer", "null"]},
            "previous_workflow_still_active": {
                "type": "boolean",
                "description": "WRK has not confirmed the replaced workflow's deactivation.",
            },
            "started_at": DATE_TIME,
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "AutomationVersionPage": _page("AutomationVersion"),
    "ProjectPage": _page("Project"),
    "DeploymentPage": _page("Deployment"),
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    },
    "RunEventBatch": {
        "type": "object",
        "required": ["events"],
        "properties": {
            "events": {
                "type": "array",
                "maxItems": MAX_EVENTS,
                "items": {"$ref": "#/components/schemas/RunEvent"},
            }
        },
    },
    "RunEvent": {
        "type": "object",
        "required": ["id", "workflow_id", "status", "started_at"],
        "description": "Fields not listed here are ignored.",
        "properties": {
            "id": {"type": "string", "minLength": 1, "maxLength": 200},
            "workflow_id": {"type": "string", "minLength": 1, "maxLength": 200},
            "status": {"type": "string", "enum": RunStatus.values},
            "started_at": {"type": "string", "format": "date-time"},
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
            "error": {
                "type": ["string", "null"],
                "description": "Stored cut to its first 2,000 characters.",
            },
        },
    },
    "RunEventsAccepted": {
        "type": "object",
        "required": ["accepted", "duplicates", "ignored"],
        "properties": {
            "accepted": {"type": "integer"},
            "duplicates": {"type": "integer"},
            "ignored": {"type": "integer"},
        },
    },
}

LIST_PARAMETERS = {
    "cursor": {
        "name": "cursor",
        "in": "query",
        "required": False,
        "description": "The `next_cursor` of the previous page.",
        "schema": {"type": "string"},
    },
    "limit": {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50},
    },
    "project": {
        "name": "project",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1},
    },
    "status": {
        "name": "status",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": VersionStatus.values},
    },
}
