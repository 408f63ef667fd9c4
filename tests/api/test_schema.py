import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from schemathesis.specs.openapi.checks import positive_data_acceptance

from config.wsgi import application
from tests.factories import EventFactory, OrganisationFactory, PartnershipFactory, PlaceFactory

pytestmark = pytest.mark.django_db


def test_the_docs_page_uses_vendored_assets(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()


def test_the_schema_describes_every_endpoint(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert schema["openapi"].startswith("3.")
    assert {
        "/api/places/",
        "/api/places/{slug}/",
        "/api/organisations/",
        "/api/partnerships/",
        "/api/themes/",
        "/api/sources/",
        "/api/sources/{id}/",
        "/api/map/",
        "/api/network/",
    } <= set(schema["paths"])
    partnership = schema["components"]["schemas"]["Partnership"]["properties"]
    assert partnership["start"]["properties"]["precision"]["enum"] == [
        "decade",
        "year",
        "month",
        "day",
    ]


@pytest.fixture
def connection_kept_open():
    """Keep the test's database connection across WSGI requests, as the test client does.

    Django closes "unusable" connections when a request starts and ends; inside a test's
    transaction a PostgreSQL connection looks unusable, and the next query would fail.
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def exercise(operation, stats):
    @hypothesis.given(case=operation.as_strategy())
    @hypothesis.settings(
        max_examples=25,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        stats["requests"] += 1
        # A filter naming no record ('?place=nowhere') is a documented 400; the schema
        # cannot say which slugs exist, so "schema-valid data is accepted" cannot hold.
        case.call_and_validate(excluded_checks=[positive_data_acceptance])

    check()


def test_get_operations_conform_to_the_schema(connection_kept_open):
    """Schemathesis generates requests for every GET operation and checks every answer."""
    place = PlaceFactory(name="Wuxi", slug="wuxi", latitude="31.5", longitude="120.3")
    partnership = PartnershipFactory(
        slug="tie", start="1980s", parties=[place, OrganisationFactory(slug="au")]
    )
    EventFactory(partnership=partnership)
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application).include(method="GET")
    stats = {"operations": 0, "requests": 0}
    for result in schema.get_all_operations():
        stats["operations"] += 1
        exercise(result.ok(), stats)
    print("schemathesis:", stats)  # noqa: T201 - the numbers behind the run, shown with -s
    # 10 record operations, plus /api/map/ and /api/network/.
    assert stats["operations"] == 12
