"""Demo data for ``flask --app wsgi seed-demo``: idempotent, believable, every page populated."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from portal.database import db
from portal.models import Account, Role, User
from portal.services import auth

ACCOUNTS = [
    # name, domain, industry, country
    ("Banco Istmeño", "bancoistmeno.example", "Financial services", "PA"),
    ("Cafetalera del Pacífico", "cafepacifico.example", "Food and beverage", "CR"),
    ("Northwind Health", "northwindhealth.example", "Healthcare", "US"),
    ("Fjordline Logistics", "fjordline.example", "Transport and logistics", "NO"),
    ("Rheinwerk Maschinenbau", "rheinwerk.example", "Manufacturing", "DE"),
    ("Sakura Retail Group", "sakuraretail.example", "Retail", "JP"),
    ("Southern Cross Insurance", "southerncross.example", "Financial services", "AU"),
    ("Lumière Énergie", "lumiere-energie.example", "Energy and utilities", "FR"),
    ("Maple Public Services", "maplegov.example", "Public sector", "CA"),
    ("Andes Mining Corp", "andesmining.example", "Mining", "CL"),
    ("Nile Telecom", "niletelecom.example", "Telecommunications", "EG"),
    ("Bangalore Software Labs", "blrsoftware.example", "Software", "IN"),
    ("Guatemala Agro Exports", "agroexports-gt.example", "Agriculture", "GT"),
    ("Example Customer", "example.com", "Software", "GB"),
]

PEOPLE = [
    # email, name, role
    ("admin@example.com", "Ada Advocacy", Role.ADMIN),
    ("staff@example.com", "Sam Seller", Role.STAFF),
    ("advocate@example.com", "Alex Advocate", Role.ADVOCATE),
    ("maria.lopez@bancoistmeno.example", "María López", Role.ADVOCATE),
    ("kenji.sato@sakuraretail.example", "Kenji Sato", Role.ADVOCATE),
    ("ingrid.berg@fjordline.example", "Ingrid Berg", Role.ADVOCATE),
    ("priya.nair@blrsoftware.example", "Priya Nair", Role.ADVOCATE),
    ("csm@example.com", "Casey Success", Role.STAFF),
]


def seed() -> str:
    for name, domain, industry, country in ACCOUNTS:
        account = db.session.scalar(select(Account).where(Account.domain == domain))
        if account is None:
            db.session.add(Account(name=name, domain=domain, industry=industry, country=country))
    for email, name, role in PEOPLE:
        if auth.find_user(email) is None:
            db.session.add(User(email=email, name=name, role=role))
    db.session.flush()

    # A fresh password each run, printed once: the demo never ships a known password.
    admin = auth.find_user("admin@example.com")
    password = secrets.token_urlsafe(12)
    admin.password_hash = auth.hash_password(password)
    db.session.flush()
    return "\n".join(
        [
            f"Demo program ready: {len(ACCOUNTS)} customer accounts, {len(PEOPLE)} people.",
            f"  admin@example.com    (admin)    password: {password}",
            "  staff@example.com    (staff)    sign in with:  flask --app wsgi login-link staff@example.com",
            "  advocate@example.com (advocate) sign in with an email link at /sign-in",
        ]
    )
