"""Security headers and a Content-Security-Policy the screens satisfy: no inline script,
no inline event handler, no style attribute, on every page reachable from each role's home."""

import re
from html.parser import HTMLParser

import pytest

ROLES = ["teller", "csr", "coordinator", "supervisor"]


class PageAudit(HTMLParser):
    def __init__(self):
        super().__init__()
        self.problems, self.links, self._in_inline_script = [], [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" not in attrs and attrs.get("type") not in ("application/json",):
            self._in_inline_script = True
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("inline <style>")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"{tag} {name}=")
            if name == "style":
                self.problems.append(f"{tag} style=")
            if name in ("href", "src", "action") and value and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"{tag} {name}=javascript:")
            if name in ("hx-on",) or name.startswith("hx-on:") or name.startswith("hx-on-"):
                self.problems.append(f"{tag} {name} (needs eval)")
        if tag == "a" and attrs.get("href", "").startswith("/") and not attrs["href"].startswith(("/static/",
                                                                                                  "/logout")):
            self.links.append(attrs["href"].split("#")[0])


def audit(response):
    parser = PageAudit()
    parser.feed(response.content.decode())
    return parser


def test_headers_on_a_screen(client, db):
    response = client.get("/login/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_the_login_page_and_the_api_docs_have_no_inline_code(client, staff):
    assert audit(client.get("/login/")).problems == []
    client.force_login(staff["supervisor"])
    assert audit(client.get("/api/docs/")).problems == []


@pytest.mark.parametrize("role", ROLES)
def test_every_page_linked_from_the_home_page_satisfies_the_policy(client, staff, role):
    client.force_login(staff[role])
    seen, queue, problems = set(), ["/"], {}
    while queue and len(seen) < 40:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        page = audit(response)
        if page.problems:
            problems[url] = page.problems
        queue += [link for link in page.links if link not in seen and not re.search(r"\.(csv|pdf)$", link)]
    assert len(seen) >= 3, seen
    assert problems == {}


def test_the_favicon_browsers_ask_for_exists(client, db):
    """Every browser asks for /favicon.ico; a 404 there is a console error on every page."""
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("favicon.svg")
    from django.contrib.staticfiles import finders

    assert finders.find("favicon.svg")


def test_every_page_that_loads_htmx_forbids_its_inline_style_and_eval():
    """htmx injects a <style> for its indicators unless told not to: under our policy the
    browser blocks it and logs a CSP violation (the lobby kiosk and display did, on every load)."""
    from pathlib import Path

    from django.conf import settings

    templates = [p for d in settings.TEMPLATES[0]["DIRS"] for p in Path(d).rglob("*.html")
                 if "htmx.min.js" in p.read_text()]
    assert templates
    for template in templates:
        text = template.read_text()
        assert '<meta name="htmx-config"' in text and '"includeIndicatorStyles": false' in text, template
        assert '"allowEval": false' in text, template


def test_the_lobby_kiosk_carries_the_htmx_config(client, db):
    from tests.factories import BranchFactory
    from tests.floor.lobby.conftest import lobby_setup

    lobby_setup(BranchFactory(code="DXB01"))
    html = client.get("/floor/lobby/kiosk/DXB01/").content.decode()
    assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false, "allowEval": false}\'>' in html
