"""The OpenAPI document: valid OpenAPI 3, served as the code answers, fuzzed with schemathesis."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.api.openapi import DOCUMENT
from tests.listings.helpers import add_agency, bearer, new_key

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, ignored_auth]
"""No 5xx, and every answer is one the document promises, in the shape it promises."""

OPERATIONS = [
    ("POST", "/api/v1/job-listings"),
    ("GET", "/api/v1/job-listings"),
    ("GET", "/api/v1/job-listings/{code}"),
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/events"),
    ("POST", "/api/v1/placements"),
    ("GET", "/api/v1/placements/{placement_id}"),
    ("POST", "/api/v1/placements/{placement_id}/transitions"),
    ("GET", "/api/v1/reports"),
    ("GET", "/api/v1/reports/{name}"),
    ("GET", "/api/v1/cases"),
    ("GET", "/api/v1/cases/{ref}"),
]

EXAMPLES = 50
"""Generated requests per operation and mode: enough to find a crash, bounded in time."""


def test_the_document_is_valid_openapi_3() -> None:
    validate(DOCUMENT)  # raises on any violation of the OpenAPI 3.0 schema
    assert DOCUMENT["openapi"].startswith("3.0")
    schemes = DOCUMENT["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert {schemes[n]["name"] for n in ("partnerId", "partnerTimestamp", "partnerSignature")} == {
        "X-Kazi-Partner", "X-Kazi-Timestamp", "X-Kazi-Signature"}


def test_the_document_covers_every_api_route(app) -> None:
    documented = {(method.upper(), path) for path, item in DOCUMENT["paths"].items()
                  for method in item}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routed |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routed == set(OPERATIONS)


def test_the_served_document_is_the_one_in_the_code(client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == DOCUMENT


def test_every_error_response_uses_the_error_schema() -> None:
    for item in DOCUMENT["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    name = response["$ref"].rsplit("/", 1)[-1]
                    body = DOCUMENT["components"]["responses"][name]["content"]
                    assert body["application/json"]["schema"]["$ref"].endswith("/Error")


RUNS = [
    ("POST", "/api/v1/job-listings", GenerationMode.POSITIVE, {201, 422}),
    ("POST", "/api/v1/job-listings", GenerationMode.NEGATIVE, {401, 422}),
    ("GET", "/api/v1/job-listings", GenerationMode.POSITIVE, {200}),
    ("GET", "/api/v1/job-listings", GenerationMode.NEGATIVE, {422}),
    ("GET", "/api/v1/job-listings/{code}", GenerationMode.POSITIVE, {404}),
    ("GET", "/api/v1/openapi.json", GenerationMode.POSITIVE, {200}),
    # Generated requests cannot sign: every one must be refused, none may crash.
    ("POST", "/api/v1/events", GenerationMode.POSITIVE, {401}),
    ("POST", "/api/v1/events", GenerationMode.NEGATIVE, {401}),
    # Generated people are not registered; generated placement ids are not the agency's.
    ("POST", "/api/v1/placements", GenerationMode.POSITIVE, {422}),
    ("POST", "/api/v1/placements", GenerationMode.NEGATIVE, {422}),
    ("GET", "/api/v1/placements/{placement_id}", GenerationMode.POSITIVE, {404}),
    ("POST", "/api/v1/placements/{placement_id}/transitions", GenerationMode.POSITIVE, {404}),
    ("POST", "/api/v1/placements/{placement_id}/transitions", GenerationMode.NEGATIVE, {404}),
    # An agency's key is no staff key: the case endpoints refuse it, and never crash.
    ("GET", "/api/v1/cases", GenerationMode.POSITIVE, {401}),
    ("GET", "/api/v1/cases/{ref}", GenerationMode.POSITIVE, {401}),
]
"""Each operation and generation mode, with the statuses the run must have produced."""


@pytest.mark.parametrize("method,path,mode,expected", RUNS,
                         ids=[f"{m} {p} {g.value}" for m, p, g, _ in RUNS])
def test_schemathesis_finds_no_server_error(app, svc, method, path, mode, expected) -> None:
    add_agency(svc)
    key = new_key(svc)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method]
    seen: set[int] = set()

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        response = case.call_and_validate(headers=bearer(key), checks=CHECKS)
        seen.add(response.status_code)

    run()
    # The run reached the code paths it was meant to: not only auth or routing errors.
    assert expected <= seen, seen
    assert all(status < 500 for status in seen)
