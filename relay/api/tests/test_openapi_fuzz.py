"""schemathesis over the whole OpenAPI document (TESTING.md): generated requests, valid and invalid, by a
supervisor; no 5xx, every status documented, every body and content type as the document says."""

from __future__ import annotations

import os
import zlib

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from relay.cases.tests.factories import default_statuses
from relay.config.wsgi import application
from relay.core.testing.wsgi import keeping_the_test_connection

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

# loaded from the running application, as a client would (the document needs no database)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    with keeping_the_test_connection():
        yield


@pytest.fixture
def token(supervisor, schemes, settings, tmp_path):
    from relay.accounts.services import api_token_create
    from relay.activities import services as timeline
    from relay.cases import services as cases
    from relay.customers import services
    from relay.customers.services import ContactInput, IdentifierInput, PartyInput

    settings.MEDIA_ROOT = tmp_path / "media"
    # the default case statuses (a transactional test elsewhere may have flushed the data migration's rows)
    default_statuses()
    # a few records with small ids, so that generated ids sometimes find one
    for n in range(3):
        party = services.party_create(
            actor=supervisor,
            data=PartyInput(
                family_name=f"Fuzz {n}",
                contact_points=[ContactInput(kind="phone", raw=f"+1 415 555 01{n:02d}")],
                identifiers=[IdentifierInput(scheme="tax_id", value=f"TX-{n:06d}")],
            ),
        )
        timeline.note_add(actor=supervisor, party=party, body="fuzz")
        cases.case_open(actor=supervisor, party=party, subject=f"Fuzz case {n}")
    _, raw = api_token_create(user=supervisor)
    return raw


def _coverage_runs_here(case) -> bool:
    """The coverage phase (every boundary and negative case the document defines, ~120 requests an
    operation) runs for each operation on one database, chosen by a stable hash of the operation: together
    the two runs cover every operation once (it was 40 % of the suite). A quarter of the operations go to
    PostgreSQL, the rest to SQLite: `make test` runs the two side by side and the PostgreSQL run, slower
    on every test, is the longer one. The random examples run on both."""
    from django.db import connection

    if str(case.meta.phase.name) != "coverage":
        return True
    on_postgres = zlib.crc32(case.operation.label.encode()) % 4 == 1
    return on_postgres == (connection.vendor == "postgresql")


@schema.parametrize()
@settings(
    # the coverage phase already sends every boundary and negative case of the document (about 120 requests
    # an operation); random examples cost ~0.1 s each to generate, so a few suffice for make test
    max_examples=int(os.environ.get("RELAY_FUZZ_EXAMPLES", "8")),
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors_and_responses_match_the_document(case, token):
    if not _coverage_runs_here(case):
        return
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        checks=[
            schemathesis.checks.not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_headers_conformance,
            response_schema_conformance,
        ],
    )
