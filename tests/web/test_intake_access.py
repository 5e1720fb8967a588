"""Who may use which intake page and action: every page and POST of /join, the advocate's
own pages, the staff pages and the admin pages, for a visitor, the advocate whose records
are in the URLs, another advocate, staff and an admin (the same style as test_access.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from portal.database import commit
from portal.models import ConsentPurpose, NotificationCategory
from portal.services import consent, notify
from tests.web.intake import MISSING_ID, build_world, owned_rows, profile_data, snapshot
from tests.web.pages import redirect_target

ROLES = ("anonymous", "advocate", "other_advocate", "staff", "admin")
SIGN_IN, FORBIDDEN, NOT_FOUND = "sign-in", 403, 404


def everyone(code):
    return dict.fromkeys(ROLES, code)


def signed_in(code):
    return {**everyone(code), "anonymous": SIGN_IN}


def advocates(code, *, other=None):
    """Advocates' own pages; ``other`` is what another advocate gets where the URL carries
    the first advocate's token."""
    return {"anonymous": SIGN_IN, "advocate": code, "other_advocate": other or code, "staff": FORBIDDEN, "admin": FORBIDDEN}


def team(code):
    return {"anonymous": SIGN_IN, "advocate": FORBIDDEN, "other_advocate": FORBIDDEN, "staff": code, "admin": code}


def admins(code):
    return {**team(FORBIDDEN), "staff": FORBIDDEN, "admin": code}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # {item} {advocate} {batch} {term} {activity} {region}: ids of the world's records
    expect: dict
    data: dict = field(default_factory=dict)

    @property
    def has_record_id(self) -> bool:
        return any(f"{{{name}}}" in self.path for name in ("item", "advocate", "batch", "term", "activity", "region"))


# What an allowed role gets: a page (200), a redirect after the change (302), or 422 for the
# empty form posted here (the view ran and refused it).
ROUTES = [
    # public
    Route("GET", "/join", everyone(200)),
    Route("POST", "/join", everyone(422)),
    Route("GET", "/join/check-your-email", everyone(200)),
    Route("GET", "/unsubscribe/{unsubscribe}", everyone(200)),
    Route("POST", "/unsubscribe/{unsubscribe}", everyone(200)),
    # the advocate's own pages (team members see /home too)
    Route("GET", "/home", signed_in(200)),
    Route("POST", "/notifications/read", signed_in(302)),
    Route("GET", "/profile", advocates(200)),
    Route("POST", "/profile", advocates(422)),
    Route("POST", "/profile/consent", advocates(302)),
    Route("POST", "/profile/confirm", advocates(302)),
    Route("POST", "/profile/invitation", advocates(302), {"answer": "decline"}),
    Route("GET", "/profile/job-change", advocates(200)),
    Route("POST", "/profile/job-change", advocates(422)),
    Route("GET", "/profile/job-change/{token}", advocates(200, other=400)),
    Route("POST", "/profile/job-change/{token}", advocates(302, other=400)),
    Route("GET", "/preferences", advocates(200)),
    Route("POST", "/preferences", advocates(302)),
    Route("GET", "/privacy", advocates(200)),
    Route("GET", "/privacy/my-data.json", advocates(200)),
    Route("POST", "/privacy/delete", advocates(422)),
    # staff (admins may use them too)
    Route("GET", "/staff/nominate", team(200)),
    Route("POST", "/staff/nominate", team(422)),
    Route("GET", "/staff/nominations", team(200)),
    # admins
    Route("GET", "/admin/queue", admins(200)),
    Route("GET", "/admin/queue/{item}", admins(200)),
    Route("POST", "/admin/queue/{item}", admins(422)),
    Route("POST", "/admin/queue/bulk", admins(302)),
    Route("GET", "/admin/advocates", admins(200)),
    Route("GET", "/admin/advocates/{advocate}", admins(200)),
    Route("GET", "/admin/audit", admins(200)),
    Route("GET", "/admin/import", admins(200)),
    Route("POST", "/admin/import", admins(422)),
    Route("GET", "/admin/import/template.csv", admins(200)),
    Route("GET", "/admin/import/{batch}", admins(200)),
    Route("POST", "/admin/import/{batch}", admins(302)),
    Route("GET", "/admin/taxonomies", admins(200)),
    Route("POST", "/admin/taxonomies/defaults", admins(302)),
    Route("POST", "/admin/taxonomies/products", admins(422)),
    Route("POST", "/admin/taxonomies/terms/{term}", admins(302)),
    Route("POST", "/admin/taxonomies/terms/{term}/active", admins(302)),
    Route("POST", "/admin/taxonomies/activities/{activity}", admins(302)),
    Route("POST", "/admin/taxonomies/activities/{activity}/active", admins(302)),
    Route("GET", "/admin/taxonomies/regions/new", admins(200)),
    Route("POST", "/admin/taxonomies/regions/new", admins(422)),
    Route("GET", "/admin/taxonomies/regions/{region}", admins(200)),
    Route("POST", "/admin/taxonomies/regions/{region}", admins(422)),
]

# Every record id in an admin URL, pointing at nothing: 404 for admins, 403 for the rest.
MISSING = [
    Route(r.method, r.path, admins(NOT_FOUND), r.data) for r in ROUTES if r.has_record_id
] + [Route("POST", "/admin/taxonomies/no-such-list", admins(NOT_FOUND))]


def matrix(routes):
    cases = [(route, role) for route in routes for role in ROLES]
    return {"argnames": ("route", "role"), "argvalues": cases, "ids": [f"{role}:{r.method} {r.path}" for r, role in cases]}


def request_as(client, login_as, world, route, role, ids):
    user = world.user(role)
    if user is not None:
        login_as(user)
    path = route.path.format(**ids)
    return path, client.open(path, method=route.method, data=route.data)


def assert_answer(response, path, expected):
    if expected == SIGN_IN:
        assert response.status_code == 302
        # A page comes back after sign-in; a POST-only address never does (it would 405).
        back = {"next": [path]} if response.request.method == "GET" else {}
        assert redirect_target(response) == ("/sign-in", back)
    else:
        assert response.status_code == expected, response.text[:2000]
    if expected == FORBIDDEN:
        assert "You do not have access to this page" in response.text


@pytest.mark.parametrize(**matrix(ROUTES))
def test_who_may_use_each_intake_page_and_action(client, db, login_as, route, role):
    world = build_world()
    before = snapshot()

    path, response = request_as(client, login_as, world, route, role, world.ids())

    expected = route.expect[role]
    assert_answer(response, path, expected)
    if expected in (SIGN_IN, FORBIDDEN, NOT_FOUND, 400):
        assert snapshot() == before, "a refused request changed the database"
    if role not in ("advocate", "admin"):
        # Nothing of the first advocate's leaks to anyone else (admins see everything; staff
        # are offered existing company names when they nominate).
        secrets = ["Olivia", "olivia@", "Olivia&#39;s own story", "brand-new.example", "Chief Payments Officer"]
        if role != "staff":
            secrets.append("Owner Bank")
        for secret in secrets:
            assert secret not in response.text


@pytest.mark.parametrize(**matrix(MISSING))
def test_every_record_id_in_an_admin_url_is_checked(client, db, login_as, route, role):
    world = build_world()
    before = snapshot()

    path, response = request_as(client, login_as, world, route, role, {**world.ids(), **dict.fromkeys(
        ("item", "advocate", "batch", "term", "activity", "region"), MISSING_ID)})

    assert_answer(response, path, route.expect[role])
    assert snapshot() == before


# --- another advocate -----------------------------------------------------------------------

FORGED = {"advocate_id": "{owner_advocate}", "user_id": "{owner_user}", "id": "{owner_advocate}"}


@dataclass(frozen=True)
class Action:
    path: str
    data: dict
    acts: bool = True  # whether the other advocate's own record changes


ACTIONS = {
    "edit profile": Action("/profile", {"name": "Oscar Renamed"}),
    "save consent": Action("/profile/consent", {"consent-purposes": ["reference_calls", "quote"]}),
    "withdraw consent": Action("/profile/consent", {}),
    "confirm details": Action("/profile/confirm", {}),
    "answer invitation": Action("/profile/invitation", {"answer": "decline"}, acts=False),
    "report job change": Action("/profile/job-change", {"company": "Moved Co", "email": "{other_email}", "job_title": "CTO"}),
    "report job change to the owner's address": Action(
        "/profile/job-change", {"company": "Moved Co", "email": "{owner_email}", "job_title": "CTO"}, acts=False
    ),
    "confirm the owner's job change": Action("/profile/job-change/{token}", {}, acts=False),
    "email preferences": Action("/preferences", dict.fromkeys(["decisions", "requests", "programs", "reminders"], "off")),
    "delete with the owner's address": Action("/privacy/delete", {"confirm_email": "{owner_email}"}, acts=False),
    "delete own account": Action("/privacy/delete", {"confirm_email": "{other_email}"}),
    "mark notifications read": Action("/notifications/read", {}),
}


@pytest.mark.parametrize("action", ACTIONS.values(), ids=ACTIONS.keys())
def test_profile_actions_only_ever_touch_the_signed_in_advocates_own_records(client, db, login_as, action):
    world = build_world()
    owner, other = world.owner, world.other
    notify.notify(other.user, NotificationCategory.DECISIONS, "Something for Oscar")
    consent.set_consents(other.user, other, {ConsentPurpose.ADVISORY_BOARD})
    other.account.domain = None  # so that a move keeping the same address is possible
    commit()
    values = {
        "owner_advocate": owner.id,
        "owner_user": owner.user.id,
        "owner_email": owner.user.email,
        "other_email": other.user.email,
        "token": world.token,
    }
    data = {**profile_data(), **{k: v.format(**values) for k, v in FORGED.items()}}
    for key, value in action.data.items():
        data[key] = [v.format(**values) for v in value] if isinstance(value, list) else value.format(**values)
    if action.path == "/profile":
        data["name"] = action.data["name"]
    owner_before, other_before = owned_rows(owner.user), owned_rows(other.user)
    login_as(other.user)

    response = client.post(action.path.format(**values), data=data)

    assert response.status_code < 500
    assert owned_rows(owner.user) == owner_before
    assert (owned_rows(other.user) != other_before) == action.acts
