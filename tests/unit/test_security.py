"""CSRF tokens, password hashing, secret digests."""

from __future__ import annotations

import hashlib

from app.core.security import (
    csrf_matches,
    csrf_token,
    digest,
    hash_password,
    new_secret,
    verify_password,
)

KEY = b"k" * 32


def test_csrf_token_is_bound_to_key_and_session() -> None:
    token = csrf_token(KEY, "session-a")
    assert token == csrf_token(KEY, "session-a")
    assert token != csrf_token(KEY, "session-b")
    assert token != csrf_token(b"other" * 8, "session-a")
    assert "session-a" not in token
    assert len(token) == 64


def test_csrf_matches_only_the_right_token() -> None:
    good = csrf_token(KEY, "s")
    assert csrf_matches(KEY, "s", good)
    assert not csrf_matches(KEY, "s", None)
    assert not csrf_matches(KEY, "s", "")
    assert not csrf_matches(KEY, "s", good.upper())
    assert not csrf_matches(KEY, "s", good[:-1])
    assert not csrf_matches(KEY, "t", good)
    assert not csrf_matches(b"x" * 32, "s", good)


def test_non_ascii_candidate_is_a_mismatch_not_an_error() -> None:
    assert not csrf_matches(KEY, "s", "\xe9t\xe9")
    assert not csrf_matches(KEY, "s", csrf_token(KEY, "s")[:-1] + "\xe9")


def test_passwords_are_argon2id_and_salted() -> None:
    one, two = hash_password("correct horse"), hash_password("correct horse")
    assert one.startswith("$argon2id$")
    assert one != two
    assert verify_password(one, "correct horse")
    assert not verify_password(one, "correct horsE")
    assert not verify_password("not a hash", "correct horse")


def test_secrets_and_digests() -> None:
    a, b = new_secret("gmb_"), new_secret("gmb_")
    assert a.startswith("gmb_")
    assert a != b
    assert len(a) >= 40
    assert digest(a) == hashlib.sha256(a.encode()).hexdigest()
