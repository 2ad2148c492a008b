"""What a run is asked to do: endpoint specs, the run's parameters, and its API key.

A model is named on the command line (and in the admin form) as ``LABEL=BASE_URL`` or
``LABEL=BASE_URL,model=ID``: LABEL is what Arbiter records (a candidate's ``model``, the
judge's ``judge:LABEL``), ID what the endpoint is asked for (LABEL when not given).
Parameters are validated here once, whoever starts the run, and stored with its job; they
hold the *name* of the environment variable with the API key, never the key.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.errors import Unprocessable
from app.i18n import N_, validation_problems

DEFAULT_KEY_ENV = "ARBITER_LLM_API_KEY"
LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,99}$")
ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")


@dataclass(frozen=True)
class Endpoint:
    label: str
    base_url: str
    model: str

    @property
    def public_url(self) -> str:
        """The base URL without user info, query or fragment: what may be recorded."""
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def parse_endpoint(spec: str) -> Endpoint:
    """``LABEL=BASE_URL[,model=ID]`` → Endpoint; a clear ``ValueError`` otherwise."""
    label, sep, rest = spec.strip().partition("=")
    if not sep or not label:
        raise ValueError(f"{spec!r}: expected LABEL=BASE_URL[,model=ID]")
    if not LABEL_RE.match(label):
        raise ValueError(f"{label!r}: a label is letters, digits and ._:/@+- (at most 100)")
    url, _, options = rest.partition(",")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{label}: the base URL must be http(s)://host[/path] (got {url!r})")
    if parts.username or parts.password or parts.query:
        raise ValueError(f"{label}: put no credentials or query in the URL (use --api-key-env)")
    model = label
    for option in filter(None, (o.strip() for o in options.split(","))):
        key, _, value = option.partition("=")
        if key != "model" or not value.strip():
            raise ValueError(f"{label}: unknown option {option!r} (only model=ID)")
        model = value.strip()
    return Endpoint(label, url.strip().rstrip("/"), model)


ModelSpec = Annotated[str, Field(min_length=3, max_length=500)]


class RunParams(BaseModel):
    """What generation and judge runs share."""

    model_config = ConfigDict(extra="forbid")

    model: list[ModelSpec] = Field(min_length=1, max_length=16)
    batch: list[str] = Field(default_factory=list)
    concurrency: int = Field(4, ge=1, le=64)
    api_key_env: str = DEFAULT_KEY_ENV

    @field_validator("model")
    @classmethod
    def _models(cls, specs: list[str]) -> list[str]:
        labels = [parse_endpoint(s).label for s in specs]
        if len(set(labels)) != len(labels):
            raise ValueError("each --model needs its own LABEL")
        return [s.strip() for s in specs]

    @field_validator("api_key_env")
    @classmethod
    def _env(cls, name: str) -> str:
        if not ENV_RE.match(name):
            raise ValueError("the name of an environment variable (letters, digits, _)")
        return name

    @property
    def endpoints(self) -> list[Endpoint]:
        return [parse_endpoint(s) for s in self.model]


class GenerateParams(RunParams):
    per_prompt: int = Field(1, ge=1, le=64)
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1, le=1_000_000)
    system: str | None = Field(None, max_length=100_000)

    @field_validator("system")
    @classmethod
    def _system(cls, text: str | None) -> str | None:
        return text if text and text.strip() else None


class JudgeParams(RunParams):
    model: list[ModelSpec] = Field(min_length=1, max_length=1)
    rubric: str | None = Field(None, max_length=100_000, description="the prompt template")
    temperature: float | None = Field(0.0, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1, le=1_000_000)


def describe(exc: Any, *, cli: bool = True) -> str:
    """A pydantic ValidationError as ``field: reason; …`` (``--option: reason`` for the CLI)."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"] if not isinstance(p, int))
        if where and cli:
            where = "--" + where.replace("_", "-")
        parts.append((where, error))
    return validation_problems(parts)


def api_key(env: str, *, required: bool) -> str | None:
    """The key from the environment variable ``env``; an unset default means no key (local
    servers need none), an unset variable that was named explicitly is an error."""
    value = os.environ.get(env, "").strip()
    if not value and required:
        raise Unprocessable(N_("api_key_env: the environment variable %(env)s is not set"), env=env)
    return value or None
