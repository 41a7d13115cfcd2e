"""What the conversation works with for one message, built once by the caller and passed down."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

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
