"""Residents' photos, voice and video messages kept for good: WeChat keeps temporary media only 3 days.

The scheduler (scheduler/media_jobs.py) finds each image or voice message stored in inbound_messages,
adds one media_files row per MediaId (the idempotency record: one download per media id), downloads it
through media/get (bot.messaging.gateway) with retries and backoff while WeChat still has it, and saves
it under MEDIA_DIR. Voice arrives as AMR, which no browser plays: it is converted to MP3 with the ffmpeg
binary the imageio-ffmpeg wheel ships (the AMR is kept beside it). For a video (video, shortvideo) media/get
answers JSON with a download URL ({"video_url": …}); the gateway follows it and the MP4 is kept as it is.
"""
from __future__ import annotations

import hashlib
import logging
import os
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import imageio_ffmpeg
from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from bot.config import INSTANCE, ROOT
from bot.constants import MediaStatus
from bot.messaging.gateway import Gateway, SendError
from bot.storage.db import insert_ignoring
from bot.storage.models import InboundMessage, MediaFile, table_of

log = logging.getLogger(__name__)

KINDS = ("image", "voice", "video", "shortvideo")
VALIDITY = timedelta(days=3)  # how long WeChat keeps a resident's temporary media
BACKOFF = (30, 120, 600, 1800, 3600, 3 * 3600)  # seconds, per attempt (the last repeats until VALIDITY is over)
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "audio/amr": "amr",
              "audio/x-amr": "amr", "audio/speex": "speex", "audio/mpeg": "mp3", "video/mp4": "mp4"}
BROWSER_TYPES = ("image/jpeg", "image/png", "image/gif", "audio/mpeg", "video/mp4")
FFMPEG_TIMEOUT = 60  # seconds; a 60-second voice message converts in well under one


def media_dir(config: dict[str, Any]) -> Path:
    """MEDIA_DIR as a folder (instance/media by default; relative paths from the project folder)."""
    raw = str(config.get("MEDIA_DIR") or "")
    if not raw:
        return INSTANCE / "media"
    path = Path(raw)
    return path if path.is_absolute() else ROOT / path


def discover(session: Session, now: datetime, limit: int = 500) -> int:
    """Add a pending media_files row for each image or voice message still within WeChat's 3 days that has
    none; committed. Returns how many were added."""
    known = exists().where(MediaFile.media_id == InboundMessage.media_id)
    found = session.execute(
        select(InboundMessage.media_id, InboundMessage.openid, InboundMessage.msg_type,
               InboundMessage.received_at)
        .where(InboundMessage.received_at >= now - VALIDITY, InboundMessage.msg_type.in_(KINDS),
               InboundMessage.media_id.is_not(None), ~known)
        .order_by(InboundMessage.id).limit(limit)).all()
    rows = [{"media_id": media_id, "openid": openid, "kind": kind, "status": MediaStatus.PENDING, "attempts": 0,
             "next_attempt_at": now, "received_at": received_at}
            for media_id, openid, kind, received_at in {r[0]: r for r in found}.values()]
    if rows:
        session.connection().execute(insert_ignoring(session, table_of(MediaFile), "media_id"), rows)
    session.commit()
    return len(rows)


@dataclass
class KeepResult:
    """Counts of one run."""

    found: int = 0
    stored: int = 0
    retried: int = 0
    failed: int = 0


def keep(session: Session, gateway: Gateway, folder: Path, now: datetime, limit: int = 50) -> KeepResult:
    """Find new media and download what is due; each outcome is committed before the next download."""
    result = KeepResult(found=discover(session, now))
    due = session.execute(
        select(MediaFile.id, MediaFile.media_id, MediaFile.kind, MediaFile.attempts, MediaFile.received_at)
        .where(MediaFile.status == MediaStatus.PENDING, MediaFile.next_attempt_at <= now)
        .order_by(MediaFile.id).limit(limit)).all()
    session.commit()  # no transaction (SQLite's lock) is held across a download
    for row in due:
        values = _download(gateway, folder, row, now, result)
        session.execute(update(MediaFile).where(MediaFile.id == row.id).values(**values))
        session.commit()
        if values.get("error") == TOKEN:
            break  # no access_token: every download would wait the same way
    return result


TOKEN = "no access_token"


def _download(gateway: Gateway, folder: Path, row: Any, now: datetime, result: KeepResult) -> dict[str, Any]:
    """Download and save one media file; the row's new values."""
    attempts = row.attempts + 1
    if now - row.received_at > VALIDITY:
        result.failed += 1
        return {"status": MediaStatus.FAILED, "attempts": attempts, "error": "WeChat's 3 days are over"}
    try:
        data, content_type = gateway.get_media(row.media_id)
        relative, stored_type = save(folder, row.media_id, row.received_at, data, content_type, row.kind)
    except SendError as exc:
        if exc.token:
            return {"attempts": row.attempts, "error": TOKEN}
        if not exc.transient and not exc.uncertain:  # (a timed-out download is simply tried again)
            result.failed += 1
            log.info("media %s: WeChat refused it for good (errcode %s)", row.id, exc.errcode)
            return {"status": MediaStatus.FAILED, "attempts": attempts, "error": f"{exc.errcode}: {exc.message}"}
        result.retried += 1
        wait = BACKOFF[min(attempts, len(BACKOFF)) - 1]
        return {"attempts": attempts, "next_attempt_at": now + timedelta(seconds=wait),
                "error": f"{exc.errcode}: {exc.message}"}
    except (OSError, subprocess.SubprocessError) as exc:  # a full disk, ffmpeg failing: try again later
        result.retried += 1
        log.warning("media %s: could not be stored (%s)", row.id, type(exc).__name__)
        return {"attempts": attempts, "next_attempt_at": now + timedelta(seconds=BACKOFF[-1]),
                "error": type(exc).__name__}
    result.stored += 1
    return {"status": MediaStatus.STORED, "attempts": attempts, "path": relative, "content_type": stored_type,
            "stored_at": now, "error": None}


def save(folder: Path, media_id: str, received_at: datetime, data: bytes, content_type: str,
         kind: str = "image") -> tuple[str, str]:
    """Write the file under folder/YYYY-MM/ (atomically: the same media id always gets the same name) and,
    for voice, its MP3; returns the path to serve (relative to folder) and its Content-Type."""
    name = hashlib.sha256(media_id.encode("utf-8")).hexdigest()[:32]
    extension = EXTENSIONS.get(content_type, "bin")
    relative = Path(received_at.strftime("%Y-%m")) / f"{name}.{extension}"
    _write(folder / relative, data)
    if kind != "voice" or content_type in BROWSER_TYPES:
        return relative.as_posix(), content_type
    playable = relative.with_suffix(".mp3")
    to_mp3(folder / relative, folder / playable)
    return playable.as_posix(), "audio/mpeg"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)


def to_mp3(source: Path, target: Path) -> None:
    """Convert a voice message (AMR, Speex) to MP3 with the bundled ffmpeg; SubprocessError when it fails."""
    partial = target.with_name(target.stem + ".part.mp3")
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
                    "-i", str(source), "-codec:a", "libmp3lame", "-q:a", "5", str(partial)],
                   check=True, capture_output=True, timeout=FFMPEG_TIMEOUT)
    os.replace(partial, target)


def stored_for(session: Session, media_ids: list[str]) -> dict[str, MediaFile]:
    """The media_files rows of these media ids (any status), by media id."""
    if not media_ids:
        return {}
    return {m.media_id: m for m in session.scalars(select(MediaFile).where(MediaFile.media_id.in_(media_ids)))}
