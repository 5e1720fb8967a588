"""Small helpers for service tests."""

from sqlalchemy import func, select

from portal.database import db
from portal.models import OutboxMessage


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def emails_to(address: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == address).order_by(OutboxMessage.id))
    )
