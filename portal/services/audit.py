"""The audit trail: every admin decision and override, and the changes people should be
able to account for later."""

from __future__ import annotations

from portal.database import db
from portal.models import AuditEvent, User


def record(actor: User | None, action: str, subject, summary: str, **details) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        subject_type=subject.__tablename__ if subject is not None else "",
        subject_id=subject.id if subject is not None else None,
        summary=summary,
        details=details,
    )
    db.session.add(event)
    return event
