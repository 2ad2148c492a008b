"""Settings from the environment (prefix ``ARBITER_``): one ``Settings`` object.

Every field carries a one-line description; the README lists them all and a test checks that
it does.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Values that look like someone copied an example instead of choosing a secret.
PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "changethis", "secret", "dev", "development", "test", "xxx", ""}
)
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARBITER_", extra="ignore")

    database_url: str = Field(
        "sqlite:///./arbiter.db",
        description="SQLAlchemy URL of the database; SQLite file by default, "
        "postgresql+psycopg://user@host/db selects Postgres.",
    )
    secret_key: str = Field(
        "",
        description="Key that signs session cookies; generated once into "
        "ARBITER_SECRET_KEY_FILE when unset.",
    )
    secret_key_file: Path = Field(
        Path(".arbiter-secret"),
        description="Where the generated secret key is kept when ARBITER_SECRET_KEY is unset.",
    )
    max_upload_mb: int = Field(
        1024,
        ge=1,
        description="Largest batch file accepted for import, and largest request body "
        "(413 over it), in megabytes.",
    )
    lease_seconds: int = Field(
        900, ge=10, description="How long a comparison stays leased to an annotator."
    )
    pool_size: int = Field(5, ge=1, description="Postgres connections kept open per app process.")
    max_overflow: int = Field(
        10, ge=0, description="Extra Postgres connections a process may open under load."
    )
    pool_timeout: float = Field(
        30,
        gt=0,
        description="Seconds a request waits for a free Postgres connection before it is "
        "answered 503.",
    )
    https: bool = Field(
        False, description="Mark the session cookie Secure (set when served over HTTPS)."
    )
    run_jobs: bool = Field(
        True,
        description="Run background model jobs (generation, judge) in this app process.",
    )

    @field_validator("secret_key")
    @classmethod
    def _refuse_placeholder(cls, value: str) -> str:
        if value and (value.lower() in PLACEHOLDER_SECRETS or len(value) < MIN_SECRET_LENGTH):
            raise ValueError(
                f"ARBITER_SECRET_KEY looks like a placeholder; use at least "
                f"{MIN_SECRET_LENGTH} random characters (or leave it unset to generate one)"
            )
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept in ``secret_key_file``."""
        if self.secret_key:
            return self.secret_key
        path = self.secret_key_file
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(48)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(key + "\n")
        return key
