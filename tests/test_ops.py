"""Health, readiness, metrics, security headers and problem+json for framework errors."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.helpers import assert_problem


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["status"] == "ready"


def test_readyz_is_503_when_not_migrated_to_head(client: TestClient, app: FastAPI) -> None:
    with app.state.write_engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    body = assert_problem(client.get("/readyz"), 503)
    assert "gembalog migrate" in str(body["detail"])
    assert client.get("/healthz").status_code == 200


def test_readyz_is_503_when_database_unreachable(
    make_app: Callable[..., FastAPI], tmp_path: object
) -> None:
    app = make_app(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    with TestClient(app) as c:
        assert_problem(c.get("/readyz"), 503)
        assert c.get("/healthz").status_code == 200


def test_metrics_are_prometheus_text(client: TestClient) -> None:
    client.get("/healthz")
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert 'gembalog_http_requests_total{method="GET",route="/healthz",status="200"}' in r.text


def test_security_headers_on_every_response(client: TestClient) -> None:
    for r in (client.get("/healthz"), client.get("/api/v1/nope"), client.get("/api/v1/me")):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["referrer-policy"]


def test_unknown_route_and_wrong_method_are_problems(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/does-not-exist"), 404)
    assert_problem(client.delete("/healthz"), 405)


def test_unauthenticated_is_401_problem(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/me"), 401)
    assert_problem(client.get("/api/v1/me", headers={"Authorization": "Basic abc"}), 401)
    assert_problem(client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}), 401)


def test_body_over_limit_is_413_before_reading(client: TestClient) -> None:
    big = b'{"email": "' + b"a" * (1024 * 1024 + 10) + b'"}'
    assert_problem(
        client.post(
            "/api/v1/auth/login", content=big, headers={"content-type": "application/json"}
        ),
        413,
    )


def test_chunked_body_over_limit_is_413(client: TestClient) -> None:
    def chunks() -> object:
        for _ in range(20):
            yield b"x" * (64 * 1024)

    r = client.post(
        "/api/v1/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(r, 413)


def test_wrong_content_type_is_415(client: TestClient) -> None:
    r = client.post(
        "/api/v1/auth/login", content=b"email=a", headers={"content-type": "text/plain"}
    )
    assert_problem(r, 415)


def test_malformed_json_and_validation_are_422_with_fields(client: TestClient) -> None:
    r = client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(r, 422)
    body = assert_problem(client.post("/api/v1/auth/login", json={"email": "a@b.c"}), 422)
    assert {"field": "password", "message": "Field required"} in body["errors"]  # type: ignore[operator]


def test_unexpected_error_is_500_problem_without_internals(app: FastAPI) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
    body = assert_problem(r, 500)
    assert "secret" not in r.text
    assert "passwd" not in r.text
    assert body["title"] == "Internal Server Error"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_openapi_operation_ids_are_snake_case_verb_noun(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    for op_id in ids:
        assert op_id.islower(), op_id
        assert op_id.replace("_", "").isalnum(), op_id
    assert {
        "login_user",
        "logout_user",
        "get_me",
        "create_token",
        "list_users",
        "update_user",
    } <= set(ids)


def test_openapi_documents_errors_as_problem_json(client: TestClient) -> None:
    """A generated client must read error bodies with the type the server really sends."""
    spec = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    problem = {"$ref": "#/components/schemas/ProblemDetails"}
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            responses = op["responses"]
            if path.startswith("/api/v1/"):
                assert {"401", "403", "422"} <= set(responses), (method, path)
            for status, response in responses.items():
                if status[0] in "45":
                    assert response["content"] == {"application/problem+json": {"schema": problem}}
    fields = spec["components"]["schemas"]["ProblemDetails"]["properties"]
    assert {"type", "title", "status", "detail", "errors"} <= set(fields)
