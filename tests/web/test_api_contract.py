"""Contract test: schemathesis generates requests from /api/v1/openapi.json (valid and
invalid ones, with and without a token) and checks that the API never answers 500 and
answers only what the file documents."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from portal.database import commit
from portal.models import ApiToken
from portal.services import publishing
from tests.factories import TermFactory
from tests.publishing import listed_advocate, reference_db  # noqa: F401

TOKEN = "ap_contract-test-token"


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_its_contract(app, db, reference_db, mode):
    db.session.add(ApiToken(name="contract test", token_hash=publishing.hash_token(TOKEN), prefix=TOKEN[:10]))
    account_ids = [listed_advocate(products=[TermFactory()]).account_id for _ in range(3)]
    commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {o.label for o in operations} == {"POST /api/v1/accounts/{account_id}/health", "GET /api/v1/advocates"}

    for operation in operations:
        # (pytest 9 and schemathesis' own pytest plugin disagree, so hypothesis drives it here.)
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def keeps_contract(case):
            account_id = (case.path_parameters or {}).get("account_id")
            if isinstance(account_id, int) and account_id % 2:
                case.path_parameters["account_id"] = account_ids[0]  # a real account, too
            case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)

        keeps_contract()
