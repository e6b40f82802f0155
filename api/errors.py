"""The HTTP status of each service error (SPEC §4–§5): the API's decision, not the core's."""

from django.http import JsonResponse

from automations.errors import ErrorCode, ServiceError

from .http import error_response

HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_TRANSITION: 400,
    ErrorCode.NO_WORKFLOW_BINDING: 400,
    ErrorCode.WORKFLOW_BINDING_ERROR: 400,
    ErrorCode.APPROVAL_REQUIRED: 400,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.DEPLOY_IN_PROGRESS: 409,
    # The request's deploy was settled by reconcile: a conflict with what happened meanwhile.
    ErrorCode.DEPLOY_RECONCILED: 409,
    ErrorCode.ACTIVATION_FAILED: 502,
    ErrorCode.DEPLOY_INCOMPLETE: 500,
}


def http_status(error: ServiceError) -> int:
    return HTTP_STATUS[error.code]


def service_error_response(error: ServiceError) -> JsonResponse:
    return error_response(http_status(error), error.code, error.message)
