"""Configuration: the contract's variables, read from the environment only outside tests."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.crypto import new_key

INSTANCE_DIR = Path(os.environ.get("KAZI_INSTANCE_DIR", "instance"))
"""Where development secrets and the SQLite database live."""

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": "sqlite:///instance/kazi.db",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "SECRET_KEY": None,
    "CALLBACK_TOKEN": None,
    "AT_USERNAME": None,
    "AT_API_KEY": None,
    "AT_API_URL": None,
    "AT_SENDER_ID": None,
    "USSD_SERVICE_CODE": "*384*2026#",
    "USSD_MAX_CHARS": 160,
    "PII_KEYS": None,
    "KAZI_ENV": "development",
    "ESCALATION_SLA_SECONDS": "critical=900,high=7200,normal=86400",
    # Not in the contract: tuning knobs with safe defaults.
    "USSD_SESSION_TTL": 300,
    "RESUME_WINDOW_SECONDS": 1800,
    "REMINDER_DELAY_SECONDS": 1800,
    "SMS_BATCH_SIZE": 500,
    "SMS_MAX_ATTEMPTS": 6,
}
"""Every setting with its default; the contract's names are kept exactly."""

INTS = ("USSD_MAX_CHARS", "USSD_SESSION_TTL", "RESUME_WINDOW_SECONDS", "REMINDER_DELAY_SECONDS",
        "SMS_BATCH_SIZE", "SMS_MAX_ATTEMPTS")


class ConfigError(RuntimeError):
    """The configuration cannot run safely."""


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read every known setting from the environment, over the defaults."""
    environ = os.environ if environ is None else environ
    config = dict(DEFAULTS)
    for key in DEFAULTS:
        if environ.get(key):
            config[key] = environ[key]
    return config


def finalise(config: Mapping[str, Any]) -> dict[str, Any]:
    """Fill development secrets, coerce types and refuse unsafe production settings."""
    config = {**DEFAULTS, **config}
    for key in INTS:
        config[key] = int(config[key])
    production = config["KAZI_ENV"] == "production"
    if production:
        missing = [k for k in ("CALLBACK_TOKEN", "SECRET_KEY", "PII_KEYS") if not config.get(k)]
        if missing:
            raise ConfigError(f"production refuses to start without {', '.join(missing)}")
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret("secret_key", lambda: secrets.token_urlsafe(32))
    if not config.get("PII_KEYS"):
        config["PII_KEYS"] = _instance_secret("pii_keys", new_key)
    if isinstance(config["PII_KEYS"], str):
        config["PII_KEYS"] = [k for k in config["PII_KEYS"].split(",") if k.strip()]
    config["SLA"] = parse_sla(config["ESCALATION_SLA_SECONDS"])
    return config


def parse_sla(text: str) -> dict[str, int]:
    """Read ``critical=900,high=7200,normal=86400`` into seconds per severity."""
    sla = {"critical": 900, "high": 7200, "normal": 86400}
    for part in str(text).split(","):
        name, _, seconds = part.partition("=")
        if name.strip() in sla and seconds.strip().isdigit():
            sla[name.strip()] = int(seconds)
    return sla


def _instance_secret(name: str, make) -> str:
    """Read a development secret from ``instance/``, generating it on first run."""
    path = INSTANCE_DIR / name
    if path.exists():
        return path.read_text().strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    value = make()
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value
