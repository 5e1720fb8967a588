"""Managing and reading the taxonomies."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

import pycountry
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.database import db
from portal.models import ActivityType, ActivityWeight, ConsentPurpose, Region, RegionCountry, Term, TermKind
from portal.services import taxonomy_defaults as defaults
from portal.services.errors import DomainError


@lru_cache(maxsize=1)
def countries() -> list[tuple[str, str]]:
    """(ISO 3166-1 alpha-2, name), sorted by name."""
    return sorted(
        ((c.alpha_2, getattr(c, "common_name", c.name)) for c in pycountry.countries),
        key=lambda pair: pair[1],
    )


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    return dict(countries())


@lru_cache(maxsize=1)
def languages() -> list[tuple[str, str]]:
    """(ISO 639-1, name) for the languages that have a two-letter code."""
    return sorted(
        ((lang.alpha_2, lang.name) for lang in pycountry.languages if hasattr(lang, "alpha_2")),
        key=lambda pair: pair[1],
    )


@lru_cache(maxsize=1)
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@lru_cache(maxsize=1)
def language_names() -> dict[str, str]:
    return dict(languages())


def terms(kind: TermKind, *, include_retired: bool = False) -> list[Term]:
    query = select(Term).where(Term.kind == kind).order_by(Term.name)
    if not include_retired:
        query = query.where(Term.active.is_(True))
    return list(db.session.scalars(query))


def activity_types(*, include_retired: bool = False) -> list[ActivityType]:
    query = select(ActivityType).order_by(ActivityType.sort_order, ActivityType.name)
    if not include_retired:
        query = query.where(ActivityType.active.is_(True))
    return list(db.session.scalars(query))


def regions(*, with_countries: bool = False) -> list[Region]:
    query = select(Region).order_by(Region.name)
    if with_countries:  # one query for all of them, not one per region
        query = query.options(selectinload(Region.countries))
    return list(db.session.scalars(query))


def region_tree(*, with_countries: bool = False) -> list[tuple[Region, int]]:
    """Every region with its depth, parents before children, for indented lists."""
    all_regions = regions(with_countries=with_countries)
    children: dict[int | None, list[Region]] = {}
    for region in all_regions:
        children.setdefault(region.parent_id, []).append(region)
    ordered: list[tuple[Region, int]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for region in children.get(parent_id, []):
            ordered.append((region, depth))
            walk(region.id, depth + 1)

    walk(None, 0)
    return ordered


def region_countries(region_ids: list[int]) -> set[str]:
    """Every country in the given regions or any region nested inside them."""
    rows = db.session.execute(select(Region.id, Region.parent_id)).all()
    children: dict[int | None, list[int]] = {}
    for region_id, parent_id in rows:
        children.setdefault(parent_id, []).append(region_id)
    wanted: set[int] = set()
    stack = list(region_ids)
    while stack:
        region_id = stack.pop()
        if region_id in wanted:
            continue
        wanted.add(region_id)
        stack.extend(children.get(region_id, []))
    if not wanted:
        return set()
    return set(
        db.session.scalars(select(RegionCountry.country).where(RegionCountry.region_id.in_(wanted)))
    )


def _same_name(kind: TermKind, name: str):
    """A term of the list that differs from ``name`` at most in case: the import and the
    forms match names regardless of case, so two such terms could not be told apart."""
    return select(Term.name).where(Term.kind == kind, func.lower(Term.name) == name.lower())


def add_term(kind: TermKind, name: str) -> Term:
    name = name.strip()
    if not name:
        raise DomainError("Enter a name.", field="name")
    existing = db.session.scalar(_same_name(kind, name).limit(1))
    if existing is not None:
        raise DomainError(f"“{existing}” is already in the list.", field="name")
    term = Term(kind=kind, name=name)
    db.session.add(term)
    db.session.flush()
    return term


def rename_term(term: Term, name: str) -> None:
    name = name.strip()
    if not name:
        raise DomainError("Enter a name.", field="name")
    clash = db.session.scalar(_same_name(term.kind, name).where(Term.id != term.id).limit(1))
    if clash is not None:
        raise DomainError(f"“{clash}” is already in the list.", field="name")
    term.name = name
    db.session.flush()


def set_term_active(term: Term, active: bool) -> None:
    term.active = active
    db.session.flush()


def save_region(region: Region | None, name: str, parent_id: int | None, country_codes: list[str]) -> Region:
    name = name.strip()
    if not name:
        raise DomainError("Enter a name.", field="name")
    unknown = [c for c in country_codes if c not in country_names()]
    if unknown:
        raise DomainError(f"Unknown country codes: {', '.join(unknown)}.", field="countries")
    # No autoflush: a name that is taken must fail in the flush below, where it becomes a
    # message, not in a lookup on the way there.
    with db.session.no_autoflush:
        if region is None:
            region = Region(name=name)
            db.session.add(region)
        if parent_id is not None:
            parent = db.session.get(Region, parent_id)
            if parent is None:
                raise DomainError("Choose an existing parent region.", field="parent_id")
            ancestor = parent
            while ancestor is not None:  # a region cannot sit inside itself
                if ancestor is region:
                    raise DomainError("A region cannot be inside itself or one of its sub-regions.", field="parent_id")
                ancestor = ancestor.parent
        region.name = name
        region.parent_id = parent_id
        region.countries = [RegionCountry(country=code) for code in sorted(set(country_codes))]
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise DomainError(f"A region named “{name}” exists already.", field="name") from exc
    return region


def load_defaults() -> bool:
    """Fill empty taxonomies with the defaults; returns whether anything was added."""
    added = False
    for kind, names in (
        (TermKind.PRODUCT, defaults.PRODUCTS),
        (TermKind.USE_CASE, defaults.USE_CASES),
        (TermKind.INDUSTRY, defaults.INDUSTRIES),
    ):
        if not db.session.scalar(select(Term.id).where(Term.kind == kind).limit(1)):
            db.session.add_all(Term(kind=kind, name=name) for name in names)
            added = True
    if not db.session.scalar(select(ActivityType.id).limit(1)):
        db.session.add_all(
            ActivityType(
                key=key,
                name=name,
                description=description,
                sort_order=index,
                weight=ActivityWeight(weight),
                purpose=ConsentPurpose(purpose) if purpose else None,
            )
            for index, (key, name, description, weight, purpose) in enumerate(defaults.ACTIVITY_TYPES)
        )
        added = True
    if not db.session.scalar(select(Region.id).limit(1)):
        by_name: dict[str, Region] = {}
        for name, parent, codes in defaults.REGIONS:
            region = Region(name=name, parent=by_name.get(parent) if parent else None)
            region.countries = [RegionCountry(country=code) for code in codes]
            by_name[name] = region
            db.session.add(region)
        added = True
    db.session.flush()
    return added
