"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

One browser serves every test of this package; each test gets a fresh context (cookies,
storage) and page, so that tests cannot leak a session into one another."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connections
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from pytest_django.live_server_helper import LiveServer

from automations.deploy import automation_version_deploy
from automations.errors import ServiceError
from automations.models import AutomationVersion, Project
from devtools.fake_wrk import FakeWrk
from tests.factories import make_project, make_user, make_version

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # the tests run as root in a container, where the sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",  # no calls home: the tests talk to loopback only
    "--disable-component-update",
    "--no-first-run",
]
# Screenshots for a person to look at, at the repository root (git-ignored).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Local pages answer in milliseconds; a missing element should fail the test fast, not
# after Playwright's default 30 s.
TIMEOUT_MS = 10_000


@pytest.fixture(scope="package")
def browser(django_db_setup: None) -> Iterator[Browser]:
    """One Chromium for the whole package.

    Package scope rather than session scope: Playwright's sync API keeps an asyncio loop
    marked *running* in the main thread for as long as it is started (it does so on purpose
    after every call). pytest-django runs the transactional tests (these ones) after the
    others but before the tests without a database, so a session-wide browser would leave
    that loop running under those, where ``asyncio.run()`` fails and Django's async-safety
    guard would have to stay off. pytest-django keeps this package's tests together, so this
    is still one launch per run.

    It depends on ``django_db_setup`` so that the test database, and the serialized copy
    that ``serialized_rollback`` restores, are made before the loop starts running.
    """
    if not CHROMIUM.is_file():
        # Fail, never skip: a browser test that silently does not run proves nothing.
        pytest.fail(
            f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` "
            "(`make test` does this); the browser tests need it.",
            pytrace=False,
        )
    # The main thread's connections, as Django's test setup prepared them.
    prepared = {alias: connections[alias] for alias in connections}
    with pytest.MonkeyPatch.context() as env:
        # Django refuses ORM calls from a thread with a running event loop
        # (SynchronousOnlyOperation), and while Playwright's sync API is started its loop
        # counts as the main thread's running loop. The tests' own ORM calls (factories,
        # the transactional flush) are still plain synchronous code, so the guard is a
        # false alarm here. It is lifted only while the browser runs; the live server's
        # threads have no loop and keep the check.
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        playwright = sync_playwright().start()
        try:
            # With a running loop, asgiref's thread-critical Local (which holds
            # `connections`) switches the main thread to a separate, context-local
            # storage: the ORM would open a second connection, one without the serialized
            # copy of the test database, so `serialized_rollback` would silently restore
            # nothing (the Ops group would be gone from the second test on). Put the
            # prepared connections there too, as LiveServerThread does for its thread.
            for alias, connection in prepared.items():
                connections[alias] = connection
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
        finally:
            # Drop only the references from the loop's storage; the connections stay
            # open for the tests that follow.
            for alias in prepared:
                with contextlib.suppress(AttributeError):
                    del connections[alias]
            playwright.stop()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh browser context (no cookies) whose relative URLs go to the live server."""
    context: BrowserContext = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="package", autouse=True)
def _expect_timeout() -> None:
    expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture
def ops(db: None) -> User:
    """The ops user the browser tests log in as."""
    return make_user(ops=True, email="ops@agency.example")


@pytest.fixture
def live_v1(wrk: FakeWrk, ops: User) -> tuple[Project, AutomationVersion]:
    """A project whose v1 is Live, deployed by `ops`; WRK's calls to do it forgotten."""
    project = make_project()
    v1 = make_version(project, "v1")
    automation_version_deploy(version_id=v1.pk, actor=ops, source="command")
    wrk.reset()
    return project, v1


@pytest.fixture
def v2_in_error(
    wrk: FakeWrk, ops: User, live_v1: tuple[Project, AutomationVersion]
) -> AutomationVersion:
    """v2 of `live_v1`'s project, in Error: WRK refused every attempt to activate it."""
    project, _ = live_v1
    v2 = make_version(project, "v2")
    wrk.fail_next(100, status=503, op="activate")
    with pytest.raises(ServiceError):
        automation_version_deploy(version_id=v2.pk, actor=ops, source="admin")
    wrk.reset()
    return v2


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def admin_login(page: Page, user: User, password: str = "pw") -> None:
    """Log in through the admin's own login form, as a person would."""
    page.goto("/admin/login/")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    # The user tools (with the logout button) appear only once the login went through.
    expect(page.locator("#user-tools")).to_be_visible()
