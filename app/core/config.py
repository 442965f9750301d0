"""One settings class; every variable is prefixed GEMBALOG_ (SPEC §7)."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MIN_SECRET = 16


class Settings(BaseSettings):
    # hide_input_in_errors: a refused GEMBALOG_SECRET_KEY must not be echoed in the error.
    model_config = SettingsConfigDict(
        env_prefix="GEMBALOG_", extra="ignore", hide_input_in_errors=True
    )

    data_dir: Path = Field(default=Path("data"), description="Attachments and the SQLite file.")
    database_url: str = Field(default="", description="Default: SQLite at <data_dir>/gembalog.db.")
    secret_key: SecretStr | None = Field(
        default=None, description="Generated into <data_dir>/secret_key when unset."
    )
    admin_email: str | None = None
    admin_password: SecretStr | None = None
    environment: Literal["development", "production", "test"] = "development"

    session_days: int = Field(default=14, ge=1, le=365)
    login_account_limit: int = Field(default=5, ge=1, description="Failed logins/minute/account.")
    login_address_limit: int = Field(default=100, ge=1, description="Failed logins/minute/address.")
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)
    db_pool_size: int = Field(default=10, ge=1)
    freeze_heap: bool = Field(
        default=True,
        description="Freeze the long-lived heap out of the garbage collector's full "
        "collections at start and after the first responses (app.core.heap; the write path "
        "freezes at its first write either way); off in the test suite, which builds many "
        "apps.",
    )

    max_json_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_sync_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_upload_pixels: int = Field(default=40_000_000, ge=1)
    orphan_grace_hours: int = Field(default=72, ge=1)

    log_level: str = "INFO"

    @field_validator("secret_key")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET:
            raise ValueError(f"GEMBALOG_SECRET_KEY must be at least {MIN_SECRET} characters")
        return value

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'gembalog.db'}"
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @cached_property
    def secret(self) -> bytes:
        """The signing secret; generated once and kept (0600) in the data folder when unset."""
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value()
            if len(value) < MIN_SECRET:
                raise ValueError(f"GEMBALOG_SECRET_KEY must be at least {MIN_SECRET} characters")
            return value.encode()
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            # Write under a temporary name, then link: concurrent first starts agree on one key.
            tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_text().strip().encode()


def get_settings() -> Settings:
    return Settings()
