"""The production password hasher is Argon2id at (at least) OWASP's recommended cost; the test
suite swaps in a cheap one (tests/conftest.py) and hands the real one to this test."""

from __future__ import annotations

from argon2 import PasswordHasher, Type


def test_production_hasher_is_argon2id_at_owasp_cost(
    _cheap_password_hashing: PasswordHasher,  # noqa: PT019 - its value is the real hasher
) -> None:
    production = _cheap_password_hashing
    assert production.type is Type.ID
    assert production.time_cost >= 2
    assert production.memory_cost >= 19 * 1024  # KiB
    assert production.hash("a long enough password").startswith("$argon2id$")
