"""Settings: defaults, then environment (and an optional .env), then an explicit mapping."""
from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"

DEFAULTS: dict[str, Any] = {
    "MULIN_ENV": "demo",
    "WECHAT_API_BASE_URL": "https://api.weixin.qq.com/cgi-bin/",
    "WECHAT_AES_KEY": "",
    "REDIS_URL": "",
    "DATABASE_URL": "",
    "MAX_CONTENT_LENGTH": 256 * 1024,  # a 60,000-character message, encrypted (base64) in safe mode, fits
    "WECHAT_HTTP_TIMEOUT": 5.0,
    "OUTBOX_BATCH": 200,
    "OUTBOX_MAX_ATTEMPTS": 8,
    "SEND_RATE_PER_SECOND": 20.0,  # bulk sends (cleanup notices to thousands of residents)
    "REPLY_RATE_PER_SECOND": 100.0,  # everything else: late answers after a burst, status updates, staff notices
    # Once a web worker has spent this share of its last half second or so answering requests, it only stores
    # (queues) new messages for the scheduler to answer (bot/load.py): 0 queues everything, 1 never.
    "INLINE_BUSY_LIMIT": 0.3,
    # `python -m scheduler` (and each --answer-only worker) lowers its CPU priority by this much (os.nice): on a
    # machine it shares with the web workers, the webhook (WeChat waits 5 s) comes first and a queued message's
    # answer a moment later. 0 leaves it as it is.
    "SCHEDULER_NICE": 10,
    "STREET_NAME": "示例街道",
    "STREET_CONTACT": "街道服务热线 010-12345678",
    # Template ids per purpose, for messages outside the 48-hour customer-service window.
    "TEMPLATE_IDS": {},
    # Outreach (issue 5): notice offsets in minutes before the cleanup (7 days, 1 day),
    # follow-up delays in hours, the overdue warning point, the weekly summary time (local).
    "NOTICE_OFFSETS_MINUTES": [7 * 24 * 60, 24 * 60],
    "FOLLOWUP_AFTER_HOURS": 24,
    "FOLLOWUP_REMIND_AFTER_HOURS": 48,
    "FOLLOWUP_EXPIRE_AFTER_HOURS": 48,
    "OVERDUE_WARN_FRACTION": 0.8,
    "SUMMARY_WEEKDAY": 0,  # Monday, Asia/Shanghai
    "SUMMARY_HOUR": 9,
    # How many reverse proxies (nginx, the district's gateway) stand before Mulin and may be believed about
    # the client's address (X-Forwarded-For); 0: none, the connection's own address counts (login throttle).
    "TRUSTED_PROXIES": 0,
    # Residents' stored messages (text, media ids, the raw push) are deleted after this many days by the
    # scheduler; a case keeps its own description and events. 0 keeps them for ever.
    "INBOUND_RETENTION_DAYS": 180,
    # Template messages' real fields per purpose (bot/messaging/template_book.py); None: the shipped file.
    "WECHAT_TEMPLATES_PATH": None,
    "WECHAT_SUBSCRIPTIONS_PATH": None,  # subscription notices' (订阅通知) templates, the same format
    # The console's 常用回复 (bot/web/console/canned_replies.py); None: templates/console/canned_replies.yaml.
    "CANNED_REPLIES_PATH": None,
    # The console's public address (https://…), for the links in staff alerts; empty: no links.
    "PUBLIC_BASE_URL": "",
    # 睦邻坊 (issue 15): a building's group gets its cleanup notice (with the unit-door sheet's text) this many
    # minutes before the residents' first send.
    "MULINFANG_NOTICE_LEAD_MINUTES": 24 * 60,
    # The door-sheet link in a group's cleanup notice (/sheets/<token>.pdf, no login) works until this many days
    # after the cleanup.
    "SHEET_LINK_DAYS_AFTER": 3,
    # Where residents' photos and voice messages are kept once downloaded from WeChat (media/get, within its
    # 3 days); empty: instance/media. A relative path is taken from the project folder.
    "MEDIA_DIR": "",
    # Staff alerts (scheduler/staff_alert_jobs.py): 特急 at once; the rest summarised, at most one message per
    # recipient this many minutes. Quiet hours (Asia/Shanghai, "HH:MM-HH:MM", empty: none): no summaries and no
    # cleanup notices then (特急 alerts still go); what waited goes at the end of them.
    "STAFF_ALERT_MINUTES": 5,
    "QUIET_HOURS": "21:00-08:00",
    # A console user's one-time code for binding their WeChat ("绑定 123456"), valid this many minutes.
    "BIND_CODE_MINUTES": 10,
}

WECHAT_MODES = ("safe", "compatible", "plaintext")  # 安全模式, 兼容模式, 明文模式
ENCRYPTED_MODES = ("safe", "compatible")
DEMO_API_TOKEN = "demo-api-token"  # known to everyone: accepted only from this machine (bot/web/api.py)
REQUIRED_IN_PRODUCTION = ("WECHAT_TOKEN", "SECRET_KEY", "WECHAT_APPID", "WECHAT_SECRET")
SECRET_NAMES = ("WECHAT_TOKEN", "WECHAT_APPID", "WECHAT_SECRET", "SECRET_KEY", "API_TOKEN")
# Every setting can come from the environment (or .env): the secrets, WECHAT_MODE, LOG_LEVEL and each default.
ENV_NAMES = (*SECRET_NAMES, "WECHAT_MODE", "LOG_LEVEL", *DEFAULTS)


class ConfigError(RuntimeError):
    """Raised when Mulin cannot start with the given settings."""


def _cast(name: str, raw: str) -> Any:
    """A setting's text as the type of its default: numbers, a list of numbers "10080,1440", pairs "a=1,b=2"."""
    default = DEFAULTS.get(name)
    try:
        if isinstance(default, bool):
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, list):
            return [int(part) for part in raw.replace("，", ",").split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"Mulin cannot start: {name}={raw!r} is not a valid value (the default is {default!r}).")\
            from None
    if isinstance(default, dict):
        pairs = (part.split("=", 1) for part in raw.split(",") if "=" in part)
        return {key.strip(): value.strip() for key, value in pairs}
    return raw


def _from_environment() -> dict[str, Any]:
    """Settings from .env, then the environment (which wins), each cast once to its default's type."""
    env_file = ROOT / ".env"
    values: dict[str, Any] = {}
    if env_file.exists():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None and k in ENV_NAMES})
    values.update({k: v for k, v in os.environ.items() if k in ENV_NAMES})
    return {name: _cast(name, raw) for name, raw in values.items()}


def _demo_secret(name: str, length: int) -> str:
    """A stable locally generated value kept in instance/, so restarts keep working."""
    path = INSTANCE / f"demo-{name.lower()}"
    if path.exists():
        return path.read_text().strip()
    INSTANCE.mkdir(exist_ok=True)
    value = secrets.token_urlsafe(length)[:length]
    if name == "WECHAT_AES_KEY":
        value = secrets.token_urlsafe(64).replace("-", "a").replace("_", "b")[:43]
    path.write_text(value)
    print(f"Mulin demo mode: generated {name} (kept in {path})", file=sys.stderr)
    return value


def _wechat_mode(config: Mapping[str, Any]) -> str:
    """WECHAT_MODE, default safe when an EncodingAESKey is set; plaintext only when chosen."""
    mode = str(config.get("WECHAT_MODE") or "").strip().lower()
    if not mode:
        if not config.get("WECHAT_AES_KEY"):
            raise ConfigError(
                "Mulin cannot start: set WECHAT_AES_KEY (the EncodingAESKey, for 安全模式) or, knowing that anyone "
                "who sees one signed URL can then post as any resident, WECHAT_MODE=plaintext "
                "(see README, 'Security').")
        return "safe"
    if mode not in WECHAT_MODES:
        raise ConfigError(f"Mulin cannot start: WECHAT_MODE must be one of {', '.join(WECHAT_MODES)}.")
    if mode in ENCRYPTED_MODES and len(str(config.get("WECHAT_AES_KEY") or "")) != 43:
        raise ConfigError(f"Mulin cannot start: WECHAT_MODE={mode} needs WECHAT_AES_KEY, "
                          "the 43-character EncodingAESKey.")
    return mode


def load_config(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build the settings; fail loudly in production when a secret is missing."""
    config = dict(DEFAULTS)
    config.update(_from_environment())
    if overrides:
        config.update(overrides)
    production = config["MULIN_ENV"] == "production"
    if production:
        missing = [name for name in REQUIRED_IN_PRODUCTION if not config.get(name)]
        if missing:
            raise ConfigError(
                "Mulin cannot start in production: missing " + ", ".join(missing)
                + ". Set them as environment variables or in .env (see README, 'Configuration')."
            )
    else:
        for name, length in (("WECHAT_TOKEN", 32), ("SECRET_KEY", 48), ("WECHAT_AES_KEY", 43)):
            if not config.get(name):
                config[name] = _demo_secret(name, length)
        config.setdefault("WECHAT_APPID", "wxdemo0000000000")
        config.setdefault("WECHAT_SECRET", "demo-secret")
        config.setdefault("API_TOKEN", DEMO_API_TOKEN)
    config["WECHAT_MODE"] = _wechat_mode(config)
    if not config.get("DATABASE_URL"):
        INSTANCE.mkdir(exist_ok=True)
        config["DATABASE_URL"] = f"sqlite:///{INSTANCE / 'mulin.db'}"
    config["PRODUCTION"] = production
    config["SESSION_COOKIE_SECURE"] = production
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    return config
