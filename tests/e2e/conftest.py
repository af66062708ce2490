"""Real-browser end-to-end tests: Playwright (sync API) driving Debian's Chromium against the
app served by pytest-django's ``live_server`` on 127.0.0.1.

- Chromium is the system one (``/usr/bin/chromium``, installed by ``make e2e`` / ``make test``
  with apt when missing); Playwright's own browsers are never downloaded. If no Chromium is
  found the tests are skipped with a loud reason, never errored.
- Every page is watched: a console error (a CSP violation is one) or an uncaught page error
  fails the test at teardown.
- Everyone signs in through :func:`login`, the one place that knows the login page.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

# The live server is the app on 127.0.0.1; Playwright's sync API runs an event loop in this
# thread, and Django's ORM refuses to run in one unless told it is safe (it is: one thread).
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from tests.factories import PASSWORD  # noqa: E402

#: the committed screenshots are refreshed only on request (`make screenshots`), so that a
#: test run leaves the checkout clean; otherwise they go to a scratch folder
SCREENSHOTS = (Path(__file__).resolve().parents[2] / "docs" / "screenshots"
               if os.environ.get("E2E_SAVE_SCREENSHOTS") == "1"
               else Path(os.environ.get("E2E_SCREENSHOTS_DIR", "/tmp/branch-ops-e2e-screenshots")))
FAILURES = Path(os.environ.get("E2E_FAILURES_DIR", "/tmp/branch-ops-e2e-failures"))
VIEWPORT = {"width": 1280, "height": 800}
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser")


def chromium_path() -> str | None:
    """Debian's Chromium: $CHROMIUM_PATH, else the first on PATH, else /usr/bin/chromium."""
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        pytest.skip("E2E SKIPPED: no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH); "
                    "the browser tests did NOT run")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - dev extras not installed
        pytest.skip("E2E SKIPPED: the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        yield browser
        browser.close()


class PageProblems:
    """Console errors and uncaught exceptions seen on the pages of one test."""

    def __init__(self):
        self.errors: list[str] = []

    def watch(self, page):
        def on_console(msg):
            if msg.type == "error":
                self.errors.append(f"console error on {page.url}: {msg.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error on {page.url}: {exc}"))
        return page


@pytest.fixture
def new_page(browser, live_server, request):
    """``new_page()`` → a page in a fresh browser context (its own cookies: one person),
    1280×800, English unless ``locale`` is given, watched for console and page errors."""
    problems = PageProblems()
    contexts = []

    def make(*, locale: str = "en-US"):
        context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT, locale=locale)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return problems.watch(context.new_page())

    yield make
    failed = getattr(request.node, "_e2e_failed", False)
    for n, context in enumerate(contexts):
        if failed:  # what each browser showed when the test failed, for whoever reads the log
            for m, page in enumerate(context.pages):
                path = FAILURES / f"{request.node.name}-{n}-{m}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(path), full_page=True)
                sys.stderr.write(f"e2e failure screenshot: {path} ({page.url})\n")
        context.close()
    if problems.errors and not failed:
        pytest.fail("the browser reported errors:\n" + "\n".join(problems.errors), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        item._e2e_failed = True


def login(page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real login page. EVERY e2e sign-in goes through here (two-factor
    for supervisors will add its step here, and only here)."""
    page.goto("/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    if "/login/two-factor-setup/" in page.url or "/login/code/" in page.url:
        # supervisors pass a second step: a TOTP code from a device with a known test key
        from django.contrib.auth import get_user_model

        from tests.factories import make_totp_device, totp_code_for

        user = get_user_model().objects.get(username=username)
        if "/login/two-factor-setup/" in page.url:
            make_totp_device(user)
            page.goto("/login/code/?next=/")
        page.locator("input[name=code]").fill(totp_code_for(user))
        page.locator("form button[type=submit].btn-primary").click()
        page.wait_for_load_state()
    assert "/login/" not in page.url, f"{username} could not sign in"


def screenshot(page, name: str) -> None:
    """The role's main screen as <SCREENSHOTS>/<name>.png (the viewport only: small files)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False, animations="disabled")
