"""ETags and If-Match."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from starlette.requests import Request

from app.core.errors import PreconditionFailed
from app.core.http import check_if_match, make_etag


def _request(if_match: str | None) -> Request:
    headers = [] if if_match is None else [(b"if-match", if_match.encode())]
    return Request({"type": "http", "method": "PATCH", "path": "/", "headers": headers})


def test_make_etag_is_a_quoted_stable_digest() -> None:
    uid = uuid.UUID("3f1e2d4c-5b6a-4789-9abc-def012345678")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    tag = make_etag(uid, at)
    assert tag.startswith('"')
    assert tag.endswith('"')
    assert len(tag) == 34
    assert tag == make_etag(uid, at)
    assert tag != make_etag(uid, at + timedelta(microseconds=1))
    assert tag != make_etag(uuid.uuid4(), at)
    assert make_etag(at) == make_etag(at.isoformat())


@pytest.mark.parametrize(
    "given",
    [None, '"cur"', 'W/"cur"', '"old", "cur"', "*", '"old",W/"cur"', ' "cur" '],
)
def test_if_match_passes(given: str | None) -> None:
    check_if_match(_request(given), '"cur"')


@pytest.mark.parametrize("given", ['"old"', "cur", '"old", "older"', '""'])
def test_stale_if_match_is_412(given: str) -> None:
    with pytest.raises(PreconditionFailed) as exc:
        check_if_match(_request(given), '"cur"')
    assert exc.value.status == 412
