"""Know before sending: which channel each resident would be sent on, with the outbox's own checks.

The outbox (bot/messaging/outbox.py) decides at send time: a customer-service message inside the 48-hour
window (window.py) → a subscription notice if the resident accepted this purpose's template
(outbox.subscribable) → a template message if one is set up for the purpose (TemplateBook.has) → not
reachable. The forecast asks the same questions as of the first send, so what staff are told when they
create a notice is what the drain will do (a customer-service send WeChat refuses then, 45047, falls
back to the next channel and cannot be foreseen).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Select
from sqlalchemy.orm import Session

from bot.messaging.gateway import Gateway
from bot.messaging.outbox import subscribable
from bot.messaging.template_book import TemplateBook
from bot.messaging.window import in_window

CHANNELS = ("custom", "subscribe", "template")
# why a resident cannot be reached: unsubscribed; never wrote (no window ever) or the window closed, and
# neither an accepted subscription notice nor a template message for the purpose
UNREACHABLE = ("never_wrote", "window_closed", "unsubscribed")


@dataclass(frozen=True)
class Forecast:
    """How many target residents each channel reaches, and how many cannot be reached, by reason."""

    at: datetime  # as of when (the first send)
    counts: dict[str, int]

    @property
    def reachable(self) -> int:
        """Residents some channel reaches."""
        return sum(self.counts.get(c, 0) for c in CHANNELS)

    @property
    def unreachable(self) -> int:
        """Residents no channel reaches (post a paper notice at their door)."""
        return sum(self.counts.get(r, 0) for r in UNREACHABLE)


def book_for(gateway: Gateway, templates: dict[str, str]) -> TemplateBook:
    """The template book the drain uses: the file's templates, TEMPLATE_IDS as the shortcut."""
    return replace(gateway.templates, shortcut=templates)


def channel(session: Session, gateway: Gateway, book: TemplateBook, purpose: str, openid: str,
            last_inbound_at: datetime | None, subscribed: bool, at: datetime) -> str:
    """The channel the outbox would choose for this resident at `at`, or why none (one of UNREACHABLE)."""
    if not subscribed:
        return "unsubscribed"
    if in_window(last_inbound_at, at):
        return "custom"
    if subscribable(session, gateway, purpose, openid):
        return "subscribe"
    if book.has(purpose):
        return "template"
    return "never_wrote" if last_inbound_at is None else "window_closed"


def forecast(session: Session, gateway: Gateway, templates: dict[str, str], purpose: str,
             residents: Select[str, datetime | None, bool], at: datetime) -> Forecast:
    """Count the channels of the residents a select gives as (openid, last_inbound_at, subscribed)."""
    book = book_for(gateway, templates)
    counts: dict[str, int] = {}
    for openid, last_inbound_at, subscribed in session.execute(residents):
        name = channel(session, gateway, book, purpose, openid, last_inbound_at, subscribed, at)
        counts[name] = counts.get(name, 0) + 1
    return Forecast(at, counts)
