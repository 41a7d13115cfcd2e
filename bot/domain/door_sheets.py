"""Printable A4 unit-door sheets: one page per building with the notice, its time, the contact and its QR code.

The font is ReportLab's built-in CJK CID font STSong-Light: PDF readers supply it, so
nothing has to be installed or embedded. ReportLab's layout modules are imported on first
use: they take about 0.3 s, which every web worker and the scheduler would pay at start-up.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import to_local
from bot.constants import NoticeStatus
from bot.domain import mulinfang
from bot.errors import MulinError, NotFound
from bot.messaging import qrcodes
from bot.messaging.gateway import Gateway
from bot.messaging.texts import render_text
from bot.storage.models import Building, Community, Compound, Notice

if TYPE_CHECKING:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Flowable

FONT = "STSong-Light"
QR_SIZE = 7.5 * cm
MARGIN = 2 * cm
FRAME_PADDING = 12  # platypus frames keep 6 pt inside each edge


class NothingToPrint(MulinError):
    """No sheet to print: the notice was cancelled, or its target has no buildings."""


@dataclass(frozen=True)
class Street:
    """Who the sheets are from."""

    name: str
    contact: str


@lru_cache(maxsize=1)
def _styles() -> dict[str, ParagraphStyle]:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    # wordWrap="CJK": Chinese lines may break between any two characters.
    base = ParagraphStyle("base", fontName=FONT, fontSize=16, leading=26, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=34, leading=44, alignment=1),
        "place": ParagraphStyle("place", parent=base, fontSize=22, leading=32, alignment=1),
        "text": ParagraphStyle("text", parent=base, fontSize=20, leading=36, firstLineIndent=40),
        "when": ParagraphStyle("when", parent=base, fontSize=20, leading=36),
        "qr": ParagraphStyle("qr", parent=base, fontSize=15, leading=24, alignment=1),
        "contact": ParagraphStyle("contact", parent=base, fontSize=14, leading=22, alignment=2),
    }


def _natural(building: Building) -> tuple[str, int, str]:
    return building.compound.name, len(building.name), building.name


def compound_buildings(session: Session, compound: str, building: str | None = None) -> list[Building]:
    """The buildings of a compound (or the one named), in natural order; NotFound when none match."""
    found = session.scalars(select(Compound).where(Compound.name == compound)).one_or_none()
    if found is None:
        raise NotFound(f"no compound named {compound}")
    rows = [b for b in found.buildings if building is None or b.name == building]
    if not rows:
        raise NotFound(f"compound {compound} has no building {building}")
    return sorted(rows, key=_natural)


def notice_buildings(session: Session, notice: Notice) -> list[Building]:
    """The buildings a notice targets, in natural order."""
    target = notice.target
    query = select(Building).join(Compound)
    if target.get("compound") is None:
        query = query.join(Community).where(Community.name == target["community"])
    else:
        query = query.where(Compound.name == target["compound"])
        if target.get("buildings"):
            query = query.where(Building.name.in_(target["buildings"]))
    rows = sorted(session.scalars(query), key=_natural)
    if not rows:
        raise NothingToPrint(f"notice {notice.id} targets no building")
    return rows


def _page(notice: Notice, building: Building, qr_png: bytes, street: Street, group: str = "") -> list[Flowable]:
    """One building's page; a long text shrinks to fit, so each building stays one sheet."""
    from reportlab.platypus import Image, KeepInFrame, PageBreak, Paragraph, Spacer

    styles = _styles()

    def para(style: str, text: str) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), styles[style])

    content: list[Flowable] = [
        para("title", render_text("sheet/title")),
        para("place", render_text("sheet/place", compound=building.compound.name, building=building.name)),
        Spacer(1, 0.8 * cm),
        para("text", notice.text),
        Spacer(1, 0.4 * cm),
        para("when", render_text("sheet/when", at=to_local(notice.cleanup_at))),
        Spacer(1, 1.6 * cm),
        Image(io.BytesIO(qr_png), QR_SIZE, QR_SIZE),
        para("qr", render_text("sheet/qr", street=street.name)),
        Spacer(1, 1.6 * cm),
        para("contact", render_text("sheet/contact", street=street.name, contact=street.contact)),
        *([Spacer(1, 0.4 * cm), para("contact", group)] if group else []),  # the building's 睦邻坊 contact
    ]
    width, height = A4[0] - 2 * MARGIN - FRAME_PADDING, A4[1] - 2 * MARGIN - FRAME_PADDING
    return [KeepInFrame(width, height, content, mode="shrink"), PageBreak()]


def render(notice: Notice, buildings: list[Building], qr_png: Callable[[Building], bytes], street: Street,
           group: Callable[[Building], str] | None = None) -> bytes:
    """The PDF: one A4 page per building, each with that building's QR code image (and its 睦邻坊 contact)."""
    from reportlab.platypus import SimpleDocTemplate

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN, title=render_text("sheet/title"), author=street.name)
    story: list[Flowable] = []
    for building in buildings:
        story += _page(notice, building, qr_png(building), street, group(building) if group else "")
    doc.build(story[:-1])  # no page break after the last building
    return out.getvalue()


def for_notice(session: Session, notice: Notice, gateway: Gateway, street: Street) -> tuple[bytes, int]:
    """The sheets of a notice with each building's QR code from WeChat; (PDF, pages). SendError if WeChat fails."""
    if notice.status == NoticeStatus.CANCELLED:
        raise NothingToPrint(f"notice {notice.id} was cancelled")
    buildings = notice_buildings(session, notice)
    pdf = render(notice, buildings, lambda b: qrcodes.fetch(gateway, qrcodes.building_scene(b.id)).png, street,
                 lambda b: mulinfang.contact_line(session, b.id))
    return pdf, len(buildings)
