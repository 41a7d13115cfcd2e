"""The ordered table that routes each inbound message or event to one action, and the app's handler.

Each route is a pure check of the message and an action. An action may return CONTINUE
to let the next route try (e.g. a follow-up answer route that finds no question pending).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.domain import residents
from bot.messaging import receipts, subscriptions
from bot.messaging.inbound import Inbound
from bot.messaging.texts import render_text
from bot.messaging.window import opens_window
from handlers.conversation import (
    cancel_words,
    chase,
    commands,
    consultation_replies,
    dialogue,
    followup,
    handoff,
    media,
    memory,
    mulinfang_chat,
    notice_replies,
    project_questions,
    property_refused,
    staff_bind,
)
from handlers.conversation.actions import CONTINUE, Action
from handlers.conversation.context import Context
from handlers.conversation.faq import Faq
from handlers.conversation.store import DialogueStore
from handlers.understanding import replies
from handlers.understanding.classifier import Classifier


@dataclass(frozen=True)
class Route:
    """A pure check and the action taken when it matches."""

    name: str
    check: Callable[[Inbound], bool]
    action: Action


def _unsubscribe(ctx: Context, msg: Inbound) -> str | None:
    residents.touch(ctx.session, msg.openid, ctx.now, interactive=False, subscribed=False)
    return None


def _other_media(ctx: Context, msg: Inbound) -> str | None:
    return render_text("media_ack", kind=render_text("intake/media_kind", kind=msg.msg_type))


def _subscription_answer(ctx: Context, msg: Inbound) -> str | None:
    """Accepted or rejected subscription notices (订阅通知): the outbox's channel choice reads them."""
    subscriptions.record(ctx.session, msg.openid, msg.subscription_changes, ctx.now)
    return None


def _receipt(ctx: Context, msg: Inbound) -> str | None:
    """WeChat's delivery receipt for a template message or subscription notice: recorded on its send, silent."""
    receipts.record(ctx.session, msg.openid, receipts.of_event(msg.raw, msg.event), ctx.now)
    return None


def _silent(ctx: Context, msg: Inbound) -> str | None:
    return None


ROUTES: tuple[Route, ...] = (
    Route("staff binding scan", staff_bind.is_scan, staff_bind.scan),  # the console's 我的微信 QR code
    Route("subscribe", lambda m: m.event in ("subscribe", "subscribe_scan", "scan"), commands.welcome),
    Route("unsubscribe", lambda m: m.event == "unsubscribe", _unsubscribe),
    Route("delivery receipt", lambda m: m.event in receipts.EVENTS, _receipt),
    Route("subscription notice answer", lambda m: m.event in subscriptions.EVENTS, _subscription_answer),
    Route("menu", commands.is_menu_click, commands.menu_click),
    Route("staff binding", staff_bind.check, staff_bind.answer),  # "绑定 123456" from the console
    Route("command", commands.is_command, commands.run),
    Route("person in own words", handoff.asks_for_person, handoff.to_person),  # 找真人, 转人工客服
    Route("consultation reply", consultation_replies.check, consultation_replies.answer),
    Route("followup answer", followup.check, followup.answer),
    Route("mulinfang question", mulinfang_chat.is_group_question, mulinfang_chat.question),  # with the group's contact
    Route("mulinfang apply", mulinfang_chat.is_application, mulinfang_chat.apply),
    Route("mulinfang group", mulinfang_chat.is_group_message, mulinfang_chat.group_message),
    Route("mulinfang photo", lambda m: m.msg_type == "image", mulinfang_chat.group_photo),
    Route("project", project_questions.check, project_questions.answer),
    Route("notice reply", notice_replies.check, notice_replies.answer),  # 好的，周末就挪走 / 那我的电动车停哪
    Route("property refused", property_refused.check, property_refused.answer),  # 物业不管: routing.yaml
    Route("cancel in own words", cancel_words.check, cancel_words.answer),  # 不弄了，没事了 / 算了不用来了
    Route("chase", chase.check, chase.answer),  # 催办 in own words: status, time limit, who has it
    Route("location", lambda m: m.msg_type == "location", media.location),
    Route("media", lambda m: m.msg_type in ("image", "video", "shortvideo")
          or (m.msg_type == "voice" and m.text is None), media.media),
    Route("handed off", handoff.is_text, handoff.handed_off),  # a person has the case: pushed to them
    Route("intake", lambda m: m.text is not None, dialogue.step),
    Route("other media", lambda m: m.msg_type == "link", _other_media),
    Route("fallback", lambda m: True, _silent),
)


def handle(ctx: Context, msg: Inbound) -> str | None:
    """Record the contact, then run the first matching route that takes the message."""
    if msg.event != "unsubscribe":
        residents.touch(ctx.session, msg.openid, ctx.now, interactive=opens_window(msg.msg_type, msg.event),
                        subscribed=True if msg.event in ("subscribe", "subscribe_scan") else None)
    for route in ROUTES:
        if route.check(msg):
            reply = route.action(ctx, msg)
            if reply != CONTINUE:
                return reply
    return None


@dataclass(frozen=True)
class Conversation:
    """The app's handler (bot.messaging.inbound.Handler): each message's Context from the app's services."""

    classifier: Classifier
    dialogues: DialogueStore
    faq: Faq
    street_name: str
    street_contact: str

    def __post_init__(self) -> None:
        replies.words()  # a replies.yaml that cannot be used stops start-up, not the first resident's message

    def prepare(self, session: Session, openids: list[str]) -> None:
        """Before a batch of these residents' messages is answered in one transaction: their dialogue states, read
        in one round trip."""
        memory.prefetch(session, self.dialogues, openids)

    def __call__(self, session: Session, msg: Inbound, now: datetime) -> str | None:
        """Handle one message as of `now` in the caller's transaction."""
        ctx = Context(session, now, self.classifier, self.dialogues, self.faq, self.street_name, self.street_contact)
        return handle(ctx, msg)
