"""Domain errors and their rendering as RFC 9457 problem+json."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

PROBLEM_JSON = "application/problem+json"

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class FieldError(BaseModel):
    field: str = Field(
        description="Dotted path of the offending input, e.g. pain_points.0.severity."
    )
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, the body of every 4xx and 5xx answer."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = Field(
        default=None, description="Validation failures (422 only)."
    )


def _problem(description: str) -> dict[str, Any]:
    return {
        "model": ProblemDetails,
        "description": description,
        "content": {PROBLEM_JSON: {}},
    }


# Documented on every /api/v1 operation (routes add their own 404, 409, 412, …). Declaring 422
# here also replaces FastAPI's default HTTPValidationError, which is not what the API sends.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem("Not signed in, or the session or token is no longer valid"),
    403: _problem("Not allowed: role, token scope, or a missing CSRF token"),
    422: _problem("The request is not valid; `errors` names each field"),
}


def problem_media_in_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents a response `model` under application/json; error answers are
    application/problem+json, so move each error's schema there (a generated client then
    reads errors with the right type)."""
    ref = {"$ref": "#/components/schemas/ProblemDetails"}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                if status[:1] not in "45":
                    continue
                content = response.setdefault("content", {})
                if "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
                if not content.get(PROBLEM_JSON, {}).get("schema"):
                    content[PROBLEM_JSON] = {"schema": ref}
    return schema


def problem_type(status: int) -> str:
    return f"https://gembalog.dev/problems/{status}"


def problem_body(
    status: int, detail: str, *, title: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type(status),
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, detail, title=title, **extra),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


class AppError(Exception):
    """Base of every error a service may raise; the handler renders it as problem+json."""

    status = 400

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = headers

    def to_problem(self) -> dict[str, Any]:
        return problem_body(self.status, self.detail, errors=self.errors)


class BadRequest(AppError):
    status = 400


class Unauthorized(AppError):
    status = 401


class Forbidden(AppError):
    status = 403


class NotFound(AppError):
    status = 404


class Conflict(AppError):
    status = 409


class PreconditionFailed(AppError):
    status = 412


class PayloadTooLarge(AppError):
    status = 413


class UnsupportedMediaType(AppError):
    status = 415


class Invalid(AppError):
    """A 422 naming the offending field(s) with dotted paths."""

    status = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", errors=[{"field": field, "message": message}])


class TooManyRequests(AppError):
    status = 429

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class ServiceUnavailable(AppError):
    status = 503


_LOCATIONS = {"body", "query", "path", "header", "cookie"}


def validation_errors(raw: Sequence[Any]) -> list[dict[str, str]]:
    out = []
    for err in raw:
        loc = [str(p) for p in err.get("loc", ())]
        if err.get("type") == "json_invalid":
            loc = []  # its loc ends with a character offset, which is no field
        elif loc and loc[0] in _LOCATIONS:
            loc = loc[1:]
        out.append({"field": ".".join(loc) or "body", "message": str(err.get("msg", "invalid"))})
    return out


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(
            exc.to_problem(), status_code=exc.status, media_type=PROBLEM_JSON, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc.errors())
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem_response(422, detail or "The request is not valid.", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        if exc.status_code == 404 and detail == "Not Found":
            detail = "No such resource."
        elif exc.status_code == 405 and detail == "Method Not Allowed":
            detail = "This resource does not support that method."
        headers = dict(exc.headers) if exc.headers else None
        errors = getattr(exc, "errors", None)  # a 422 raised where only HTTPException passes
        return problem_response(exc.status_code, detail, headers=headers, errors=errors)
