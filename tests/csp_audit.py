"""Every HTML page the test suite renders must carry the Content-Security-Policy header and
nothing the policy would block: no inline script without a nonce, no inline style, no
event-handler attribute, no javascript: URL.

The test settings put this middleware outermost, so every page of every test (the test
client's, and the browser tests' live server) is checked; a page that breaks the rule
fails its test."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

# Data blocks: the browser does not run them, so the policy does not apply.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json", "text/template"}


class _Inline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        line = self.getpos()[0]
        runs = (values.get("type") or "").lower() not in DATA_SCRIPT_TYPES
        if tag == "script" and runs and "src" not in values and "nonce" not in values:
            self.problems.append(f"inline <script> without a nonce at line {line}")
        if tag == "style" and "nonce" not in values:
            self.problems.append(f"inline <style> at line {line}")
        for name, value in attrs:
            if name == "style":
                self.problems.append(f"style attribute on <{tag}> at line {line}")
            elif name.startswith("on"):
                self.problems.append(f"{name} handler on <{tag}> at line {line}")
            elif (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL on <{tag}> at line {line}")


def _allowed_by(policy: str, problem: str) -> bool:
    """What a page's own policy lets through: inline styles where style-src says
    'unsafe-inline'; nothing scripted in a sandbox without allow-scripts, where no script
    runs at all (the delivery preview's email, say)."""
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.split()}
    if problem.startswith("style attribute") or problem.startswith("inline <style>"):
        return "'unsafe-inline'" in directives.get("style-src", [])
    return "sandbox" in directives and "allow-scripts" not in directives["sandbox"]


def csp_problems(response: HttpResponseBase) -> list[str]:
    if not response.get("Content-Type", "").startswith("text/html"):
        return []
    problems = []
    policy = response.get("Content-Security-Policy", "")
    if not policy:
        problems.append("no Content-Security-Policy header")
    if isinstance(response, HttpResponse):
        parser = _Inline()
        parser.feed(response.content.decode(response.charset or "utf-8", "replace"))
        problems += [p for p in parser.problems if not _allowed_by(policy, p)]
    return problems


class CspAuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if problems := csp_problems(response):
            raise AssertionError(f"{request.method} {request.path} breaks the CSP: {problems}")
        return response
