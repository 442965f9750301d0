"""Validation errors as dotted field paths, problem bodies, domain errors."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from app.core.errors import (
    Conflict,
    Invalid,
    TooManyRequests,
    install_handlers,
    problem_body,
    validation_errors,
)


@pytest.mark.parametrize(
    ("loc", "field"),
    [
        (("body", "pain_points", 0, "severity"), "pain_points.0.severity"),
        (("query", "limit"), "limit"),
        (("path", "user_id"), "user_id"),
        (("header", "if-match"), "if-match"),
        (("body",), "body"),
        ((), "body"),
        (("name",), "name"),  # a model validated outside a request has no location
    ],
)
def test_dotted_paths(loc: tuple[Any, ...], field: str) -> None:
    [err] = validation_errors([{"loc": loc, "msg": "bad", "type": "value_error"}])
    assert err == {"field": field, "message": "bad"}


def test_invalid_json_names_the_body_not_a_character_offset() -> None:
    raw = [{"type": "json_invalid", "loc": ("body", 12), "msg": "JSON decode error"}]
    assert validation_errors(raw) == [{"field": "body", "message": "JSON decode error"}]


def test_missing_message_has_a_default() -> None:
    assert validation_errors([{"loc": ("body", "x")}]) == [{"field": "x", "message": "invalid"}]


def test_problem_body_shape() -> None:
    body = problem_body(409, "Taken.", errors=None)
    assert body == {
        "type": "https://gembalog.dev/problems/409",
        "title": "Conflict",
        "status": 409,
        "detail": "Taken.",
    }


def test_domain_errors() -> None:
    inv = Invalid("pain_points.0.severity", "must be 1-5")
    assert inv.status == 422
    assert inv.to_problem()["errors"] == [
        {"field": "pain_points.0.severity", "message": "must be 1-5"}
    ]
    assert Conflict("x").to_problem()["status"] == 409
    assert TooManyRequests("wait", retry_after=0).headers == {"Retry-After": "1"}
    assert TooManyRequests("wait", retry_after=30).headers == {"Retry-After": "30"}


class Tag(BaseModel):
    severity: int = Field(ge=1, le=5)


class Body(BaseModel):
    pain_points: list[Tag] = Field(max_length=3)


def _app() -> FastAPI:
    app = FastAPI()
    install_handlers(app)

    @app.post("/x")
    def x(body: Body) -> dict[str, str]:
        return {}

    return app


def test_request_validation_through_the_handler() -> None:
    c = TestClient(_app())
    r = c.post("/x", json={"pain_points": [{"severity": 3}, {"severity": 9}]})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["pain_points.1.severity"]
    assert "pain_points.1.severity" in r.json()["detail"]
    r = c.post("/x", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["body"]
    r = c.post("/x", json=[1, 2])
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body"
