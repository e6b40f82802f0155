"""Issue 9 §5: semantic pages that work without JavaScript and under a strict
Content-Security-Policy: no inline script without a nonce, no inline style."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.test import Client as HttpClient
from django.utils.csp import CSP

from .conftest import NOW, healthy_day, ingest, logged_in

pytestmark = pytest.mark.django_db


class Inline(HTMLParser):
    """Collects what a strict CSP would block: inline scripts without a nonce, `style`
    attributes and elements, and `on…` event handler attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        names = {name for name, _ in attrs}
        if tag == "script" and "nonce" not in names:
            self.blocked.append(f"<script> without a nonce: {attrs}")
        if tag == "style":
            self.blocked.append("<style> element")
        for name, value in attrs:
            if name == "style":
                self.blocked.append(f"style attribute on <{tag}>: {value}")
            if name.startswith("on"):
                self.blocked.append(f"{name} handler on <{tag}>")


def pages(scenario) -> dict[str, str]:
    s = scenario()
    healthy_day(s.workflow_id, until=NOW - timedelta(minutes=10))
    ingest(s.workflow_id, ["error"] * 3, first=NOW - timedelta(minutes=9), prefix="bad")
    never = scenario(deployed=False)
    never.project.client.members.add(s.member)
    client = logged_in(s.member)
    return {
        url: client.get(url).content.decode()
        for url in (
            "/status/",
            f"/status/{s.project.slug}/",
            f"/status/{never.project.slug}/",
            "/accounts/settings/",
        )
    }


def test_no_page_has_inline_scripts_or_styles(scenario):
    for url, html in pages(scenario).items():
        parser = Inline()
        parser.feed(html)
        assert parser.blocked == [], url
        assert {"main", "header", "nav"} <= parser.tags, url


def test_the_project_page_is_semantic(scenario):
    html = next(html for url, html in pages(scenario).items() if url.count("/") == 3)
    for landmark in (
        '<main id="main">',
        '<nav class="crumbs" aria-label="Breadcrumb">',
        '<section class="card" id="runs" aria-labelledby="runs-heading">',
        '<svg class="hourly"',
        'role="img" aria-labelledby="hourly-title" aria-describedby="hourly-desc"',
        'role="img" aria-labelledby="daily-title" aria-describedby="daily-desc"',
        "<figure",
        "<figcaption",
        "<details>",
        '<th scope="col">',
    ):
        assert landmark in html


def test_the_pages_pass_djangos_own_csp_middleware_with_a_strict_policy(scenario, settings):
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "django.middleware.csp.ContentSecurityPolicyMiddleware",
    ]
    settings.SECURE_CSP = {
        "default-src": [CSP.SELF],
        "script-src": [CSP.SELF, CSP.NONCE],
        "style-src": [CSP.SELF],
        "img-src": [CSP.SELF],
    }
    s = scenario()
    response = logged_in(s.member).get(f"/status/{s.project.slug}/")
    policy = response["Content-Security-Policy"]
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    parser = Inline()
    parser.feed(response.content.decode())
    assert parser.blocked == []
    assert HttpClient().get("/accounts/login/").status_code == 200
