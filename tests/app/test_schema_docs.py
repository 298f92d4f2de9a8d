import re

import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_openapi_schema_describes_the_api(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in ["/api/v1/books/", "/api/v1/authors/", "/api/v1/copies/",
                 "/api/v1/loans/", "/api/v1/loans/checkout/", "/api/v1/loans/{id}/return/"]:
        assert path in paths, path
    assert "post" in paths["/api/v1/loans/checkout/"]


def test_schema_as_json(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Stacks library API"


def test_docs_page_loads_only_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)', html)
    assert any("swagger-ui" in a for a in assets)
    for asset in assets:
        assert asset.startswith("/"), asset
        assert not asset.startswith("//"), asset
    assert "cdn" not in html.lower()
    for asset in assets:
        if asset.startswith("/static/"):
            assert client.get(asset).status_code == 200, asset


def test_browsable_api_renders(client, book):
    response = client.get("/api/v1/books/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "Pride and Prejudice" in response.content.decode()
