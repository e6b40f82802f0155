"""The OpenAPI 3.1 document of the API, written by hand to match views.py."""

from typing import Any

from automations.models import BindingStatus, ProjectStatus, VersionStatus
from monitoring.models import RunStatus

from .converters import MAX_ID
from .signatures import TOLERANCE_SECONDS
from .webhooks import MAX_EVENTS


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _edge_errors() -> dict[str, Any]:
    """What any path under /v1/ may answer, whichever operation it names."""
    return {
        "431": _error("header_too_large: the request's headers exceed API_MAX_HEADER_BYTES."),
        "default": _error("Any other error (e.g. 405 method_not_allowed), in the same shape."),
    }


def _version_response(description: str, schema: str = "AutomationVersion") -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _header(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "description": description,
        "schema": {"type": "string"},
    }


VERSION_ID = {
    "name": "version_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}


def openapi_document(server_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "deployflow",
            "version": "1",
            "description": "Deploy automation versions to production on the WRK Platform.",
        },
        "servers": [{"url": server_url.rstrip("/")}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/v1/automation-versions/{version_id}": {
                "get": {
                    "operationId": "getAutomationVersion",
                    "summary": "An automation version, its project and its workflow binding.",
                    "parameters": [VERSION_ID],
                    "responses": {
                        "200": _version_response("The version."),
                        "401": _error("No or invalid credentials."),
                        "403": _error("Not allowed to view versions."),
                        "404": _error("No such version, or not an id."),
                        "500": _error("internal_error: an unexpected error, logged for ops."),
                        **_edge_errors(),
                    },
                }
            },
            "/v1/automation-versions/{version_id}/status": {
                "patch": {
                    "operationId": "setAutomationVersionStatus",
                    "summary": "Deploy a version ('Live'), or mark ready / restage it "
                    "('Ready to Launch').",
                    "parameters": [VERSION_ID],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/StatusChange"}
                            }
                        },
                    },
                    "responses": {
                        "200": _version_response(
                            "The version after the change.", "AutomationVersionDeployed"
                        ),
                        "400": _error(
                            "Invalid body (bad_request, invalid_status; malformed_json: not "
                            "UTF-8, not JSON, or nested over 64 levels), invalid_transition, "
                            "no_workflow_binding, workflow_binding_error or approval_required."
                        ),
                        "401": _error("No or invalid credentials."),
                        "403": _error("Not allowed (deploy needs the Ops group's permission)."),
                        "404": _error("No such version, or not an id."),
                        "409": _error("deploy_in_progress: another deploy of the project runs."),
                        "411": _error("length_required: a chunked body, which WSGI cannot read."),
                        "413": _error("payload_too_large: the body exceeds API_MAX_BODY_BYTES."),
                        "500": _error(
                            "deploy_incomplete: WRK activated but recording failed; "
                            "`reconcile` finishes it. internal_error: an unexpected error, "
                            "logged for ops."
                        ),
                        "502": _error("activation_failed: WRK did not activate after retries."),
                        **_edge_errors(),
                    },
                }
            },
            "/v1/webhooks/wrk/run-events": {
                "post": {
                    "operationId": "receiveWrkRunEvents",
                    "summary": "WRK's run events: stored once each by id, for monitoring.",
                    "description": (
                        "Authenticated by its signature, not by a token: X-WRK-Timestamp and "
                        "X-WRK-Signature (HMAC-SHA256 of '<timestamp>.' + the raw body, keyed "
                        "with one of the comma-separated WRK_WEBHOOK_SECRET), or the Standard "
                        "Webhooks headers instead. A timestamp more than "
                        f"{TOLERANCE_SECONDS} s from the server's clock is refused. A "
                        "replayed or overlapping batch stores nothing twice; a later event "
                        "with the same id may move 'running' to a final status, never back."
                    ),
                    "security": [],
                    "parameters": [
                        _header("X-WRK-Timestamp", "Unix seconds when WRK signed the request."),
                        _header(
                            "X-WRK-Signature",
                            "sha256=<hex HMAC-SHA256 of '<timestamp>.' + raw body>.",
                        ),
                        _header("webhook-id", "Standard Webhooks: the message id."),
                        _header("webhook-timestamp", "Standard Webhooks: Unix seconds."),
                        _header(
                            "webhook-signature",
                            "Standard Webhooks: space-separated 'v1,<base64>' signatures.",
                        ),
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/RunEventBatch"}
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Stored: how many events were new (or moved from "
                            "running to final), already stored, or of unknown or unmonitored "
                            "workflows.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/RunEventsAccepted"}
                                }
                            },
                        },
                        "400": _error(
                            "Nothing stored: malformed_json, bad_request (no 'events' array), "
                            f"too_many_events (over {MAX_EVENTS}) or invalid_event (the "
                            "message names the event and field)."
                        ),
                        "401": _error(
                            "invalid_signature: missing, wrong, or stale; nothing stored."
                        ),
                        "405": _error("method_not_allowed: only POST."),
                        "411": _error("length_required: a chunked body, which WSGI cannot read."),
                        "413": _error("payload_too_large: over API_MAX_BODY_BYTES, unread."),
                        "503": _error("webhook_not_configured: no WRK_WEBHOOK_SECRET is set."),
                        **_edge_errors(),
                    },
                }
            },
            "/v1/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document.",
                    "security": [],
                    "responses": {
                        "200": {"description": "The OpenAPI document."},
                        **_edge_errors(),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
            },
            "schemas": {
                "StatusChange": {
                    "type": "object",
                    "required": ["status"],
                    "additionalProperties": False,
                    "properties": {
                        "status": {"type": "string", "enum": ["Live", "Ready to Launch"]}
                    },
                },
                "AutomationVersion": {
                    "type": "object",
                    "required": ["id", "version", "status", "project", "workflow_binding"],
                    "properties": {
                        "id": {"type": "integer"},
                        "version": {"type": "string"},
                        "status": {"type": "string", "enum": VersionStatus.values},
                        "project": {
                            "type": "object",
                            "required": ["id", "slug", "status"],
                            "properties": {
                                "id": {"type": "integer"},
                                "slug": {"type": "string"},
                                "status": {"type": "string", "enum": ProjectStatus.values},
                            },
                        },
                        "workflow_binding": {
                            "oneOf": [
                                {"type": "null"},
                                {
                                    "type": "object",
                                    "required": ["workflow_id", "status"],
                                    "properties": {
                                        "workflow_id": {"type": "string"},
                                        "status": {
                                            "type": "string",
                                            "enum": BindingStatus.values,
                                        },
                                    },
                                },
                            ]
                        },
                    },
                },
                "AutomationVersionDeployed": {
                    "allOf": [
                        {"$ref": "#/components/schemas/AutomationVersion"},
                        {
                            "type": "object",
                            "properties": {
                                "deploy": {
                                    "type": "object",
                                    "description": "Present when the request deployed.",
                                    "properties": {
                                        "deployment_id": {"type": "integer"},
                                        "attempts": {"type": "integer"},
                                        "archived_version_id": {"type": ["integer", "null"]},
                                        "previous_workflow_deactivation": {
                                            "type": "string",
                                            "enum": ["none", "ok", "failed"],
                                        },
                                        "previous_workflow_deactivation_error": {
                                            "type": ["string", "null"]
                                        },
                                    },
                                }
                            },
                        },
                    ]
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
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
            },
        },
    }
