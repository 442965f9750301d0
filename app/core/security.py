"""Password hashing (Argon2id), opaque secrets stored as SHA-256, CSRF tokens, ETags."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD = 10
MAX_PASSWORD = 256

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """Verified against when the account does not exist, so timing does not reveal it."""
    return _hasher.hash(secrets.token_urlsafe(16))


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def csrf_token(key: bytes, session_secret: str) -> str:
    return hmac.new(key, b"csrf:" + session_secret.encode(), hashlib.sha256).hexdigest()


def csrf_matches(key: bytes, session_secret: str, given: str | None) -> bool:
    # compare_digest raises TypeError on non-ASCII str; header values may hold any latin-1 byte.
    if not given or not given.isascii():
        return False
    return hmac.compare_digest(csrf_token(key, session_secret), given)
