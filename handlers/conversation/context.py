"""What the conversation works with for one message, built once by the caller and passed down."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.messaging.texts import render_text
from handlers.conversation.faq import Faq
from handlers.conversation.store import DialogueStore
from handlers.understanding.classifier import Classifier


@dataclass(frozen=True)
class Context:
    """One message's session and time, and the services and settings the conversation needs."""

    session: Session
    now: datetime  # as of the message's arrival (the scheduler answers late ones as of then)
    classifier: Classifier
    dialogues: DialogueStore
    faq: Faq
    street_name: str
    street_contact: str

    def faq_answer(self, text: str, intent: str | None = None) -> str | None:
        """The FAQ's answer to a question, rendered for this street; None when no entry fits (`intent`: a rule
        question about that problem)."""
        name = self.faq.answer_for(text, intent)
        return None if name is None else render_text(name, street=self.street_name, contact=self.street_contact)
