"""Idempotent creates: a replay is judged by the digest of its canonical payload."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel


def payload_hash(data: BaseModel, *, exclude: Iterable[str] = ("id",)) -> str:
    """SHA-256 of the payload as JSON with sorted keys, so field order and the presence of
    defaulted fields do not matter."""
    dumped: dict[str, Any] = data.model_dump(mode="json", exclude=set(exclude))
    raw = json.dumps(dumped, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()
