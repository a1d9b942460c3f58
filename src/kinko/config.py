"""Configuration: a TOML file plus ``KINKO_*`` environment variables, validated at start.

Precedence: defaults < TOML file < environment. The file is ``$KINKO_CONFIG`` if set,
else ``<data dir>/kinko.toml`` if it exists. Unknown keys are refused, so a typo never
silently leaves a control at its default.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from kinko.core.errors import ConfigError

ENV_PREFIX = "KINKO_"


class Settings(BaseModel):
    """Every setting Kinko reads. Field names are the TOML keys; env is KINKO_<NAME>."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path = Field(default=Path("kinko-data"))
    database_url: str = ""
    # Past one process (PostgreSQL only): the Redis whose stream carries every process's
    # security events to the one evaluating monitor (docs/serving.md). Empty: one process.
    redis_url: str = ""
    redis_stream: str = Field(default="kinko:events", min_length=1)
    audit_key_path: Path | None = None
    audit_origin: str = "kinko.example/audit"
    checkpoint_interval_s: float = Field(default=60.0, gt=0)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "info"
    log_json: bool = True
    # The URL people open Kinko at (https://HOST[:PORT]) when a TLS proxy serves it; empty:
    # the address `kinko serve` binds (http://localhost:PORT for a loopback bind).
    public_url: str = ""
    # Empty (the default): derived from the served URL (kinko.core.urls). Set explicitly,
    # they must fit it, or `kinko serve` refuses to start (`check_served_url`).
    webauthn_rp_id: str = ""
    webauthn_rp_name: str = "Kinko"
    webauthn_origin: str = ""
    # How long a CLI session from `kinko login` (the device flow) lasts.
    cli_session_ttl_s: int = Field(default=12 * 3600, ge=60, le=7 * 24 * 3600)
    allow_weak_mfa_for_privileged: bool = False
    allow_totp_approvals: bool = False
    secret_key_path: Path | None = None
    policy_path: Path | None = None
    ethereum_node_url: str = ""
    ethereum_network: str = "mainnet"
    # Requests (kinko.api.limits): bodies over this are refused (413) before being read;
    # list uploads allow max_list_upload_bytes to a caller holding screening:write.
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_list_upload_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    # Liabilities statements (POST /v1/custody/statements), to a holder of liabilities:import.
    max_statement_upload_bytes: int = Field(default=2 * 1024**3, ge=1024)
    # Addresses or networks of reverse proxies whose X-Forwarded-For is believed (none).
    trusted_proxies: tuple[str, ...] = ()
    # The organisation's incident reporting deadline per regime, REGIME=DURATION (jp=24h);
    # unset: the one a verified source states, if any (docs/inspection.md, MON-02).
    incident_report_deadlines: tuple[str, ...] = ()

    @field_validator("database_url")
    @classmethod
    def _db_scheme(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:// or postgresql+psycopg://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL of a Redis server")
        return value

    @field_validator("ethereum_node_url")
    @classmethod
    def _node_scheme(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// JSON-RPC URL of an Ethereum node")
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: object) -> object:
        if isinstance(value, str):  # KINKO_TRUSTED_PROXIES="10.0.0.2, 10.1.0.0/16"
            value = [v for v in value.replace(",", " ").split() if v]
        if isinstance(value, list | tuple):
            from kinko.core.networks import parse_networks

            parse_networks(str(v) for v in value)  # ValueError names the bad entry
            return tuple(str(v).strip() for v in value)
        return value

    @field_validator("incident_report_deadlines", mode="before")
    @classmethod
    def _deadlines(cls, value: object) -> object:
        if isinstance(value, str):  # KINKO_INCIDENT_REPORT_DEADLINES="jp=24h, kr=12h"
            value = [v for v in value.replace(",", " ").split() if v]
        elif isinstance(value, dict):  # [incident_report_deadlines] jp = "24h" in kinko.toml
            value = [f"{k}={v}" for k, v in value.items()]
        if isinstance(value, list | tuple):
            from kinko.core.deadlines import parse_deadlines
            from kinko.core.errors import InputError

            try:
                parse_deadlines((str(v) for v in value), "incident_report_deadlines")
            except InputError as exc:
                raise ValueError(exc.message.partition(": ")[2]) from None
            return tuple(str(v).strip() for v in value)
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        from kinko.core.urls import origin_of, public_url_problem

        if not value.strip():
            return ""
        problem = public_url_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return origin_of(value)

    @field_validator("webauthn_origin")
    @classmethod
    def _origin(cls, value: str) -> str:
        from kinko.core.urls import origin_of

        if not value.strip():
            return ""
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be the origin pages are served from, e.g. https://kinko.example")
        return origin_of(value)

    @model_validator(mode="after")
    def _derive_webauthn(self) -> Settings:
        """An rp id or origin left empty follows the served URL (`served_url`)."""
        from kinko.core.urls import host_of

        if not self.webauthn_origin:
            object.__setattr__(self, "webauthn_origin", self.served_url)
        if not self.webauthn_rp_id:
            object.__setattr__(self, "webauthn_rp_id", host_of(self.served_url))
        return self

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.lower() not in {"debug", "info", "warning", "error"}:
            raise ValueError("must be one of debug, info, warning, error")
        return value.lower()

    @property
    def served_url(self) -> str:
        """The URL people open: `public_url`, else the bound address (loopback: localhost)."""
        from kinko.core.urls import local_url

        return self.public_url or local_url(self.host, self.port)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'kinko.db').resolve()}"

    @property
    def resolved_audit_key_path(self) -> Path:
        return self.audit_key_path or self.data_dir / "audit-log.key"

    @property
    def resolved_secret_key_path(self) -> Path:
        """Key that encrypts secrets at rest (TOTP seeds, keystore wrapping)."""
        return self.secret_key_path or self.data_dir / "secret.key"


def check_served_url(settings: Settings) -> None:
    """Refuse (`ConfigError`, exit 2) an explicit WebAuthn rp id or origin that does not
    fit the URL Kinko is served at: browsers would refuse every security key there."""
    from kinko.core.urls import host_of, origin_of, rp_id_fits

    url = settings.served_url
    where = (
        f"public_url is {url}"
        if settings.public_url
        else f"Kinko serves {url} (--host {settings.host} --port {settings.port})"
    )
    proxy = (
        ""
        if settings.public_url
        else "; if a TLS proxy serves Kinko at another address, set public_url to that"
    )
    if settings.webauthn_origin != origin_of(url):
        raise ConfigError(
            "webauthn_origin",
            f"is {settings.webauthn_origin} but {where}, so browsers would refuse every "
            f"security key. Remove webauthn_origin (KINKO_WEBAUTHN_ORIGIN or the key in "
            f"kinko.toml) so that it follows the served URL, or set it to "
            f"{origin_of(url)}{proxy}",
        )
    if not rp_id_fits(settings.webauthn_rp_id, host_of(url)):
        raise ConfigError(
            "webauthn_rp_id",
            f"is {settings.webauthn_rp_id!r} but {where}: a browser accepts only the page's "
            f"host or a parent domain of it. Remove webauthn_rp_id (KINKO_WEBAUTHN_RP_ID or "
            f"the key in kinko.toml) so that it follows the served URL, or set it to "
            f"{host_of(url)!r}{proxy}",
        )


def load_settings(
    *, environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Build settings from file, environment and explicit overrides (CLI flags)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_file = env.get(f"{ENV_PREFIX}CONFIG")
    data_dir = Path(
        (overrides or {}).get("data_dir") or env.get(f"{ENV_PREFIX}DATA_DIR", "kinko-data")
    )
    path = Path(config_file) if config_file else data_dir / "kinko.toml"
    if config_file and not path.is_file():
        raise ConfigError("KINKO_CONFIG", f"{path} does not exist; point it at a TOML file")
    if path.is_file():
        try:
            values.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(path), f"is not valid TOML: {exc}") from exc
    names = set(Settings.model_fields)
    for key, raw in env.items():
        if not key.startswith(ENV_PREFIX) or key == f"{ENV_PREFIX}CONFIG":
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name in names:
            values[name] = raw
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "config"
        hint = f" (env {ENV_PREFIX}{field.upper()} or key '{field}' in {path})"
        raise ConfigError(field, f"{first['msg']}{hint}") from exc
