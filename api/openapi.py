"""The OpenAPI 3.1 document of the API, written by hand to match views.py and lists.py
(schemas in openapi_schemas.py)."""

from typing import Any

from .converters import MAX_ID
from .idempotency import (
    EXEMPT_PREFIXES,
    HEADER,
    IN_USE_RETRY_AFTER_SECONDS,
    KEY_PATTERN,
    MUTATING,
    REPLAYED_HEADER,
)
from .openapi_schemas import LIST_PARAMETERS, SCHEMAS
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


def _body_errors() -> dict[str, Any]:
    """What any operation that reads a body may answer about it."""
    return {
        "411": _error("length_required: a chunked body, which WSGI cannot read."),
        "413": _error("payload_too_large: the body exceeds API_MAX_BODY_BYTES."),
    }


def _ok(description: str, schema: str) -> dict[str, Any]:
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


def _body(schema: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


VERSION_ID = {
    "name": "version_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}
AUTH_ERRORS = {
    "401": _error("No or invalid credentials."),
    "429": _error(
        "too_many_attempts: too many failed authentications from this address; see Retry-After."
    ),
    "500": _error("internal_error: an unexpected error, logged for ops."),
}
IDEMPOTENCY_KEY = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "A value unique to this request (a UUID, say). A retry with the same key "
    "and body, within IDEMPOTENCY_KEY_TTL_SECONDS (24 h), gets the first answer again, with "
    f"`{REPLAYED_HEADER}: true`, and changes nothing. Not stored, so that a retry runs anew: "
    "409 deploy_in_progress, 502 wrk_unavailable, a 400 about the body itself, 500 "
    "internal_error. Keys are per user.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": f"^{KEY_PATTERN}$"},
}
# What the Idempotency-Key header adds to a mutating operation's answers.
KEY_ERRORS = {
    "400": "invalid_idempotency_key: the Idempotency-Key header is not 1 to 255 printable "
    "ASCII characters.",
    "409": "idempotency_key_in_use: a request with this key is still being answered "
    f"(Retry-After: {IN_USE_RETRY_AFTER_SECONDS}).",
    "422": "idempotency_key_reused: this key came first with another method, path or body.",
}
MALFORMED = (
    "bad_request (a wrong or missing field), malformed_json (not UTF-8, not JSON, or nested "
    "over 64 levels)"
)


def _list(operation_id: str, summary: str, page: str, params: list[str]) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": [LIST_PARAMETERS[name] for name in [*params, "cursor", "limit"]],
            "responses": {
                "200": _ok("One page, newest first.", page),
                "400": _error(
                    "bad_request (an unknown parameter, or one that is not a number), "
                    "invalid_status, invalid_cursor."
                ),
                "403": _error("Not allowed to view these."),
                **AUTH_ERRORS,
                **_edge_errors(),
            },
        }
    }


def _paths() -> dict[str, Any]:
    return {
        "/v1/automation-versions": {
            **_list(
                "listAutomationVersions",
                "Automation versions, newest first, by project and status.",
                "AutomationVersionPage",
                ["project", "status"],
            ),
            "post": {
                "operationId": "registerAutomationVersion",
                "summary": "A finished build registers its version and workflow (idempotent).",
                "requestBody": _body("Registration"),
                "responses": {
                    "200": _ok(
                        "The same registration again: the version as it is.", "AutomationVersion"
                    ),
                    "201": _ok(
                        "Registered: a Draft version, binding pending.", "AutomationVersion"
                    ),
                    "400": _error(f"{MALFORMED}, unknown_project."),
                    "403": _error("Not allowed to register versions."),
                    "409": _error(
                        "version_exists: the project has this version with another workflow; "
                        "workflow_in_use: the workflow serves another version."
                    ),
                    **_body_errors(),
                    **AUTH_ERRORS,
                    **_edge_errors(),
                },
            },
        },
        "/v1/automation-versions/{version_id}": {
            "get": {
                "operationId": "getAutomationVersion",
                "summary": "An automation version, its project and its workflow binding.",
                "parameters": [VERSION_ID],
                "responses": {
                    "200": _ok("The version.", "AutomationVersion"),
                    "403": _error("Not allowed to view versions."),
                    "404": _error("No such version, or not an id."),
                    **AUTH_ERRORS,
                    **_edge_errors(),
                },
            }
        },
        "/v1/automation-versions/{version_id}/status": {
            "patch": {
                "operationId": "setAutomationVersionStatus",
                "summary": "Deploy a version ('Live'), adopt a manual activation in WRK "
                "('Live' with adopt), or mark ready / restage it ('Ready to Launch').",
                "parameters": [VERSION_ID],
                "requestBody": _body("StatusChange"),
                "responses": {
                    "200": _ok("The version after the change.", "AutomationVersionDeployed"),
                    "400": _error(
                        f"{MALFORMED}, invalid_status, invalid_transition, "
                        "no_workflow_binding, workflow_binding_error or approval_required."
                    ),
                    "403": _error("Not allowed (deploy needs the Ops group's permission)."),
                    "404": _error("No such version, or not an id."),
                    "409": _error(
                        "deploy_in_progress: another deploy of the project runs; "
                        "deploy_reconciled: reconcile settled this deploy first; "
                        "not_active_on_wrk: adopt, but WRK reports the workflow inactive."
                    ),
                    **_body_errors(),
                    "500": _error(
                        "deploy_incomplete: WRK activated but recording failed; "
                        "`reconcile` finishes it. internal_error: an unexpected error, "
                        "logged for ops."
                    ),
                    "502": _error(
                        "activation_failed: WRK did not activate after retries; "
                        "wrk_unavailable: WRK could not be asked (adopt)."
                    ),
                    "401": AUTH_ERRORS["401"],
                    "429": AUTH_ERRORS["429"],
                    **_edge_errors(),
                },
            }
        },
        "/v1/automation-versions/{version_id}/approval": {
            method: {
                "operationId": operation_id,
                "summary": summary,
                "parameters": [VERSION_ID],
                "responses": {
                    "200": _ok("The version, with its approval.", "AutomationVersion"),
                    **({"400": _error(errors_400)} if errors_400 else {}),
                    "403": _error("Not allowed to approve deploys."),
                    "404": _error("No such version, or not an id."),
                    **({"409": _error(errors_409)} if errors_409 else {}),
                    **AUTH_ERRORS,
                    **_edge_errors(),
                },
            }
            for method, operation_id, summary, errors_400, errors_409 in (
                (
                    "post",
                    "approveAutomationVersion",
                    "Approve a Ready to Launch version (not its author; its approver may not "
                    "deploy it). Approving an approved version changes nothing.",
                    "invalid_transition (not Ready to Launch), self_approval (its author).",
                    "",
                ),
                (
                    "delete",
                    "revokeAutomationVersionApproval",
                    "Revoke the version's approval (any user who may approve); a version "
                    "without one is left as it is.",
                    "",
                    "deploy_in_progress: a deploy with this approval runs.",
                ),
            )
        },
        "/v1/projects": _list(
            "listProjects",
            "Projects, newest first, with what is Live and what waits.",
            "ProjectPage",
            [],
        ),
        "/v1/deployments": _list(
            "listDeployments",
            "Deploy attempts, newest first; each names its automation_version.",
            "DeploymentPage",
            ["project"],
        ),
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
                    "401": _error("invalid_signature: missing, wrong, or stale; nothing stored."),
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
                "responses": {"200": {"description": "The OpenAPI document."}, **_edge_errors()},
            }
        },
    }


def _with_idempotency_keys(paths: dict[str, Any]) -> dict[str, Any]:
    """Every mutating operation takes the Idempotency-Key header and may refuse a key, as
    api_view applies it: one rule for all, the webhook excepted."""
    for path, operations in paths.items():
        if path.startswith(EXEMPT_PREFIXES):
            continue
        for method, operation in operations.items():
            if method.upper() not in MUTATING:
                continue
            operation["parameters"] = [*operation.get("parameters", []), IDEMPOTENCY_KEY]
            responses = operation["responses"]
            for status, text in KEY_ERRORS.items():
                before = responses.get(status)
                responses[status] = _error(f"{before['description']} {text}" if before else text)
    return paths


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
        "paths": _with_idempotency_keys(_paths()),
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
            },
            "schemas": SCHEMAS,
        },
    }
