"""Content-Security-Policy on every HTML page, and pages that live within it: each inline
script, style element, style attribute or event handler a page carries is checked against
the policy its response sends, as a browser would (CSP level 3 fallbacks)."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission

from circulation.models import Loan

pytestmark = pytest.mark.django_db

JS_TYPES = {"", "text/javascript", "application/javascript", "module"}


def parse_policy(header: str) -> dict[str, list[str]]:
    policy = {}
    for part in header.split(";"):
        name, *sources = part.split()
        policy[name] = sources
    return policy


def sources_for(policy, *directives) -> list[str]:
    """The first directive present, in CSP's fallback order, then default-src."""
    for directive in (*directives, "default-src"):
        if directive in policy:
            return policy[directive]
    return ["*"]  # no directive at all: anything goes (a failing result for these tests)


class InlineContent(HTMLParser):
    """What a page asks the browser to run or apply inline."""

    def __init__(self):
        super().__init__()
        self.found = []  # (kind, nonce, excerpt)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        nonce = attributes.get("nonce")
        if tag == "script" and "src" not in attributes:
            if (attributes.get("type") or "").lower() in JS_TYPES:
                self.found.append(("script", nonce, self.excerpt()))
        if tag == "style":
            self.found.append(("style", nonce, self.excerpt()))
        for name, value in attrs:
            if name == "style":
                self.found.append(("style-attr", None, self.excerpt()))
            elif name.startswith("on"):
                self.found.append(("handler", None, self.excerpt()))
            elif name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(("handler", None, self.excerpt()))

    def excerpt(self):
        return self.get_starttag_text()[:120]


def blocked(response) -> list[str]:
    """Everything inline on the page that the response's own policy would block."""
    policy = parse_policy(response["Content-Security-Policy"])
    parser = InlineContent()
    parser.feed(response.content.decode())
    refused = []
    for kind, nonce, excerpt in parser.found:
        if kind == "script":
            allowed = sources_for(policy, "script-src-elem", "script-src")
            ok = nonce is not None and f"'nonce-{nonce}'" in allowed
        elif kind == "style":
            allowed = sources_for(policy, "style-src-elem", "style-src")
            ok = nonce is not None and f"'nonce-{nonce}'" in allowed
        elif kind == "style-attr":
            allowed = sources_for(policy, "style-src-attr", "style-src")
            # A nonce or hash in the list switches 'unsafe-inline' off (CSP level 2+).
            ok = "'unsafe-inline'" in allowed and not any(
                s.startswith(("'nonce-", "'sha")) for s in allowed
            )
        else:  # event handlers, javascript: URLs
            allowed = sources_for(policy, "script-src-attr", "script-src")
            ok = "'unsafe-inline'" in allowed
        if not ok:
            refused.append(f"{kind}: {excerpt}")
    return refused


def assert_strict_policy(response):
    policy = parse_policy(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    for directive in ("script-src", "style-src"):
        assert "'self'" in policy[directive]
        assert "'unsafe-inline'" not in policy[directive], directive
        assert "'unsafe-eval'" not in policy[directive], directive
    assert "script-src-attr" not in policy


def assert_page_lives_within_its_policy(response):
    assert response.status_code in (200, 404, 429), response.status_code
    assert "text/html" in response["Content-Type"]
    assert_strict_policy(response)
    assert blocked(response) == []


@pytest.fixture
def librarian(staff):
    """Staff who may also look at loans in the admin."""
    staff.user_permissions.add(Permission.objects.get(codename="view_loan"))
    return staff


def website_pages(book):
    return ["/", "/?q=austen", f"/books/{book.pk}/", "/books/987654/", "/api/auth/login/"]


def admin_pages(book, loan):
    return [
        "/admin/",
        "/admin/catalog/book/",
        f"/admin/catalog/book/{book.pk}/change/",
        "/admin/catalog/book/add/",
        "/admin/circulation/copy/",
        f"/admin/circulation/loan/{loan.pk}/change/",
        "/admin/password_change/",
    ]


def test_every_website_page_has_a_strict_policy_it_lives_within(client, book):
    for path in website_pages(book):
        response = client.get(path)
        assert_page_lives_within_its_policy(response)


def test_the_website_signed_in_and_the_429_page_too(client, staff, book, settings):
    client.force_login(staff)
    assert_page_lives_within_its_policy(client.get("/"))
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"user": "1/minute", "anon": "1/minute"}}
    client.get("/", {"q": "a"})
    refused = client.get("/", {"q": "a"})
    assert refused.status_code == 429
    assert_page_lives_within_its_policy(refused)


def test_the_sign_in_page_is_the_sites_own_and_works(client, member):
    page = client.get("/api/auth/login/?next=/books/1/")
    assert 'name="next" value="/books/1/"' in page.content.decode()
    wrong = client.post("/api/auth/login/", {"username": "mia", "password": "nope"})
    assert wrong.status_code == 200 and 'role="alert"' in wrong.content.decode()
    assert_page_lives_within_its_policy(wrong)
    signed_in = client.post("/api/auth/login/", {"username": "mia", "password": "pw-mia-test",
                                                 "next": "/books/1/"})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/books/1/"


def test_every_admin_page_lives_within_the_policy(client, librarian, member, book):
    loan = Loan.objects.create(copy=book.copies.first(), borrower=member)
    assert_page_lives_within_its_policy(client.get("/admin/login/"))
    client.force_login(librarian)
    for path in admin_pages(book, loan):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_page_lives_within_its_policy(response)


def test_the_api_docs_page_runs_no_inline_script(client):
    page = client.get("/api/docs/")
    assert_page_lives_within_its_policy(page)
    html = page.content.decode()
    [init] = re.findall(r'<script src="(/api/docs/\?[^"]*script[^"]*)"', html)
    script = client.get(init.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    for stylesheet in re.findall(r'<link rel="stylesheet" href="([^"]+)"', html):
        assert client.get(stylesheet).status_code == 200, stylesheet
    policy = parse_policy(page["Content-Security-Policy"])
    assert policy["connect-src"] == ["'self'"]  # "Try it out" and the schema: this origin only


def test_the_browsable_api_allows_style_attributes_only(client, staff, book):
    client.force_login(staff)  # the signed-in page has the most on it (forms)
    page = client.get("/api/v1/books/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    policy = parse_policy(page["Content-Security-Policy"])
    assert policy["style-src-attr"] == ["'unsafe-inline'"]
    assert "'unsafe-inline'" not in policy["script-src"] + policy["style-src"]
    assert blocked(page) == []
    # JSON answers keep the strict policy.
    assert_strict_policy(client.get("/api/v1/books/"))


def test_the_nonce_changes_on_every_response(client, staff):
    client.force_login(staff)

    def nonce():
        page = client.get("/api/v1/books/", HTTP_ACCEPT="text/html")
        return re.search(r"'nonce-([^']+)'", page["Content-Security-Policy"]).group(1)

    assert nonce() != nonce()


def test_the_checker_sees_what_a_browser_would_block():
    """The helper above must fail pages it should: it is what the other tests rely on."""

    class Page:
        def __init__(self, html, policy):
            self.content = html.encode()
            self.headers = {"Content-Security-Policy": policy}

        def __getitem__(self, name):
            return self.headers[name]

    strict = "default-src 'none'; script-src 'self' 'nonce-abc'; style-src 'self' 'nonce-abc'"
    assert blocked(Page('<script nonce="abc">x()</script><style nonce="abc"></style>',
                        strict)) == []
    assert blocked(Page('<script type="application/json">{}</script>', strict)) == []
    for html in ("<script>x()</script>", '<script nonce="zzz">x()</script>', "<style></style>",
                 '<p style="color: red">', '<a onclick="x()">', '<a href="javascript:x()">'):
        assert blocked(Page(html, strict)), html
    relaxed = strict + "; style-src-attr 'unsafe-inline'"
    assert blocked(Page('<p style="color: red">', relaxed)) == []
