"""schemathesis against our own OpenAPI schema, over HTTP: no 5xx, and answers as described."""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

# The schema the server serves at /api/schema/, made here so pytest can name a test per operation.
schema = schemathesis.openapi.from_dict(
    json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))
)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_the_api_keeps_to_its_schema(
    case: Any, live_server: Any, transactional_db: None, api_key: str
) -> None:
    case.call_and_validate(
        base_url=live_server.url,
        headers={"Authorization": f"Bearer {api_key}"},
        checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
    )
