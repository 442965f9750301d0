"""Assertions shared by the HTTP tests."""

from __future__ import annotations

from typing import Any

PROBLEM = "application/problem+json"


def assert_problem(r: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """`r` is a problem+json response with `status`; with `field`, a 422 naming that field."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers["content-type"]
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail"} <= set(body)
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body
