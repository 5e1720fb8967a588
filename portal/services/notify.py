"""Telling people things: in the portal, and by email as each person prefers (immediately,
in a weekly digest, or not at all), always with a one-click unsubscribe."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from portal.database import db, utcnow
from portal.models import Delivery, Notification, NotificationCategory, User
from portal.services.errors import DomainError
from portal.services.outbox import queue_email
from portal.urls import external_url

ALL = "all"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="unsubscribe")


def unsubscribe_url(user: User, category: NotificationCategory | None) -> str:
    token = _serializer().dumps({"u": user.id, "c": category.value if category else ALL})
    return external_url("public.unsubscribe", token=token)


def read_unsubscribe_token(token: str) -> tuple[User, NotificationCategory | None]:
    try:
        data = _serializer().loads(token)
        user = db.session.get(User, int(data["u"]))
        category = None if data["c"] == ALL else NotificationCategory(data["c"])
    except (BadSignature, KeyError, TypeError, ValueError) as exc:
        raise DomainError("This unsubscribe link is not valid.") from exc
    if user is None:
        raise DomainError("This unsubscribe link is not valid.")
    return user, category


def unsubscribe(user: User, category: NotificationCategory | None) -> None:
    """Turn one category off, or every optional email when ``category`` is None."""
    preferences = dict(user.email_preferences or {})
    for each in [category] if category else list(NotificationCategory):
        preferences[each.value] = Delivery.OFF.value
    user.email_preferences = preferences
    db.session.flush()


def delivery_for(user: User, category: NotificationCategory) -> Delivery:
    return Delivery((user.email_preferences or {}).get(category.value, Delivery.IMMEDIATE.value))


def set_preferences(user: User, preferences: dict[NotificationCategory, Delivery]) -> None:
    user.email_preferences = {category.value: delivery.value for category, delivery in preferences.items()}
    db.session.flush()


def email_user(
    user: User,
    subject: str,
    template: str,
    *,
    category: NotificationCategory | None = None,
    to: str | None = None,
    **context,
) -> None:
    """Queue an email to a known person (at ``to`` when it must reach another of their
    addresses) with the unsubscribe link and headers (RFC 8058)."""
    url = unsubscribe_url(user, category)
    headers = {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    queue_email(to or user.email, subject, template, headers=headers, user=user, unsubscribe_url=url, **context)


def notify(
    user: User,
    category: NotificationCategory,
    title: str,
    body: str = "",
    *,
    link_endpoint: str | None = None,
    **link_values,
) -> Notification:
    """Show ``title``/``body`` in the portal and email it as the person prefers."""
    link = external_url(link_endpoint, **link_values) if link_endpoint else None
    notification = Notification(user_id=user.id, category=category, title=title, body=body, link=link)
    db.session.add(notification)
    if user.active and delivery_for(user, category) is Delivery.IMMEDIATE:
        email_user(user, title, "notification", category=category, title=title, body=body, link=link)
    db.session.flush()
    return notification


def unread(user: User, limit: int = 10) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def mark_read(user: User, notification_id: int | None = None) -> None:
    query = select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    for notification in db.session.scalars(query):
        notification.read_at = utcnow()
    db.session.flush()


def send_digests() -> int:
    """One email per person with the notifications of the categories they chose to get
    weekly; returns how many digests were queued."""
    since = utcnow() - timedelta(days=30)
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.digested_at.is_(None), Notification.created_at >= since)
        .order_by(Notification.user_id, Notification.id)
    ).all()
    by_user: dict[int, list[Notification]] = {}
    for notification in rows:
        by_user.setdefault(notification.user_id, []).append(notification)
    sent = 0
    now = utcnow()
    for user_id, notifications in by_user.items():
        user = db.session.get(User, user_id)
        due = [n for n in notifications if delivery_for(user, n.category) is Delivery.DIGEST]
        for notification in notifications:
            notification.digested_at = now  # immediate and off ones are settled too
        if due and user.active:
            email_user(
                user,
                f"Your weekly summary from {current_app.config['PROGRAM_NAME']}",
                "digest",
                notifications=due,
            )
            sent += 1
    db.session.flush()
    return sent
