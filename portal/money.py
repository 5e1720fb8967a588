"""Amounts of money as people read them: in the program's currency (an admin setting),
with its symbol and its own number of decimals (Babel's CLDR data), one helper for pages,
PDFs, emails and messages alike."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

import pycountry
from babel.numbers import format_currency
from flask import g
from sqlalchemy import select

from portal.database import db
from portal.models.rewards import DEFAULT_CURRENCY, RewardSettings

LOCALE = "en_US"


@lru_cache(maxsize=1)
def currencies() -> list[tuple[str, str]]:
    """(ISO 4217 code, name) for the currencies in use today, by code."""
    return sorted((c.alpha_3, c.name) for c in pycountry.currencies)


def is_currency(code: str) -> bool:
    return any(code == known for known, _name in currencies())


def program_currency() -> str:
    """The program's currency, read once per request (or job) however many amounts a page shows."""
    if "program_currency" not in g:
        g.program_currency = (
            db.session.scalar(select(RewardSettings.currency).order_by(RewardSettings.id).limit(1)) or DEFAULT_CURRENCY
        )
    return g.program_currency


def forget_program_currency() -> None:
    """After the setting changes, so that the same request shows the new one."""
    g.pop("program_currency", None)


def format_money(
    amount: Decimal | int | float | None, *, whole: bool = False, precise: bool = False, currency: str | None = None
) -> str:
    """``$1,234.50``, ``€25.00``, ``¥10``; ``whole`` rounds to units (for large figures such as
    revenue), ``precise`` keeps up to four decimals (a point's value, $0.0125). None is shown
    as an empty string."""
    if amount is None:
        return ""
    code = currency or program_currency()
    if whole:
        return format_currency(amount, code, format="¤#,##0", locale=LOCALE, currency_digits=False)
    if precise:
        return format_currency(amount, code, format="¤#,##0.00##", locale=LOCALE, currency_digits=False)
    return format_currency(amount, code, locale=LOCALE)
