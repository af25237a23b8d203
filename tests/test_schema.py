from __future__ import annotations

from typing import Any

from django.test import Client


def test_it_serves_the_openapi_schema(client: Client, db: None) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/runs/{id}/log/" in paths
    assert "/api/v1/projects/{slug}/" in paths


def test_it_serves_the_docs_page_from_our_own_static_files(client: Client, db: None) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"http://" not in response.content and b"https://" not in response.content


def test_it_answers_json_for_unknown_api_urls(client: Client, db: None) -> None:
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_it_has_no_schema_warnings(db: None, capsys: Any) -> None:
    from drf_spectacular.generators import SchemaGenerator

    SchemaGenerator().get_schema(request=None, public=True)
    assert "Warning" not in capsys.readouterr().err
