"""Every model, imported here so that Alembic and the app see the whole schema."""

from portal.models.account import Account
from portal.models.outbox import OutboxKind, OutboxMessage, OutboxStatus
from portal.models.user import Role, User, normalise_email

__all__ = [
    "Account",
    "OutboxKind",
    "OutboxMessage",
    "OutboxStatus",
    "Role",
    "User",
    "normalise_email",
]
