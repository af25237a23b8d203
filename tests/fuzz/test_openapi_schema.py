"""schemathesis against our own OpenAPI schema, over HTTP: no 5xx, and answers as described."""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from projects.models import ApiKey, Project
from runs.models import Run
from sweeps.lifecycle import create_sweep
from tests.sweeps.conftest import RANDOM

CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
PER_OPERATION = settings(
    max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


def api_schema() -> Any:
    """The schema the server serves at /api/schema/."""
    document = OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True))
    return schemathesis.openapi.from_dict(json.loads(document))


def test_the_api_keeps_to_its_schema(
    live_server: Any, transactional_db: None, project: Project, run: Run, api_key: str
) -> None:
    sweep = create_sweep(project, RANDOM)
    spare_key = ApiKey.issue(project.owner)[0]
    # Half the cases name objects that exist, so they get past the 404 into the view.
    existing = {
        "/api/v1/runs/": {"id": str(run.pk)},
        "/api/v1/sweeps/": {"id": sweep.pk},
        "/api/v1/keys/": {"id": spare_key.pk},
        "/api/v1/projects/": {"slug": project.slug},
    }
    operations = [result.ok() for result in api_schema().get_all_operations()]
    # Deleting goes last, so the objects are there for everything else.
    operations.sort(key=lambda operation: operation.method.upper() == "DELETE")
    failures = []
    for operation in operations:
        path_parameters = next(
            (ids for prefix, ids in existing.items() if operation.path.startswith(prefix + "{")),
            None,
        )
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
            *(
                operation.as_strategy(mode, path_parameters=path_parameters)
                for mode in GenerationMode
                if path_parameters
            ),
        )

        @PER_OPERATION
        @given(case=cases)
        def check(case: Any) -> None:
            case.call_and_validate(
                base_url=live_server.url,
                headers={"Authorization": f"Bearer {api_key}"},
                checks=CHECKS,
            )

        try:
            check()
        except (Exception, BaseExceptionGroup) as error:  # schemathesis groups its failures
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert len(operations) > 30
    assert not failures, "\n\n".join(failures)
