"""Permanent parameter QR codes per building: the scene string, and the code fetched through the gateway.

A building's scene string is "building:<id>": WeChat hands it back as the EventKey of the
subscribe (or, for followers, SCAN) event, so a scan names the building without an address.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.messaging.gateway import Gateway

BUILDING_PREFIX = "building:"


@dataclass(frozen=True)
class QrCode:
    """One permanent QR code: its scene string, WeChat's ticket and url, and the image."""

    scene: str
    ticket: str
    url: str
    png: bytes


def building_scene(building_id: int) -> str:
    """The scene string naming a building."""
    return f"{BUILDING_PREFIX}{building_id}"


def building_of_scene(scene: str | None) -> int | None:
    """The building id a scene string names, or None for any other scene."""
    if not scene or not scene.startswith(BUILDING_PREFIX):
        return None
    rest = scene[len(BUILDING_PREFIX):]
    return int(rest) if rest.isdigit() else None


def fetch(gateway: Gateway, scene: str) -> QrCode:
    """Create (or get again: a scene keeps its ticket) the permanent code and download its image."""
    created = gateway.create_qr(scene)
    ticket = str(created["ticket"])
    return QrCode(scene, ticket, str(created.get("url", "")), gateway.qr_image(ticket))
