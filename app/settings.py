"""Settings from the environment (prefix ``ARBITER_``): one ``Settings`` object.

Every field carries a one-line description; the README lists them all and a test checks that
it does.
"""

from __future__ import annotations

import ipaddress
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
    max_json_kb: int = Field(
        256,
        ge=1,
        description="Largest request body other than a batch file upload (JSON bodies, "
        "forms), in kilobytes (413 over it).",
    )
    session_idle_minutes: int = Field(
        480,
        ge=1,
        description="A browser session unused for this many minutes is over (sign in again).",
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For is believed; none by default.",
    )
    run_jobs: bool = Field(
        True,
        description="Run background model jobs (generation, judge) in this app process.",
    )
    archive_dir: Path = Field(
        Path("archive"),
        description="Where a project's or batch's labels are written (raw judgements and "
        "manifest) before it is deleted.",
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

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"ARBITER_TRUSTED_PROXIES: {part!r} is not an address") from None
        return value

    def proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        parts = (p.strip() for p in self.trusted_proxies.split(","))
        return [ipaddress.ip_network(p, strict=False) for p in parts if p]

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
