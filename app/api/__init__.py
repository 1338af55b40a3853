"""The partner REST API under ``/api/v1``: JSON in, JSON out, errors always the same shape.

Every error is ``{"error": {"code", "message", "field"?}}`` with a 4xx status: a view
raises ``ApiError``, and Werkzeug's own errors (malformed JSON, a body over ``MAX_BODY``,
a wrong method or path) are answered the same way.
"""

from __future__ import annotations

import json
import logging
from typing import Any, NoReturn

from flask import Blueprint, Response, request
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
"""Where the API lives; errors under it are JSON even when no route matched."""

MAX_BODY = 1024 * 1024
"""The largest request body the API reads (1 MB); a larger one gets 413."""

bp = Blueprint("api", __name__, url_prefix=PREFIX)

_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict",
    413: "payload_too_large", 415: "unsupported_media_type", 422: "invalid", 429: "too_many",
}


class ApiError(Exception):
    """An error answered as ``{"error": {...}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}


def fail(status: int, code: str, message: str, field: str | None = None) -> NoReturn:
    """Stop the request with an API error."""
    raise ApiError(status, code, message, field)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None
                  ) -> Response:
    """Answer ``body`` as compact JSON."""
    return Response(json.dumps(body, separators=(",", ":"), ensure_ascii=False), status=status,
                    mimetype="application/json", headers=headers)


def error_response(status: int, code: str, message: str, field: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    """Answer an error in the contract's shape."""
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return json_response({"error": error}, status, headers)


def read_json() -> Any:
    """Give the request's JSON body: 415 if it is not JSON, 400 if it does not parse."""
    if not request.is_json:
        fail(415, "unsupported_media_type", "Send the body as application/json.")
    raw = request.get_data(cache=True)  # raises 413 past MAX_BODY
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError):
        fail(400, "malformed_json", "The body is not valid JSON.")


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


@bp.before_request
def _limit_body() -> None:
    # Per request, so the AT callbacks keep Flask's defaults.
    request.max_content_length = MAX_BODY


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.field, exc.headers)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    return _as_json(exc)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):  # pragma: no cover - handled above
        return _as_json(exc)
    if isinstance(exc, SQLAlchemyError | RedisError):
        log.error("api request failed, storage unavailable: %s", type(exc).__name__)
        return error_response(503, "unavailable", "The service is busy; try again shortly.",
                              headers={"Retry-After": "30"})
    log.exception("api request failed")
    return error_response(500, "internal_error", "Something went wrong on our side; try again.")


def _as_json(exc: HTTPException) -> Response:
    status = exc.code or 500
    headers = {}
    valid = getattr(exc, "valid_methods", None)
    if valid:
        headers["Allow"] = ", ".join(valid)
    message = {
        400: "The request could not be read.",
        404: "There is no such resource.",
        405: f"{request.method} is not allowed here.",
        413: f"The body is larger than {MAX_BODY // 1024} KB.",
        415: "Send the body as application/json.",
    }.get(status, exc.description or exc.name)
    return error_response(status, _CODES.get(status, "error"), message, headers=headers)


def _under_api() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def _routing_error(exc: HTTPException) -> Response | HTTPException:
    # No route matched, so no blueprint handler runs: answer JSON for API paths only.
    if _under_api():
        return _as_json(exc)
    return exc


for _status in (404, 405):
    bp.app_errorhandler(_status)(_routing_error)


def register(app: Any) -> None:
    """Attach the API blueprint with its routes."""
    from app.api import (  # noqa: F401 - routes on ``bp``
        cases,
        events,
        listings,
        openapi,
        placements,
        reports,
    )

    app.register_blueprint(bp)


__all__ = ["ApiError", "bp", "error_response", "fail", "json_response", "read_json",
           "register"]
