import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from schemathesis.specs.openapi.checks import positive_data_acceptance

from config.wsgi import application
from tests.factories import (
    EventFactory,
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    SourceFactory,
    ThemeFactory,
)

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


def test_the_schema_documents_refusals(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"400", "401", "429"} <= codes, (method, path)
            if method != "get":
                assert "403" in codes, (method, path)
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            if method == "post" and "{" not in path:
                assert "422" in codes and "Idempotency-Key" in headers, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
                key = next(p["schema"] for p in operation["parameters"] if p["in"] == "path")
                assert key.get("pattern") or key["type"] == "integer", (method, path)
                if method in ("put", "patch", "delete"):
                    assert "412" in codes and "If-Match" in headers, (method, path)


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


def exercise(operation, stats, headers=None, max_examples=25, existing=None):
    @hypothesis.given(case=operation.as_strategy())
    @hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        stats["requests"] += 1
        if existing and case.path_parameters:
            # Half the generated addresses are swapped for a record that exists, so that
            # replacing and updating real records is fuzzed, not only "404 Not Found".
            for name, value in case.path_parameters.items():
                if len(str(value)) % 2 == 0:
                    case.path_parameters[name] = existing[operation.path]
        # A filter naming no record ('?place=nowhere') is a documented 400; the schema
        # cannot say which slugs exist, so "schema-valid data is accepted" cannot hold.
        # Schemathesis's WSGI transport asks for gzip but, unlike an HTTP client, does not
        # undo it: the checks read the body as it is.
        response = case.call_and_validate(
            headers={"Accept-Encoding": "identity", **(headers or {})},
            excluded_checks=[positive_data_acceptance],
        )
        stats.setdefault(response.status_code, 0)
        stats[response.status_code] += 1

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


def test_every_operation_with_an_editors_token_conforms_to_the_schema(connection_kept_open, editor):
    """Writes included: creates, replaces, partial updates and (refused) deletes."""
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=editor)
    place = PlaceFactory(name="Wuxi", slug="wuxi", latitude="31.5", longitude="120.3")
    partnership = PartnershipFactory(
        slug="tie", start="1980s", parties=[place, OrganisationFactory(slug="au")]
    )
    partnership.themes.add(ThemeFactory(slug="culture"))
    existing = {
        "/api/places/{slug}/": "wuxi",
        "/api/organisations/{slug}/": "au",
        "/api/partnerships/{slug}/": "tie",
        "/api/themes/{slug}/": "culture",
        "/api/sources/{id}/": SourceFactory().pk,
    }
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    stats = {"operations": 0, "requests": 0}
    for result in schema.get_all_operations():
        stats["operations"] += 1
        exercise(
            result.ok(),
            stats,
            headers={"Authorization": f"Token {token.key}"},
            max_examples=15,
            existing=existing,
        )
    print("schemathesis with writes:", stats)  # noqa: T201
    # 12 GET operations; POST on 5 lists; PUT, PATCH and DELETE on 5 details.
    assert stats["operations"] == 12 + 5 + 3 * 5
