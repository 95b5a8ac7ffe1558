"""/docs is Swagger UI served from the package: no CDN, so it works with no internet."""

from __future__ import annotations

import re


def test_docs_page_loads_only_local_assets(client) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    html = response.text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html) + re.findall(
        r"""url:\s*['"]([^'"]+)['"]""", html
    )
    assert urls, html
    assert all(u.startswith("/") for u in urls), urls
    assert "cdn" not in html.lower()
    assert '<html lang="en-GB">' in html
    for url in re.findall(r"""(?:src|href)=["'](/docs-assets/[^"']+)["']""", html):
        asset = client.get(url)
        assert asset.status_code == 200 and asset.content, url
    assert len(client.get("/docs-assets/swagger-ui-bundle.js").content) > 500_000


def test_swagger_ui_is_version_5_which_reads_openapi_3_1(client) -> None:
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
    bundle = client.get("/docs-assets/swagger-ui-bundle.js").text
    assert re.search(r'PACKAGE_VERSION:"5\.\d+', bundle)


def test_redoc_from_a_cdn_is_not_offered(client) -> None:
    assert client.get("/redoc").status_code == 404
