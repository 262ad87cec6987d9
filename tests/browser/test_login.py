"""Hosted login end to end: a real OIDC provider (oidc-provider-mock), and the password list."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Server, assert_no_exception, free_port, screenshot, wait_for_app

from pmkit.auth import MAX_FAILURES, hash_password

PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("oidc") / "oidc.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "--port", str(port)],
        stdout=open(log, "w"),  # noqa: SIM115 - open for the provider's whole life
        stderr=subprocess.STDOUT,
        env=dict(os.environ),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/.well-known/openid-configuration", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        raise RuntimeError(log.read_text())
    yield url
    process.terminate()
    process.wait(timeout=10)


def sign_in(page: object, user: str, password: str) -> None:
    page.get_by_label("E-mail").fill(user)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def signed_in_page(context: object, url: str) -> object:
    """A new tab of ``context`` on ``url``, signed in as ceo@example.com, the summary drawn."""
    page = context.new_page()
    page.goto(url)
    wait_for_app(page)
    sign_in(page, "ceo@example.com", PASSWORD)
    page.get_by_role("heading", name="Executive summary").wait_for(timeout=30_000)
    wait_for_app(page)
    return page


def session_cookie(context: object) -> dict:
    """The pmkit_session cookie, once the browser has written it: the component that writes it
    runs its JavaScript after the page's script has finished, so it can come a moment later."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = [c for c in context.cookies() if c["name"] == "pmkit_session"]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no pmkit_session cookie: {[c['name'] for c in context.cookies()]}")


def password_server(demo_workspace: Path, tmp_path: Path) -> Server:
    """Read-only, with one password user: ceo@example.com / PASSWORD."""
    return hosted(
        demo_workspace, tmp_path, f'[pmkit_auth.passwords]\n"ceo@example.com" = "{hash_password(PASSWORD)}"\n'
    )


def test_a_password_sign_in_survives_a_reload_until_log_out(
    browser: object, demo_workspace: Path, tmp_path: Path
) -> None:
    """With a session secret, a reload keeps the viewer signed in (a signed cookie); a changed
    cookie does not sign anyone in; after logging out, a reload asks for the password again."""
    server = hosted(
        demo_workspace,
        tmp_path,
        f'[pmkit_auth]\nsession_secret = "{"s" * 40}"\n\n'
        f'[pmkit_auth.passwords]\n"ceo@example.com" = "{hash_password(PASSWORD)}"\n',
    )
    summary = "Executive summary"
    try:
        context = browser.new_context()
        page = signed_in_page(context, server.url)
        cookie = session_cookie(context)
        assert cookie["sameSite"] == "Strict"
        page.reload()
        wait_for_app(page)
        page.get_by_role("heading", name=summary).wait_for(timeout=30_000)
        assert page.get_by_role("button", name="Sign in").count() == 0
        assert_no_exception(page)
        # The same cookie with one character of its signature changed signs nobody in.
        value = cookie["value"]
        forged = value[:-1] + ("0" if value[-1] != "0" else "1")
        context.add_cookies([{**cookie, "value": forged}])
        page.reload()
        wait_for_app(page)
        page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
        assert page.get_by_role("heading", name=summary).count() == 0
        context.add_cookies([cookie])
        page.reload()
        wait_for_app(page)
        page.get_by_role("heading", name=summary).wait_for(timeout=30_000)
        page.get_by_role("button", name="Log out").click()
        page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
        wait_for_app(page)
        page.wait_for_function("() => !document.cookie.includes('pmkit_session=')", timeout=30_000)
        page.reload()
        wait_for_app(page)
        page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
        assert page.get_by_role("heading", name=summary).count() == 0
        context.close()
    finally:
        server.stop()


def hosted(demo_workspace: Path, tmp_path: Path, secrets: str, port: int | None = None) -> Server:
    path = tmp_path / "secrets.toml"
    path.write_text(secrets)
    return Server(demo_workspace, env={"PMKIT_READ_ONLY": "1"}, args=[f"--secrets.files={path}"], port=port)


def oidc_server(demo_workspace: Path, tmp_path: Path, oidc_provider: str) -> Server:
    """Read-only, behind an OIDC login that admits ceo@example.com."""
    port = free_port()
    return hosted(
        demo_workspace,
        tmp_path,
        f"""
[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "a-test-cookie-secret-that-is-long-enough"
client_id = "pmkit"
client_secret = "pmkit-secret"
server_metadata_url = "{oidc_provider}/.well-known/openid-configuration"

[pmkit_auth]
allowed_emails = ["ceo@example.com"]
""",
        port=port,
    )


def oidc_log_in(page: object, oidc_provider: str, server: Server, email: str) -> None:
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{oidc_provider}/**")
    page.fill("input[name=sub]", email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{server.url}/**")
    wait_for_app(page)


def test_oidc_login_admits_an_allowed_user_and_refuses_others(
    browser: object, demo_workspace: Path, tmp_path: Path, oidc_provider: str
) -> None:
    server = oidc_server(demo_workspace, tmp_path, oidc_provider)
    try:
        for email, admitted in (("ceo@example.com", True), ("intruder@other.org", False)):
            context = browser.new_context()
            page = context.new_page()
            page.goto(server.url)
            wait_for_app(page)
            assert page.get_by_text("Executive summary").count() == 0  # nothing shown before login
            oidc_log_in(page, oidc_provider, server, email)
            assert_no_exception(page)
            if admitted:
                page.get_by_role("heading", name="Executive summary").wait_for(timeout=30_000)
                screenshot(page, "login-oidc-admitted")
            else:
                page.get_by_text("is not on this dashboard's allow-list").wait_for(timeout=30_000)
                assert page.get_by_role("heading", name="Executive summary").count() == 0
                screenshot(page, "login-oidc-refused")
            context.close()
    finally:
        server.stop()


def test_password_login_refuses_a_wrong_password_admits_the_right_one_and_logs_out(
    browser: object, demo_workspace: Path, tmp_path: Path
) -> None:
    server = password_server(demo_workspace, tmp_path)
    try:
        page = browser.new_page()
        page.goto(server.url)
        wait_for_app(page)
        assert page.get_by_role("heading", name="Executive summary").count() == 0
        sign_in(page, "ceo@example.com", "wrong password")
        page.get_by_text("Wrong user name or password.").wait_for(timeout=30_000)
        assert page.get_by_role("heading", name="Executive summary").count() == 0
        sign_in(page, "nobody@example.com", PASSWORD)
        page.get_by_text("Wrong user name or password.").wait_for(timeout=30_000)
        sign_in(page, "ceo@example.com", PASSWORD)
        page.get_by_role("heading", name="Executive summary").wait_for(timeout=30_000)
        assert_no_exception(page)
        assert page.get_by_role("link", name="Data", exact=True).count() == 0
        page.get_by_role("button", name="Log out").click()
        page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
        wait_for_app(page)
        page.get_by_role("heading", name="Executive summary").wait_for(state="detached", timeout=30_000)
        page.close()
    finally:
        server.stop()


CHART_CODE = ("PlotlyChart.", "embed.", "DataFrame.")  # the bundles of Plotly, Vega (sparklines) and tables


def test_the_sign_in_page_loads_the_chart_code_out_of_sight(
    browser: object, demo_workspace: Path, tmp_path: Path
) -> None:
    """While the password is typed, the browser loads the code that draws charts and tables, in
    a container nobody sees: after "Sign in", the summary's charts fetch no code."""
    server = password_server(demo_workspace, tmp_path)
    try:
        page = browser.new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(server.url)
        wait_for_app(page)
        hidden = page.locator(".st-key-pmkit-chart-code")
        for drawn in ("[data-testid='stPlotlyChart'] .main-svg", "svg.marks", "[data-testid='stDataFrame'] canvas"):
            hidden.locator(drawn).first.wait_for(state="attached", timeout=30_000)
        for element in ("stPlotlyChart", "stMetric", "stDataFrame"):
            assert page.locator(f"[data-testid='{element}']").count() == 1
            assert not page.locator(f"[data-testid='{element}']").is_visible()
        assert hidden.bounding_box()["height"] <= 1
        assert page.get_by_role("button", name="Sign in").is_visible()
        assert [name for name in CHART_CODE if any(name in url for url in requested)] == list(CHART_CODE)

        signed_in_at = len(requested)
        sign_in(page, "ceo@example.com", PASSWORD)
        page.get_by_role("heading", name="Executive summary").wait_for(timeout=30_000)
        wait_for_app(page)
        summary = page.locator("[data-testid='stMain']")
        # The summary's impact chart is Vega-Lite, drawn with the sparklines' code.
        for drawn in ("[data-testid='stVegaLiteChart'] svg.marks", "svg.marks", "[data-testid='stDataFrame'] canvas"):
            summary.locator(drawn).first.wait_for(timeout=30_000)
        assert page.locator(".st-key-pmkit-chart-code").count() == 0
        assert [url for url in requested[signed_in_at:] if any(name in url for name in CHART_CODE)] == []
        assert_no_exception(page)
        page.close()
    finally:
        server.stop()


def test_read_only_mode_without_a_login_configured_shows_no_data(
    browser: object, demo_workspace: Path, tmp_path: Path
) -> None:
    server = hosted(demo_workspace, tmp_path, "")
    try:
        page = browser.new_page()
        page.goto(server.url)
        wait_for_app(page)
        page.get_by_text("no login is configured").wait_for(timeout=30_000)
        assert page.get_by_role("heading", name="Executive summary").count() == 0
        page.close()
    finally:
        server.stop()


def test_a_link_to_a_page_leads_there_after_signing_in(browser: object, demo_workspace: Path, tmp_path: Path) -> None:
    """An executive who opens a shared link to the roadmap signs in and lands on the roadmap,
    with the link's date range, not on the summary."""
    server = password_server(demo_workspace, tmp_path)
    try:
        page = browser.new_page()
        page.goto(f"{server.url}/retention?range=7d")
        wait_for_app(page)
        assert page.get_by_role("heading", name="Retention").count() == 0
        # No "page not found" dialog over the sign-in form (QA saw it there, blocking the form).
        page.wait_for_timeout(2000)
        assert page.get_by_text("does not seem to exist").count() == 0
        assert "/retention" in page.url
        sign_in(page, "ceo@example.com", PASSWORD)
        page.get_by_role("heading", name="Retention", exact=True).wait_for(timeout=30_000)
        wait_for_app(page)
        assert_no_exception(page)
        assert "/retention" in page.url and "range=7d" in page.url
        page.close()
    finally:
        server.stop()


def parked(context: object) -> list[dict]:
    """The browser's parked-destination cookies (pmkit.ui.NEXT_PAGE_COOKIE)."""
    return [c for c in context.cookies() if c["name"] == "pmkit_next"]


def test_a_link_opened_before_an_oidc_login_leads_there_once(
    browser: object, demo_workspace: Path, tmp_path: Path, oidc_provider: str
) -> None:
    """The provider sends the viewer back to the app's root in a new session: the linked page
    (with its query) is parked in a cookie on the way out, followed once, then forgotten."""
    server = oidc_server(demo_workspace, tmp_path, oidc_provider)
    try:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{server.url}/kpis?metric=mau")
        wait_for_app(page)
        page.wait_for_timeout(2000)
        assert page.get_by_text("does not seem to exist").count() == 0  # no dialog over the sign-in page
        oidc_log_in(page, oidc_provider, server, "ceo@example.com")
        page.get_by_role("heading", name="KPI explorer").wait_for(timeout=30_000)
        wait_for_app(page)
        assert_no_exception(page)
        assert "/kpis" in page.url and "metric=mau" in page.url
        # Cleared once followed: by the page's component code, which runs in the browser after
        # the script has finished (CI at a14e1f2 looked once, before it had run).
        deadline = time.monotonic() + 15
        while parked(context) and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert not parked(context)
        again = context.new_page()  # signed in already: the app's root is the summary again
        again.goto(server.url)
        again.get_by_role("heading", name="Executive summary").wait_for(timeout=30_000)
        assert "/kpis" not in again.url
        context.close()
    finally:
        server.stop()


def test_a_lockout_behind_the_proxy_holds_for_the_guessers_address_only(
    browser: object, demo_workspace: Path, tmp_path: Path
) -> None:
    """Behind deploy/nginx.conf every viewer comes from the proxy, which names the viewer's own
    address in X-Forwarded-For (trusted from 127.0.0.1 only). Five wrong passwords locked the
    name for everyone; now for the guesser's address, and the executive still signs in."""
    server = password_server(demo_workspace, tmp_path)
    try:
        guesser = browser.new_context(extra_http_headers={"X-Forwarded-For": "203.0.113.5"})
        page = guesser.new_page()
        page.goto(server.url)
        wait_for_app(page)
        for _ in range(MAX_FAILURES):
            sign_in(page, "ceo@example.com", "guess")
            wait_for_app(page)
        sign_in(page, "ceo@example.com", PASSWORD)  # refused, from there
        page.get_by_text("Too many failed attempts").wait_for(timeout=30_000)
        assert page.get_by_role("heading", name="Executive summary").count() == 0
        executive = browser.new_context(extra_http_headers={"X-Forwarded-For": "198.51.100.7"})
        other = executive.new_page()
        other.goto(server.url)
        wait_for_app(other)
        sign_in(other, "ceo@example.com", PASSWORD)
        other.get_by_role("heading", name="Executive summary").wait_for(timeout=30_000)
        assert_no_exception(other)
        guesser.close()
        executive.close()
    finally:
        server.stop()


def test_an_oidc_log_out_ends_the_session_for_a_copy_of_its_cookie(
    browser: object, demo_workspace: Path, tmp_path: Path, oidc_provider: str
) -> None:
    """Streamlit's OIDC cookie is signed but kept by no server, for 30 days: after "Log out" a
    copy of it, opened in another browser, was still signed in (hosted QA)."""
    server = oidc_server(demo_workspace, tmp_path, oidc_provider)
    try:
        context = browser.new_context()
        page = context.new_page()
        page.goto(server.url)
        wait_for_app(page)
        oidc_log_in(page, oidc_provider, server, "ceo@example.com")
        page.get_by_role("heading", name="Executive summary").wait_for(timeout=30_000)
        copied = [c for c in context.cookies() if c["name"] == "_streamlit_user"]
        assert copied
        page.get_by_role("button", name="Log out").click()
        page.wait_for_timeout(2_000)
        context.close()
        thief = browser.new_context()
        thief.add_cookies(copied)
        stolen = thief.new_page()
        stolen.goto(f"{server.url}/roadmap")
        wait_for_app(stolen)
        assert_no_exception(stolen)
        stolen.get_by_role("button", name="Log in").wait_for(timeout=30_000)
        assert stolen.get_by_role("heading", name="Roadmap").count() == 0
        thief.close()
    finally:
        server.stop()


def test_an_open_tab_is_signed_out_by_a_log_out_elsewhere_or_a_removed_password(
    browser: object, demo_workspace: Path, tmp_path: Path
) -> None:
    """An open tab kept showing data after "Log out" in another tab of the same browser, and
    after its password was taken off the list, until it was reloaded (hosted QA). Each run of a
    page now checks the session again: the next click shows the sign-in form, and says why; the
    browser's cookie, which may hold a newer session by then, is left alone."""
    head = f'[pmkit_auth]\nsession_secret = "{"s" * 40}"\n\n[pmkit_auth.passwords]\n'
    server = hosted(demo_workspace, tmp_path, head + f'"ceo@example.com" = "{hash_password(PASSWORD)}"\n')
    summary = "Executive summary"
    try:
        context = browser.new_context()
        first = signed_in_page(context, server.url)
        session_cookie(context)
        second = context.new_page()  # a second tab, signed in by the cookie
        second.goto(f"{server.url}/kpis")
        wait_for_app(second)
        second.get_by_role("heading", name="KPI explorer").wait_for(timeout=30_000)
        old = session_cookie(context)["value"]
        first.get_by_role("button", name="Log out").click()
        first.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
        assert first.get_by_text("Your session has ended").count() == 0  # it logged out itself
        # Signed in again there: the browser's cookie now holds a new session.
        sign_in(first, "ceo@example.com", PASSWORD)
        first.get_by_role("heading", name=summary).wait_for(timeout=30_000)
        wait_for_app(first)
        deadline = time.monotonic() + 15
        while session_cookie(context)["value"] == old and time.monotonic() < deadline:
            time.sleep(0.1)
        assert session_cookie(context)["value"] != old
        # The next click in the second tab, inside the explorer's fragment (which reruns without
        # app.py; review).
        second.get_by_text("week", exact=True).click()
        # Well before the 30 s new-data check, which also signs an idle tab out.
        second.get_by_role("button", name="Sign in").wait_for(timeout=12_000)
        assert second.get_by_role("heading", name="KPI explorer").count() == 0
        # And says why, where it said only "Sign in to continue".
        assert second.get_by_text("Your session has ended: it was logged out").count() == 1
        # Signing the second tab out left the newer session's cookie alone (a first version
        # deleted it; review): a new tab is signed in by it.
        third = context.new_page()
        third.goto(server.url)
        wait_for_app(third)
        third.get_by_role("heading", name=summary).wait_for(timeout=30_000)
        third.close()
        # Then the password is taken off the list (the server reads the file).
        (tmp_path / "secrets.toml").write_text(head + f'"cfo@example.com" = "{hash_password(PASSWORD)}"\n')
        deadline, attempt = time.monotonic() + 30, 0
        while first.get_by_role("button", name="Sign in").count() == 0 and time.monotonic() < deadline:
            nav = first.get_by_test_id("stSidebarNavItems")
            nav.get_by_role("link", name="Roadmap" if attempt % 2 else "Objectives").click()  # till the list is read
            attempt += 1
            wait_for_app(first)
            time.sleep(1)
        assert first.get_by_role("button", name="Sign in").count() == 1
        assert (
            first.get_by_text(
                "Your session has ended: its password or the dashboard's sign-in settings changed"
            ).count()
            == 1
        )
        assert_no_exception(first)
        context.close()
    finally:
        server.stop()
