"""Typed settings from the environment or `.env` (pydantic-settings), validated in one place."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PLACEHOLDER = re.compile(
    r"^(|changeme|change-me|todo|xxx+|\.\.\.|secret|password|token|your[-_ ].*|<.*>|"
    r"https?://(your|example|xxx)[^/]*\.?.*)$",
    re.IGNORECASE,
)


class SettingsError(Exception):
    """Settings are missing or invalid; `problems` has one line per variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class Settings(BaseSettings):
    """Every setting the bot reads; names are the environment variables in upper case."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    jira_url: str
    jira_user: str
    jira_api_token: SecretStr
    webhook_secret: SecretStr
    service_desk_project: str
    tracking_project: str = ""
    automation_secret: SecretStr | None = None
    database_url: str = "sqlite:///uzibot.db"
    port: int = Field(default=8000, ge=1, le=65535)
    health_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    max_header_bytes: int = Field(default=64 * 1024, ge=4096)
    max_headers: int = Field(default=100, ge=10)
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    request_timeout_seconds: float = Field(default=30.0, gt=0)
    keep_alive_seconds: int = Field(default=5, ge=1)
    max_connections: int = Field(default=900, ge=1)
    bot_account_id: str = ""
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_cert_bytes: int = Field(default=256 * 1024, ge=1024)
    max_cert_files: int = Field(default=10, ge=1, le=100)
    lease_seconds: float = Field(default=300.0, gt=0)
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    worker_concurrency: int = Field(default=8, ge=1, le=64)
    retention_done_days: float = Field(default=14.0, gt=0)
    retention_failed_days: float = Field(default=90.0, ge=0)
    worker_max_attempts: int = Field(default=25, ge=1)
    worker_backoff_base_seconds: float = Field(default=30.0, gt=0)
    worker_backoff_cap_seconds: float = Field(default=6 * 3600.0, gt=0)
    jira_max_attempts: int = Field(default=4, ge=1)
    jira_max_wait_seconds: float = Field(default=60.0, ge=1)
    jira_timeout_seconds: float = Field(default=30.0, gt=0)
    jira_writes_per_second: float = Field(default=5.0, gt=0, le=1000)
    jira_issue_write_spacing_seconds: float = Field(default=0.5, ge=0, le=60)
    mappings_dir: Path | None = None
    log_level: str = "INFO"
    access_log: bool = False
    postgres_intake_commits: int = Field(default=1, ge=1, le=16)
    expiry_thresholds: str = "60,35,28,21,14,8"
    expiry_request_type: str = ""
    expiry_scan_seconds: float = Field(default=3600.0, ge=0)

    @field_validator("jira_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s]+$", value):
            raise ValueError("must be the site's base URL, e.g. https://yoursite.atlassian.net")
        return value

    @field_validator("service_desk_project", "tracking_project")
    @classmethod
    def _check_project(cls, value: str) -> str:
        value = value.strip().upper()
        if value and not re.match(r"^[A-Z][A-Z0-9_]{1,9}$", value):
            raise ValueError("must be a Jira project key such as UZO")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_db(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("must start with sqlite:// or postgresql://")
        return value

    @field_validator("expiry_thresholds")
    @classmethod
    def _check_thresholds(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not parts or not all(p.isdigit() and 0 < int(p) <= 400 for p in parts):
            raise ValueError("must be whole days before expiry, e.g. 60,35,28,21,14,8")
        return ",".join(str(n) for n in sorted({int(p) for p in parts}, reverse=True))

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.tracking_project:
            self.tracking_project = self.service_desk_project
        if self.health_port is not None and self.health_port == self.port:
            raise ValueError("HEALTH_PORT must differ from PORT")
        if self.metrics_port is not None and self.metrics_port in (self.port, self.health_port):
            raise ValueError("METRICS_PORT must differ from PORT and HEALTH_PORT")
        if self.lease_seconds < 2 * self.jira_timeout_seconds:
            # A Jira call only starts with at least its timeout left on the lease.
            raise ValueError("LEASE_SECONDS must be at least twice JIRA_TIMEOUT_SECONDS")
        return self

    def secret_values(self) -> list[str]:
        """Every secret value (each rotation entry too), for the log redactor."""
        values = [self.jira_api_token.get_secret_value()]
        values += [s.decode() for s in self.webhook_secrets() + self.automation_secrets()]
        password = re.search(r"://[^:/@]+:([^@]+)@", self.database_url)
        return values + ([password.group(1)] if password else [])

    def masked(self) -> dict[str, str]:
        """Every setting as it may be logged: secrets only as set/unset, no DB password."""
        out: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                out[name.upper()] = "[set]" if value.get_secret_value() else "[unset]"
            elif value is None or value == "":
                out[name.upper()] = "[unset]"
            else:
                out[name.upper()] = re.sub(r"://([^:/@]+):[^@]+@", r"://\1:***@", str(value))
        return out

    def thresholds(self) -> tuple[int, ...]:
        """The expiry watch's thresholds, days before expiry, largest first."""
        return tuple(int(p) for p in self.expiry_thresholds.split(","))

    def webhook_secrets(self) -> list[bytes]:
        """The accepted webhook secrets (comma-separated list, newest first, for rotation)."""
        return _split_secrets(self.webhook_secret)

    def automation_secrets(self) -> list[bytes]:
        """Secrets accepted in `X-Webhook-Secret`; defaults to the webhook secrets."""
        if self.automation_secret is None:
            return self.webhook_secrets()
        return _split_secrets(self.automation_secret)


def _split_secrets(secret: SecretStr) -> list[bytes]:
    return [s.strip().encode() for s in secret.get_secret_value().split(",") if s.strip()]


_REQUIRED_TEXT = ("jira_url", "jira_user", "jira_api_token", "webhook_secret")


def load_settings(
    env: Mapping[str, str] | None = None, *, env_file: str | None = ".env"
) -> Settings:
    """Build Settings from `env` (tests) or the process environment; raise SettingsError."""
    kwargs: dict[str, Any] = {"_env_file": env_file}
    try:
        if env is not None:
            lowered = {k.lower(): v for k, v in env.items()}
            known: dict[str, Any] = {k: lowered[k] for k in Settings.model_fields if k in lowered}
            settings = Settings(**kwargs, **known)
        else:
            settings = Settings(**kwargs)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None
    problems = [
        f"{name.upper()}: looks like a placeholder; set the real value"
        for name in _REQUIRED_TEXT
        if _is_placeholder(getattr(settings, name))
    ]
    if problems:
        raise SettingsError(problems)
    return settings


def _is_placeholder(value: object) -> bool:
    text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    return bool(_PLACEHOLDER.match(text.strip()))


def _describe(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        name = str(err["loc"][0]).upper() if err["loc"] else "SETTINGS"
        if err["type"] == "missing":
            lines.append(f"{name}: missing; set it in the environment or .env")
        else:
            lines.append(f"{name}: {err['msg']}")
    return lines
