"""The one pmkit module that imports Streamlit: cached readers, shared widgets, the auth gate.

Pages call these and stay UI only. Cached results are keyed by the store version, so a new
ingest (here or in another process) shows up on the next rerun without a restart.

The global filters (date range, segment) live in the sidebar and in the URL: every widget that
shapes a view is bound to a query parameter named by its key (``range``, ``dates``, ``f_plan``,
``metric``, ...), so a copied link reproduces the view.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode, urlparse

# pandas is imported here, before any page runs, though pmkit does not use it. st.dataframe
# imports it on a server's first table; plotly's figure code reads sys.modules["pandas"] without
# importing it, so a chart built in one session while another session's thread was still
# importing pandas saw a half-built module and raised (AttributeError: partially initialized
# module 'pandas' has no attribute 'Series'). Imported with this module, it is complete before
# any session's script gets past `from pmkit import ui`.
import pandas  # noqa: F401
import plotly.graph_objects as go
import polars as pl
import streamlit as st
from streamlit.errors import StreamlitAPIException, StreamlitSecretNotFoundError
from streamlit.runtime.scriptrunner import get_script_run_ctx

from pmkit import auth, dashboard
from pmkit.charts import HEALTH_LABELS
from pmkit.config import Config, ConfigError, StoreUnreadable, load_config
from pmkit.dashboard import Facts, Scorecard, SurveyScore
from pmkit.definitions import DEFINITIONS
from pmkit.formatting import closed_bidi, format_date, format_days
from pmkit.ingest import FileResult, Progress, is_disk_full
from pmkit.ingest import inbox_entries as inbox_paths
from pmkit.metrics import Period, Segment
from pmkit.store import Store
from pmkit.workspace import UNSAFE_NAME

# Spreadsheet apps run cells starting with these as formulas: downloads prefix them with '.
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Markdown, Streamlit's directives (:red[...], :material/icon:), LaTeX ($...$) and HTML all start
# from ASCII punctuation; a backslash before each makes CommonMark show it as typed.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&])")
# Streamlit's markdown also links bare addresses (GFM autolinks: http://, https://, www., e-mail)
# found in the text after escapes are resolved, so no backslash stops them; an invisible word
# joiner inside each breaks the pattern and leaves the text as it reads.
AUTOLINK = re.compile(r"(://|@|(?i:\bwww)(?=\.))")
WORD_JOINER = "\u2060"
MATERIAL_ICON = re.compile(r"(:)(?=material/)", re.IGNORECASE)
# Bound widgets write their options' labels into the URL, so the options are short codes
# (?range=90d) and widgets that links point at have no format_func (?metric=activation).
RANGES = {"7d": 7, "28d": dashboard.DEFAULT_PERIOD_DAYS, "90d": 90, "6m": 182, "All": None, "Custom": None}
DEFAULT_RANGE = "28d"
SEGMENT_PREFIX = "f_"
HEALTH_BADGE_COLORS = {
    "achieved": "green",
    "on_track": "green",
    "done": "gray",
    "at_risk": "orange",
    "off_track": "red",
    "late": "red",
    "not_started": "gray",
    "no_data": "gray",
    "cancelled": "gray",
}
HEALTH_NAMES = {**HEALTH_LABELS, "achieved": "Achieved"}
PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


# --- text ---------------------------------------------------------------------------------------


def safe_text(text: object) -> str:
    """Text from files made inert for st.markdown, st.caption and widget labels: every markdown,
    HTML, LaTeX and Streamlit-directive character is backslash-escaped and line breaks become
    spaces, so the text shows exactly as typed and never becomes a link, an image or markup.

    >>> print(safe_text("**Dark** mode <b>x</b> [link](javascript:alert(1))"))
    \\*\\*Dark\\*\\* mode \\<b\\>x\\</b\\> \\[link\\]\\(javascript\\:alert\\(1\\)\\)
    >>> safe_text("https://x.example www.x.example a@x.example").count(WORD_JOINER)
    3

    Streamlit turns ``:material/name:`` into an icon after the escapes are read, so a word
    joiner breaks that too (a roadmap title drew a check mark; hosted QA); an override of the
    writing direction is closed at the end (``formatting.closed_bidi``).

    >>> safe_text(":material/check_circle: Approved").count(WORD_JOINER)
    1
    """
    value = closed_bidi("" if text is None else " ".join(str(text).split()))
    value = MATERIAL_ICON.sub(rf"\1{WORD_JOINER}", AUTOLINK.sub(rf"\1{WORD_JOINER}", value))
    return MARKDOWN_SPECIAL.sub(r"\\\1", value)


def health_label(health: str | None) -> str:
    return HEALTH_NAMES.get(health or "", "–")


def health_badge(health: str | None) -> str:
    """Markdown for a coloured badge of a health value (one of pmkit's own, never file text)."""
    if not health:
        return ":gray-badge[No items]"
    return f":{HEALTH_BADGE_COLORS.get(health, 'gray')}-badge[{health_label(health)}]"


# --- settings and cached reads -------------------------------------------------------------------


def _run_through_app() -> None:
    """Make a page opened by a deep link run through app.py.

    Streamlit keeps a "pages/ directory" mode (multipage apps v1) until st.navigation is first
    called in the server process. So on a fresh server, the first visitor opening /kpis runs
    pages/kpis.py alone: no app.py, hence no login gate, no page config, and a sidebar listing
    the files in pages/ (data.py too, in read-only mode). Every page starts with config(),
    which switches that mode off and reruns, so app.py and its st.navigation run. (app.py
    itself needs no rerun: its own st.navigation call switches the mode off.)

    AppTest starts every run in that mode (as a fresh process) and runs a switched-to page
    alone by design; a rerun there would only eat the clicks of the run, so it is left alone.
    """
    try:
        from streamlit import config as streamlit_config
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # Streamlit moved them: nothing to switch off
        return
    if streamlit_config.get_option("global.appTest"):
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


def config(*, from_app: bool = False) -> Config:
    """The workspace settings; a broken pmkit.toml stops the page with a clear message. Pages
    call it first (it makes a deep link run through app.py); app.py passes ``from_app=True``."""
    if not from_app:
        _run_through_app()
    try:
        return load_config()
    except ConfigError as exc:
        st.error(safe_text(exc))  # it quotes pmkit.toml's and the environment's values
        st.stop()
        raise


# --- the login gate -----------------------------------------------------------------------------

LOGIN_USER_KEY = "pmkit_user"  # session state: who logged in with a password


def _secrets() -> dict[str, Any]:
    """The app's secrets, or none when there is no secrets.toml."""
    try:
        return st.secrets.to_dict()
    except (FileNotFoundError, KeyError, OSError, StreamlitSecretNotFoundError):
        return {}


def signed_in(cfg: Config) -> bool:
    """May the viewer see the app? ``pmkit.auth`` decides (see deploy/README.md); when they may,
    the sidebar says who is signed in, with a way out.

    Local mode asks nobody unless a login is configured. Hosted (read-only) mode needs one: an
    OIDC login (st.login) whose e-mail is on the allow-list, or a user name and password from
    [pmkit_auth.passwords]; with nothing configured it shows no data (secure by default).
    ``anonymous = true`` switches the login off behind your own sign-on proxy.
    """
    settings = auth.auth_settings(_secrets())
    if not settings.configured:
        return not cfg.read_only
    if settings.anonymous:
        return True
    user = st.session_state.get(LOGIN_USER_KEY) or _restored_session(settings)
    if user and not _still_signed_in(settings, user):
        # Ended since this session signed in: a "Log out" in another tab, a password removed or
        # changed, 12 hours gone. An open tab kept showing data until it was reloaded (hosted QA).
        # The browser's cookie is left alone: it may already hold a newer session signed in in
        # another tab, and a stale one signs nobody in (``auth.session_user``; review).
        token = st.session_state.get(SESSION_CHECK_KEY)
        # The sign-in page says why: it had said only "Sign in to continue".
        st.session_state[SESSION_ENDED_KEY] = (
            auth.session_end(settings, token) if token else None
        ) or "its password or the dashboard's sign-in settings changed"
        for key in (LOGIN_USER_KEY, SESSION_TOKEN_KEY, SESSION_CHECK_KEY, SESSION_HASH_KEY):
            st.session_state.pop(key, None)
        user = None
    if user:
        with st.sidebar:
            _keep_session_cookie()
            st.caption(f"Signed in as {safe_text(user)}")
            if st.button("Log out", key="pmkit-logout"):
                del st.session_state[LOGIN_USER_KEY]
                st.session_state.pop(SESSION_CHECK_KEY, None)
                # Ended on the server too: a copy of the cookie no longer signs anyone in.
                auth.end_session(st.session_state.pop(SESSION_TOKEN_KEY, None))
                auth.end_session(st.context.cookies.get(auth.SESSION_COOKIE))
                # The cookie this connection was opened with still holds the session: never
                # read it again here, and have the sign-in page delete it in the browser.
                st.session_state[LOGGED_OUT_KEY] = True
                st.rerun()
        return True
    if email := _oidc_viewer(settings):
        with st.sidebar:
            st.caption(f"Signed in as {safe_text(email)}")
            st.button("Log out", key="pmkit-logout", on_click=_oidc_log_out)
        return True
    return False


def _oidc_signed_in(settings: auth.AuthSettings) -> bool:
    """Signed in with OIDC by a cookie no "Log out" ended (``auth.session_ended``)."""
    return bool(
        settings.oidc
        and st.user.get("is_logged_in")
        and not auth.session_ended(st.context.cookies.get(auth.OIDC_COOKIE))
    )


def _oidc_viewer(settings: auth.AuthSettings) -> str | None:
    """The e-mail of an OIDC sign-in that may see data: not ended, and on the allow-list."""
    email = str(st.user.get("email") or "")
    verified = st.user.get("email_verified", True)  # a provider that does not say is taken at its word
    return email if _oidc_signed_in(settings) and settings.email_allowed(email, verified) else None


def _oidc_log_out() -> None:
    # Ended on the server too: st.logout deletes the browser's cookie, not a copy of it.
    auth.end_session(st.context.cookies.get(auth.OIDC_COOKIE), lasts=auth.OIDC_COOKIE_SECONDS)
    st.logout()


# A password sign-in survives a reload through a signed cookie (pmkit.auth.issue_session),
# written by the browser from a JavaScript-only component: Streamlit scripts cannot set cookies.
# The token is data, never HTML. SameSite=Strict, and Secure when the page is served over HTTPS.
SESSION_TOKEN_KEY = "pmkit-session-token"  # session state: the token to keep in the cookie
SESSION_CHECK_KEY = "pmkit-session-check"  # session state: the token checked on every run
SESSION_HASH_KEY = "pmkit-session-hash"  # session state: the password hash signed in with (no token)
SESSION_ENDED_KEY = "pmkit-session-ended"  # session state: why this tab's session ended, for the sign-in page
_COOKIE_READ_KEY = "pmkit-cookie-read"  # session state: the cookie's end was looked at


def session_holds() -> bool:
    """Whether this session may still see data, without drawing anything: what ``signed_in``
    decides, checked again where ``app.py`` does not run (a fragment's rerun)."""
    settings = auth.auth_settings(_secrets())
    if not settings.configured or settings.anonymous:
        return True
    user = st.session_state.get(LOGIN_USER_KEY)
    if user:
        return _still_signed_in(settings, user)
    return bool(_oidc_viewer(settings))


def fragment(function: Callable[..., Any] | None = None, **options: Any) -> Any:
    """``st.fragment`` that first checks the session still holds (``session_holds``), else
    reruns the whole app, whose sign-in gate takes over: a click inside a fragment reran only
    it, and kept querying after "Log out", a password change or the session's end (review)."""

    def decorate(inner: Callable[..., Any]) -> Any:
        @functools.wraps(inner)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not session_holds():
                st.rerun(scope="app")
            return inner(*args, **kwargs)

        return st.fragment(checked, **options)

    return decorate(function) if function is not None else decorate


def _still_signed_in(settings: auth.AuthSettings, user: str) -> bool:
    """Whether the password session ``user`` signed in with still holds, checked on every run:
    its token (ended by a "Log out" anywhere, expired, or signed under a password hash since
    changed or removed), or without a session secret (no token) the password hash itself."""
    token = st.session_state.get(SESSION_CHECK_KEY)
    if token:
        return auth.session_user(settings, token) == user
    return user in settings.passwords and settings.passwords.get(user) == st.session_state.get(SESSION_HASH_KEY)


LOGGED_OUT_KEY = "pmkit-logged-out"  # session state: this session logged out (ignore the cookie)
_SESSION_JS = """
export default function(component) {
    const data = component.data || {};
    const secure = window.location.protocol === "https:" ? "; secure" : "";
    const value = data.value ? encodeURIComponent(data.value) : "";
    document.cookie = data.name + "=" + value + "; path=/; max-age=" + data.seconds + "; samesite=strict" + secure;
}
"""
_session_cookie = st.components.v2.component("pmkit_session", js=_SESSION_JS)


def _restored_session(settings: auth.AuthSettings) -> str | None:
    """The user of a valid session cookie (after a reload), once per session, unless this
    session logged out."""
    if st.session_state.get(LOGGED_OUT_KEY):
        return None
    token = st.context.cookies.get(auth.SESSION_COOKIE)
    user = auth.session_user(settings, token)
    if user:
        st.session_state[LOGIN_USER_KEY] = user
        st.session_state[SESSION_CHECK_KEY] = token
    elif _COOKIE_READ_KEY not in st.session_state and (why := auth.session_end(settings, token)):
        st.session_state[SESSION_ENDED_KEY] = why  # a reload with a cookie that no longer holds
    st.session_state[_COOKIE_READ_KEY] = True  # said once, not on every run of the sign-in page
    return user


def _keep_session_cookie() -> None:
    """Write the token of a sign-in made in this session into the browser's cookie."""
    token = st.session_state.get(SESSION_TOKEN_KEY)
    if token:
        _write_session_cookie(token, auth.SESSION_SECONDS)


def _forget_session_cookie() -> None:
    if st.session_state.get(LOGGED_OUT_KEY):
        _write_session_cookie(None, 0)  # max-age 0: the browser deletes it


def _write_session_cookie(token: str | None, seconds: int) -> None:
    data = {"name": auth.SESSION_COOKIE, "value": token, "seconds": seconds}
    _session_cookie(data=data, key="pmkit-session-cookie")


def follow_new_data(cfg: Config) -> None:
    """Rerun the page when an ingest (here or on another host) publishes a new store version, so
    a dashboard left open shows new data without a click or a restart. Checking is a read of
    store/CURRENT every ``app.new_data_check_seconds`` (30 s by default, at least 1 s); nothing
    is recomputed unless the version changed."""
    seen = store_version(cfg)

    # Checked as every fragment is: a tab left open is signed out within this time too.
    @fragment(run_every=max(1.0, float(cfg.get("app.new_data_check_seconds"))))
    def _check() -> None:
        # What the page shows: moved on by the page's own load (read_newest), whose results
        # stay on screen, where the version the run started with would rerun it at once.
        shown = st.session_state.get(SHOWN_VERSION_KEY, seen)
        if Store(cfg.store_dir).current_version() != shown:
            st.rerun(scope="app")

    _check()


NEXT_PAGE_KEY = "pmkit-next-page"
# An OIDC login leaves the app for the provider and comes back to "/" in a new session, so the
# page a link named is parked in a short-lived cookie of the viewer's browser (the session state
# does not survive the trip). Its value is JSON, written and read as data, never as HTML.
NEXT_PAGE_COOKIE = "pmkit_next"
NEXT_PAGE_COOKIE_USED = "pmkit-next-cookie-used"
_PARK_JS = """
export default function(component) {
    const value = component.data && component.data.value;
    document.cookie = value
        ? "pmkit_next=" + encodeURIComponent(value) + "; path=/; max-age=900; samesite=lax"
        : "pmkit_next=; path=/; max-age=0; samesite=lax";
}
"""
_park = st.components.v2.component("pmkit_next_page", js=_PARK_JS)
_PAGE_NAME = re.compile(r"[a-z0-9_-]{1,64}")


def _remember_destination() -> None:
    """A viewer who opened a link to a page (``/objectives?range=7d``) before signing in is taken
    there afterwards (``go_to_destination``). Only the last path segment is kept, and only ever
    used to pick one of the app's own pages by name."""
    if NEXT_PAGE_KEY in st.session_state:
        return
    path = urlparse(st.context.url or "").path.rstrip("/").rsplit("/", 1)[-1]
    query = {key: st.query_params.get_all(key) for key in st.query_params}
    st.session_state[NEXT_PAGE_KEY] = (path, query)


def _park_destination() -> None:
    """Keep the link's page in a cookie for the way back from the OIDC provider."""
    path, query = st.session_state.get(NEXT_PAGE_KEY) or ("", {})
    if path or query:
        _park(data={"value": json.dumps({"path": path, "query": query})}, key="pmkit-park-next")


def _parked_destination() -> tuple[str, dict[str, list[str]]] | None:
    """The page parked before an OIDC login, read once per session (and then cleared); None
    when there is none, or it is not a page name with text parameters (a cookie is the browser's
    to change)."""
    raw = st.context.cookies.get(NEXT_PAGE_COOKIE)
    if not isinstance(raw, str) or not raw or NEXT_PAGE_COOKIE_USED in st.session_state:
        return None
    st.session_state[NEXT_PAGE_COOKIE_USED] = "clear"
    try:
        parked = json.loads(unquote(raw))
        path, query = parked["path"], parked["query"]
    except (ValueError, KeyError, TypeError):
        return None
    valid_query = isinstance(query, dict) and all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v) for k, v in query.items()
    )
    if not isinstance(path, str) or not (path == "" or _PAGE_NAME.fullmatch(path)) or not valid_query:
        return None
    return path, query


def _clear_parked_destination() -> None:
    if st.session_state.get(NEXT_PAGE_COOKIE_USED) == "clear":
        _park(data={"value": None}, key="pmkit-park-next")
        st.session_state[NEXT_PAGE_COOKIE_USED] = "cleared"


def go_to_destination(pages: Sequence[Any]) -> None:
    """After sign-in, switch to the page the viewer's link named (kept by the sign-in page, or
    parked in a cookie across an OIDC login), with its query parameters; nothing when there was
    none or it names no page of ``pages``. A parked cookie is cleared once read (after a switch,
    on the page it leads to)."""
    _clear_parked_destination()
    wanted = st.session_state.pop(NEXT_PAGE_KEY, None) or _parked_destination()
    if wanted:
        path, query = wanted
        for page in pages:
            if path and page.url_path == path:
                st.switch_page(page, query_params=query)
    _clear_parked_destination()


NO_DATA_PAGE = (
    "This dashboard is read-only: loading files and the Data page are on the copy of pmkit that publishes "
    "to it. Pick a page in the sidebar."
)


def no_data_page() -> None:
    """What /data shows in read-only mode (app.py): no Data page, and why."""
    st.title("Data")
    st.info(NO_DATA_PAGE, icon=":material/lock:")


def sign_in_page() -> None:
    """The only page a viewer who is not signed in gets (app.py routes to it)."""
    _remember_destination()
    cfg = config(from_app=True)
    settings = auth.auth_settings(_secrets())
    st.title("pmkit")
    if not settings.configured:
        st.error(
            "This hosted pmkit shows no data because no login is configured. Add an [auth] section "
            "(any OIDC provider) or [pmkit_auth.passwords] to .streamlit/secrets.toml (see deploy/README.md), "
            "or anonymous = true under [pmkit_auth] when your own sign-on proxy guards it."
        )
        return
    email = str(st.user.get("email") or "")
    if _oidc_signed_in(settings):
        if auth.unverified(st.user.get("email_verified", True)):
            why = "is not verified by the sign-in provider: verify it there, then sign in again."
        else:
            why = "is not on this dashboard's allow-list. Ask its owner to add you."
        st.error(f"{safe_text(email or 'This account')} {why}")
        st.button("Log out", on_click=_oidc_log_out)
        return
    st.caption("Product KPIs and roadmap health" + (" (read-only)" if cfg.read_only else "") + ". Sign in to continue.")
    if ended := st.session_state.pop(SESSION_ENDED_KEY, None):
        st.info(f"Your session has ended: {ended}. Sign in again.", icon=":material/lock_clock:")
    if settings.oidc:
        _park_destination()
        st.button("Log in", type="primary", on_click=st.login, help="With your company account")
    if settings.passwords:
        _forget_session_cookie()
        with st.form("pmkit-login"):
            user = st.text_input("E-mail or user name", key="login-user")
            password = st.text_input("Password", type="password", key="login-password")
            submitted = st.form_submit_button("Sign in")
        if submitted:
            # The connection's address: behind deploy/nginx.conf the viewer's, from X-Forwarded-For,
            # which the server (uvicorn) takes from 127.0.0.1 only, so no client elsewhere can
            # write it; behind a proxy on another host, the proxy's for every viewer.
            check = auth.check_password(settings, user or "", password or "", client=st.context.ip_address)
            if check.ok:
                name = (user or "").strip().lower()
                st.session_state[LOGIN_USER_KEY] = name
                st.session_state[SESSION_TOKEN_KEY] = auth.issue_session(settings, name)
                st.session_state[SESSION_CHECK_KEY] = st.session_state[SESSION_TOKEN_KEY]
                st.session_state[SESSION_HASH_KEY] = settings.passwords.get(name)
                st.session_state.pop(LOGGED_OUT_KEY, None)
                st.rerun()
            st.error(check.message)
        load_chart_code()  # while the password is typed (an OIDC log-in leaves the page at once)


# The sign-in page's container for loading the chart code, hidden by this CSS (pmkit's own text).
# Laid out but invisible (not display: none, where a sparkline is never drawn, so its code is
# never loaded), taking no room, and out of the accessibility tree.
CHART_CODE_KEY = "pmkit-chart-code"
CHART_CODE_CSS = f".st-key-{CHART_CODE_KEY} {{ position: absolute; visibility: hidden; width: 400px; height: 1px; overflow: hidden; }}"


def load_chart_code() -> None:
    """Have the browser load the code that draws Plotly charts, sparklines and tables while the
    viewer types their password, so that the summary after "Sign in" only has to draw. Each kind
    has its own bundle, fetched and run on first use; Plotly's (4.7 MB) alone kept the browser
    busy for about a second after the summary's script had finished (bench/README.md)."""
    st.html(f"<style>{CHART_CODE_CSS}</style>")
    with st.container(key=CHART_CODE_KEY):
        st.plotly_chart(go.Figure(), config={"staticPlot": True}, key=f"{CHART_CODE_KEY}-plotly")
        st.metric("chart code", 0, chart_data=[0, 0], label_visibility="collapsed")
        st.dataframe(pl.DataFrame({"chart code": [0]}), key=f"{CHART_CODE_KEY}-table")


# Session state during one run of app.py: the store version every result of the run reads.
RUN_VERSION_KEY = "pmkit-run-version"
# Session state kept between runs: the version the page on screen shows (follow_new_data).
SHOWN_VERSION_KEY = "pmkit-shown-version"
NEW_DATA_NOTICE = "New data was published since this page was drawn: it now shows the new numbers."
_SHOWN_MARK_KEY = "pmkit-shown-mark"  # session state: (version, _data_mark) of the shown version
# What changes with the data a version holds: the files loaded (a rejected or repeated file is
# only logged) and the settings the rollups follow (a rebuild after a pmkit.toml change).
_DATA_MARK = (
    "SELECT (SELECT count(*) FROM loaded_files) AS files, (SELECT max(loaded_at) FROM loaded_files) AS last, "
    "(SELECT string_agg(key || '=' || value, ';' ORDER BY key) FROM meta) AS settings"
)


def _data_mark(cfg: Config, version: int) -> tuple[Any, ...] | None:
    """``_DATA_MARK`` of ``version`` (None without one, or when it cannot be read: the page says so)."""
    if not version:
        return None
    try:
        return _cached_frame(str(cfg.store_dir), version, _DATA_MARK, ()).row(0)
    except Exception:  # noqa: BLE001 - the page's own read reports an unreadable store
        return None


@contextlib.contextmanager
def one_version(cfg: Config) -> Iterator[None]:
    """Every result and query of the page run inside reads the store version published as it
    starts. Each read the current version afresh, so a page run straddling an ingest or a
    publish mixed two versions (the cards of one, the tables of the next) until the next rerun.
    A fragment's own rerun (not inside) reads the version the page shows (``store_version``)."""
    shown, marked = st.session_state.get(SHOWN_VERSION_KEY), st.session_state.get(_SHOWN_MARK_KEY)
    _read_current(cfg)
    now = st.session_state[SHOWN_VERSION_KEY]
    if not marked or marked[0] != now:
        st.session_state[_SHOWN_MARK_KEY] = (now, _data_mark(cfg, now))
    # An ingest elsewhere (the CLI, the inbox, another host's publish) changed the numbers of a
    # page left open without a word; the page's own load moves on in ``read_newest``. Not the
    # first data of an empty workspace (version 0: the first start's demo), nor a version that
    # only logged a rejected or repeated file (it is published for the Data page's log).
    if isinstance(shown, int) and shown and shown != now:
        before = marked[1] if marked and marked[0] == shown else None
        if before is None or before != st.session_state[_SHOWN_MARK_KEY][1]:
            st.toast(NEW_DATA_NOTICE, icon=":material/update:")
    try:
        yield
    finally:
        st.session_state.pop(RUN_VERSION_KEY, None)


def read_newest(cfg: Config) -> None:
    """From here on, this run reads the current version: after an ingest made by the page itself,
    which is then not new data to rerun the page for (its results would vanish)."""
    if RUN_VERSION_KEY in st.session_state:
        _read_current(cfg)


def _read_current(cfg: Config) -> None:
    """This run reads, and the page shows, the version published now."""
    st.session_state[RUN_VERSION_KEY] = st.session_state[SHOWN_VERSION_KEY] = Store(cfg.store_dir).current_version()


def store_version(cfg: Config) -> int:
    """The version this page run reads (``one_version``); in a fragment's own rerun, the version
    the rest of the page shows; else the current one."""
    pinned = st.session_state.get(RUN_VERSION_KEY)
    if not isinstance(pinned, int) and _in_fragment_rerun():
        # A control of the KPI explorer (say) reran its fragment alone: it read the current
        # version, and showed an ingest's numbers under the page's older ones until the new-data
        # check reran the page. Read as the page does; that check moves them on together.
        pinned = st.session_state.get(SHOWN_VERSION_KEY)
        if isinstance(pinned, int) and pinned and not Store(cfg.store_dir).version_path(pinned).exists():
            # Gone (KEEP_VERSIONS newer ones were published since): the fragment would read the
            # current one under the page's older numbers and dates. The whole page moves on.
            st.rerun(scope="app")
    return pinned if isinstance(pinned, int) else Store(cfg.store_dir).current_version()


def _in_fragment_rerun() -> bool:
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


# Not st.cache_data: the server imports this module (with app.py) before Streamlit's runtime
# exists, and that decorator then logs "No runtime found" on every start. Polars frames are
# immutable and the key holds the store version, so sessions can share one object.
@functools.lru_cache(maxsize=64)
def _cached_frame(store_root: str, version: int, sql: str, params: tuple[tuple[str, Any], ...]) -> pl.DataFrame:
    with Store(Path(store_root)).reader(version) as reader:
        return reader.frame(sql, **dict(params))


def frame(cfg: Config, sql: str, **params: Any) -> pl.DataFrame:
    """A query result cached per store version (``sql`` is pmkit's own text, never user text).
    A store that cannot be read stops the page with the message and the fix."""
    try:
        return _cached_frame(str(cfg.store_dir), store_version(cfg), sql, tuple(sorted(params.items())))
    except StoreUnreadable as exc:
        st.error(_for_viewer(cfg, exc))
        st.stop()
        raise


# One per server process: every session reads through it (see dashboard.PageCache).
_page_cache = dashboard.PageCache()


# What a slow computation says while it runs (the default: "Computing…").
COMPUTING = {
    "scorecards": "Measuring each objective's metric…",
    "objective_health": "Checking each objective against its target…",
    "objective_detail": "Measuring the objective and its shipped items…",
    "impact_results": "Estimating the impact of shipped items…",
    "funnel": "Following users through the funnel…",
    "funnels": "Following users through the funnel…",
    "features_adoption": "Counting feature adoption…",
    "weekly_retention": "Building retention cohorts…",
    "explore": "Computing the metric…",
}
_warmed: set[tuple[str, int, str]] = set()
_warmed_guard = threading.Lock()


@contextlib.asynccontextmanager
async def serving(_app: Any) -> AsyncIterator[None]:
    """The server's life (app.py's ``st.App``): as it starts, compute the executive summary's
    opening results in the background (``warm_up``) while the browser loads Streamlit's page
    (about a second), and open the browser as ``streamlit run`` does for a plain script when not
    headless (for an ``st.App`` it does not). The first viewer's summary then reads them from
    the cache (bench/README.md, "Warming the summary as the server starts")."""
    _warm_at_start()
    _open_browser()
    yield


def _warm_at_start() -> None:
    try:
        cfg = load_config()
    except ConfigError:
        return  # the first page says what is wrong with pmkit.toml
    if Store(cfg.store_dir).current_version():  # an empty workspace builds the demo on its first page
        warm_up(cfg)


def _open_browser() -> None:
    """The address ``streamlit run`` opens for a plain script (streamlit.web.bootstrap)."""
    from streamlit import cli_util
    from streamlit import config as streamlit_config
    from streamlit.web.server import server_address_is_unix_socket, server_util

    if streamlit_config.get_option("server.headless"):
        return
    if streamlit_config.is_manually_set("browser.serverAddress"):
        address = streamlit_config.get_option("browser.serverAddress")
    elif streamlit_config.is_manually_set("server.address"):
        if server_address_is_unix_socket():
            return
        address = server_util.get_display_address(streamlit_config.get_option("server.address"))
    else:
        address = "localhost"
    cli_util.open_browser(server_util.get_url(address))


def warm_up(cfg: Config) -> threading.Thread | None:
    """Once per store version and settings in this server process, compute the executive
    summary's opening results in a background thread (``dashboard.warm_summary``): the first
    viewer after a start or an ingest then reads them from the cache instead of waiting.
    Returns the thread it started (None when this version is already warm)."""
    # The current version, not store_version: called as the server starts, outside any session.
    key = (str(cfg.data_dir), Store(cfg.store_dir).current_version(), dashboard.settings_key(cfg))
    with _warmed_guard:
        if key in _warmed:
            return None
        _warmed.add(key)
    thread = threading.Thread(target=_warm, args=(cfg,), name="pmkit-warm-up", daemon=True)
    thread.start()
    return thread


def _warm(cfg: Config) -> None:
    try:
        dashboard.warm_summary(_page_cache, cfg)
    except StoreUnreadable as exc:  # the first page says so, with the fix
        logging.getLogger("pmkit").warning("warming the summary's results failed: %s", exc)
    except Exception:  # noqa: BLE001 - a warm-up must never take the server down; pages compute anyway
        logging.getLogger("pmkit").warning("warming the summary's results failed", exc_info=True)


class _DemoBuild:
    """The first-start demo build of one workspace, run by a thread of its own and followed by
    every page run that opens while it lasts."""

    def __init__(self) -> None:
        self.message = "Building the demo workspace (first start only)…"
        self.fraction = 0.0
        self.error: BaseException | None = None
        self.done = threading.Event()

    def report(self, message: str, fraction: float) -> None:
        self.message, self.fraction = message, fraction


_demo_builds: dict[Path, _DemoBuild] = {}
_demo_builds_guard = threading.Lock()


def first_start_demo(cfg: Config) -> Config:
    """On the first start of an empty workspace, build the demo there, showing its progress, and
    return the workspace's config. The build runs in a thread of its own: in the page's script,
    a click elsewhere while it ran (Streamlit stops the script for the next page) stopped the
    build half way, leaving its files in the inbox and a workspace no longer "empty", so it was
    never finished. Every page run in the meantime follows the same build."""
    from pmkit.workspace import ensure_demo, is_empty

    with _demo_builds_guard:
        build = _demo_builds.get(cfg.data_dir)
        if build is None:
            if not is_empty(cfg):
                return cfg
            build = _demo_builds[cfg.data_dir] = _DemoBuild()

            def run() -> None:
                try:
                    ensure_demo(cfg, progress=build.report)
                except BaseException as exc:  # noqa: BLE001 - shown by each page run that follows it
                    logging.getLogger("pmkit").warning("building the demo workspace failed", exc_info=True)
                    build.error = exc
                finally:
                    with _demo_builds_guard:
                        _demo_builds.pop(cfg.data_dir, None)
                    build.done.set()

            threading.Thread(target=run, name="pmkit-demo", daemon=True).start()
    if not build.done.is_set():
        bar = st.progress(build.fraction, text=safe_text(build.message))
        while not build.done.wait(0.25):
            bar.progress(build.fraction, text=safe_text(build.message))
        bar.empty()
    if build.error is not None:
        st.error(safe_text(f"The demo workspace could not be built: {build.error}"))
        st.stop()
    return load_config(cfg.data_dir)


def compute(cfg: Config, name: str, **kwargs: Any) -> Any:
    """``dashboard.PAGE_MODELS[name](reader, cfg, **kwargs)`` on the store version this page run
    reads (``store_version``), cached until the next ingest or settings change. A problem with the input (an unknown
    metric, a bad segment) is shown with st.error and gives None."""
    version = store_version(cfg)
    try:
        if _page_cache.has(cfg, name, at_version=version, **kwargs):
            return _page_cache.compute(cfg, name, at_version=version, **kwargs)
        # Streamlit shows the spinner only once the computation has taken half a second.
        with st.spinner(COMPUTING.get(name, "Computing…"), show_time=True):
            return _page_cache.compute(cfg, name, at_version=version, **kwargs)
    except (ValueError, KeyError) as exc:
        # Shown as typed: a message may quote a metric's name, an event or a segment's value.
        st.error(_for_viewer(cfg, exc))
        return None


STORE_UNREADABLE_FOR_VIEWERS = (
    "The dashboard's data cannot be read right now: whoever runs it needs to restore it (the server's log says "
    "what is wrong)."
)


def _for_viewer(cfg: Config, problem: Exception) -> str:
    """A problem's message for this page, as text. A store that cannot be read is named with its
    paths, DuckDB's words and the fix for whoever runs pmkit; in read-only mode the viewer, who
    can do nothing about it, is told so in plain words and the full message goes to the log."""
    if isinstance(problem, StoreUnreadable) and cfg.read_only:
        logging.getLogger("pmkit").error("%s", problem)
        return STORE_UNREADABLE_FOR_VIEWERS
    return safe_text(problem.args[0] if problem.args else problem)


def facts(cfg: Config) -> Facts:
    """The workspace's facts; a store that cannot be read stops the page with what compute said."""
    result = compute(cfg, "facts")
    if result is None:
        st.stop()
    if result.rebuild_pending:
        fix = (
            "They follow it once whoever runs this dashboard loads the data again."
            if cfg.read_only
            else "Run `python -m pmkit ingest`, or rebuild them on the Data page (the next file loaded rebuilds them too)."
        )
        st.warning(
            safe_text(
                f"pmkit.toml: {result.rebuild_pending}, but the numbers shown are still counted as before it "
                f"({result.timezone} days). "
            )
            + fix
        )
    return result


def definition_problems(cfg: Config) -> None:
    """Say which [metrics.*] tables of pmkit.toml cannot be used (the built-ins still work), and
    which events it names that no loaded event has: a typo there showed 0 with no word."""
    _, problems = dashboard.definitions_of(cfg)
    if problems:
        st.warning(
            "pmkit.toml: some custom metrics cannot be used:\n\n" + "\n\n".join(f"- {safe_text(p)}" for p in problems)
        )
    unknown = dashboard.events_not_loaded(cfg, compute(cfg, "event_names") or [])
    if unknown:
        st.warning(
            "pmkit.toml names events that are not loaded, so what they count is 0 (check the spelling; names "
            "match exactly):\n\n" + "\n\n".join(f"- {safe_text(m)}" for m in unknown)
        )


# --- global filters (sidebar, kept in the URL) -----------------------------------------------------


@contextlib.contextmanager
def _app_wide() -> Iterator[None]:
    """Draw the sidebar's global filters as app.py's own widgets, not the page's.

    Streamlit ties a widget bound to the URL to the script that drew it. As the page's, a click in
    the sidebar's navigation took the range and the segment out of the URL (a history entry of
    the old page without them) and the carry-over put them back (an entry per filter), so Back
    walked through those entries and, the URL winning on Back, showed 28d on a page left at 90d.
    As app.py's, the browser keeps them in the URL the next page opens with (one entry per
    click), and Back returns to the page left with its filters.
    """
    ctx = get_script_run_ctx()
    run_with_hash = getattr(ctx, "run_with_active_hash", None)
    main_hash = getattr(getattr(ctx, "pages_manager", None), "main_script_hash", "")
    if run_with_hash is None or not main_hash:  # Streamlit moved them: drawn as the page's
        yield
        return
    with run_with_hash(main_hash):
        yield


def period_picker(cfg: Config, facts: Facts | None = None, *, with_answers: bool = False) -> Period | None:
    """The global date range: presets or custom dates, ending on the last loaded day; None when
    no events are loaded. Kept in the URL as ``range`` (and ``dates`` for custom). ``with_answers``
    (the Voice of customer page): custom dates may reach the survey answers' days too, and with
    no events the presets end on the last answer's day, so a workspace of answers alone, or
    answers beyond the events' days, can be seen (the page said none were loaded). With events,
    the presets end on the last event day as on every other page: "last 28 days" is the same 28
    days on the summary and here."""
    facts = facts or compute(cfg, "facts")
    if facts is None:
        return None
    days = [facts.first_day, facts.last_day] if facts.has_events else []
    if with_answers and facts.answers_first_day is not None and facts.answers_last_day is not None:
        answered = [facts.answers_first_day, facts.answers_last_day]
        low, high = min([*days, *answered]), max([*days, *answered])
        days = days or answered
    elif days:
        low, high = days
    else:
        return None
    first, last = days
    carried = _carry_over() | _from_page_before()
    unknown_in_link("range", RANGES, "date range")
    with _app_wide(), st.sidebar:
        choice = st.segmented_control(
            "Date range",
            list(RANGES),
            default=DEFAULT_RANGE,
            required=True,
            key="range",
            bind="query-params",
            persist_state="session",
            help="Every page compares this range with the range of equal length just before it.",
        )
        days = RANGES.get(choice or DEFAULT_RANGE)
        outside = None
        if choice == "Custom":
            # The widget drops dates outside the loaded days from the URL without a word, and
            # text that is not a date too.
            asked = st.query_params.get_all("dates")
            outside = _dates_outside(asked, low, high)
            # Dates running past the loaded days are cut to them: the widget drops them and takes
            # its default, so the cut dates are the default (20-28 Nov with data to 24 Nov showed
            # the last 28 days instead of 20-24 Nov).
            clipped = _clipped(asked, low, high)
            default = tuple(clipped) if clipped is not None else (max(first, last - dt.timedelta(days=27)), last)
            if asked and not _are_dates(asked):
                outside = f"{' – '.join(asked)}, which are not dates (write them as 2026-03-01)"
            picked = st.date_input(
                "From – to",
                value=default,
                min_value=low,
                max_value=high,
                key="dates",
                bind="query-params",
                persist_state="session",
                format="YYYY-MM-DD",
            )
            dates = [d for d in (picked if isinstance(picked, Sequence) else [picked]) if d]
            period = Period(min(dates), max(dates)) if dates else Period(max(first, last - dt.timedelta(days=27)), last)
        elif days is None:
            period = Period(first, last)
        else:
            period = Period(max(first, last - dt.timedelta(days=days - 1)), last)
        st.caption(
            f"{format_date(period.start)} – {format_date(period.end)} ({format_days(period.days)}), "
            f"vs the {format_days(period.days)} before."
        )
    if outside:
        showing = f"showing {format_date(period.start)} – {format_date(period.end)} instead."
        loaded = f"{format_date(low)} – {format_date(high)}"
        if "not dates" in outside:
            text = f"The link asked for {outside}: {showing}"
        elif choice == "Custom" and _clipped(asked, low, high) is not None:
            whose = "The range from the page before" if "dates" in carried else "The link asked for"
            text = f"{whose} {outside}; the loaded days are {loaded}: {showing}"
        elif "dates" in carried:
            # Custom dates beyond the events' days, picked on Voice of customer and carried here
            # by the sidebar's navigation: no link asked for them.
            text = f"The range from the page before, {outside}, is outside this page's days ({loaded}): {showing}"
        else:
            text = f"The link asked for {outside}, outside the loaded days ({loaded}): {showing}"
        st.warning(safe_text(text))
    return period


def _clipped(asked: Sequence[str], first: dt.date, last: dt.date) -> list[dt.date] | None:
    """The URL's custom dates cut to first..last when they run past it but overlap it; None
    when they lie within it, wholly outside it, or are not dates.

    >>> _clipped(["2026-11-20", "2026-11-28"], dt.date(2026, 10, 19), dt.date(2026, 11, 24))
    [datetime.date(2026, 11, 20), datetime.date(2026, 11, 24)]
    >>> _clipped(["2026-01-01", "2026-02-01"], dt.date(2026, 10, 19), dt.date(2026, 11, 24)) is None
    True
    """
    try:
        days = [dt.date.fromisoformat(text) for text in asked]
    except ValueError:
        return None
    if len(days) != 2 or max(days) < first or min(days) > last or all(first <= day <= last for day in days):
        return None  # the date widget takes two dates at most (three raised on every page; review)
    return [min(max(day, first), last) for day in days]


def _are_dates(texts: Sequence[str]) -> bool:
    """Whether every text is an ISO date (``2026-03-01``)."""
    try:
        for text in texts:
            dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _dates_outside(asked: Sequence[str], first: dt.date, last: dt.date) -> str | None:
    """The URL's custom dates in words when one lies outside first..last (None when all are in,
    or when they are not dates: the widget's own default applies then).

    >>> _dates_outside(["2026-01-01", "2026-02-01"], dt.date(2026, 5, 30), dt.date(2026, 11, 27))
    '1 Jan 2026 – 1 Feb 2026'
    >>> _dates_outside(["2026-06-01"], dt.date(2026, 5, 30), dt.date(2026, 11, 27)) is None
    True
    """
    try:
        days = [dt.date.fromisoformat(text) for text in asked]
    except ValueError:
        return None
    if not days or all(first <= day <= last for day in days):
        return None
    return " – ".join(format_date(day) for day in days)


def segment_picker(
    cfg: Config,
    facts: Facts | None = None,
    *,
    applies: bool = True,
    unused: str = "This page shows every user: objectives and their targets are for the whole product.",
) -> Segment:
    """Filters on event dimensions (plan, country, ...), one multiselect each, kept in the URL as
    ``f_<dimension>``. ``applies=False`` shows them disabled, saying this page ignores them."""
    facts = facts or compute(cfg, "facts")
    dimensions = facts.dimensions if facts is not None else ()
    # A link's filter on a column no loaded event has was dropped without a word (QA).
    unknown = sorted(
        {key.removeprefix(SEGMENT_PREFIX) for key in st.query_params if key.startswith(SEGMENT_PREFIX)}
        - set(dimensions)
    )
    if unknown:
        st.sidebar.warning(
            safe_text(
                # "The link" blamed a link never followed: the filter came from a page before,
                # and clearing the demo took its column away (review).
                f"The segment filters on {', '.join(unknown)}, which no loaded event has as a column: "
                f"{'that filter is' if len(unknown) == 1 else 'those filters are'} not applied."
            )
        )
    if not dimensions:
        return Segment()
    chosen: list[tuple[str, str]] = []
    # A segment that came with a link is in the URL before its widget has run. On Back and
    # Forward the URL alone: the widgets take its values, not the session's (the sidebar said
    # "Segment (filtered)" over empty filters).
    active = any(
        (not _history_navigation() and st.session_state.get(f"{SEGMENT_PREFIX}{d}"))
        or st.query_params.get_all(f"{SEGMENT_PREFIX}{d}")
        for d in dimensions
    )
    with _app_wide(), st.sidebar.expander("Segment" + (" (filtered)" if active else ""), expanded=active):
        if not applies:
            st.caption(unused)  # what the page shows instead
        for dimension in dimensions:
            values = compute(cfg, "dimension_values", dimension=dimension) or []
            # A link's value beyond the listed ones (the 200 most common) was dropped from the URL
            # without a word, and the page showed every user: offered when some event has it,
            # else said to match none.
            asked = [v for v in st.query_params.get_all(f"{SEGMENT_PREFIX}{dimension}") if v not in values]
            if asked:
                present = compute(cfg, "dimension_values_present", dimension=dimension, values=tuple(asked)) or []
                values = [*values, *present]
                missing = [v for v in asked if v not in present]
                if missing:
                    st.warning(
                        safe_text(
                            f"The segment filters {dimension} on {', '.join(missing)}, which no event has: "
                            "that filter is not applied."
                        )
                    )
            if not values:  # nothing to pick (only free text longer than a filter value)
                continue
            picked = st.multiselect(
                safe_text(dimension.replace("_", " ").capitalize()),
                values,
                key=f"{SEGMENT_PREFIX}{dimension}",
                bind="query-params",
                persist_state="session",
                placeholder="All",
                disabled=not applies,
            )
            chosen.extend((dimension, str(value)) for value in picked)
    return Segment(filters=tuple(chosen)) if applies else Segment()


# A filter that came with a link (``?range=7d``) went back to its default on the next page while
# a clicked one was kept, and a filter still applied dropped out of the next page's URL
# (Streamlit 1.67's bound widgets read the URL, not the session state they persisted).
_CARRIED = "_pmkit_carried"


def _history_navigation() -> bool:
    """Whether this run is the browser's Back or Forward (Streamlit 1.67: the URL wins)."""
    return bool(getattr(get_script_run_ctx(), "is_history_navigation", False))


def _carry_over() -> frozenset[str]:
    """On a page opened without the filters in its URL (from a page that does not draw them,
    such as Data): put the session's filters (``global_query_params``) back in the URL the
    widgets are bound to, and run the page again so the widgets read them. A filter this page's
    URL names wins (a link opened now), and on Back or Forward the URL alone. Returns the keys
    carried over, on the run after the carry-over."""
    if _CARRIED in st.session_state:
        return frozenset(st.session_state.pop(_CARRIED))  # the run after the carry-over: never loop
    if _history_navigation():
        return frozenset()  # Back or Forward: the entry's URL is what the page showed there
    missing = {key: value for key, value in global_query_params().items() if key not in st.query_params}
    carried = list(missing)
    try:
        if missing:  # in one change of the URL: one history entry, not one per filter
            st.query_params.update(missing)
    except StreamlitAPIException:
        # Bound to a widget already drawn on this page: a rerun of the same page, whose
        # widgets hold the value (the URL the server last saw may lag behind them).
        carried = []
    if carried:
        st.session_state[_CARRIED] = carried
        st.rerun()
    return frozenset()


def _from_page_before() -> frozenset[str]:
    """The filters of this page's URL that hold the session's values from before this run: the
    page before's, which the browser carries in the URL of a click in the sidebar's navigation
    (``_app_wide``), not a link's."""
    return frozenset(
        key
        for key, value in global_query_params().items()
        if st.query_params.get_all(key) == (value if isinstance(value, list) else [value])
    )


def segment_text(segment: Segment) -> str:
    """ "plan is pro or team; country is DE", or "all users"."""
    if not segment.filters:
        return "all users"
    return "; ".join(f"{d} is {' or '.join(v)}" for d, v in segment.filters_by_dimension().items())


def breakdown_picker(facts: Facts, key: str = "by", label: str = "Break down by") -> str | None:
    """A dimension to split results by (or none), kept in the URL as ``by=plan``. A dimension
    named like a column of the results (``value``, ``step``, ``users``) is not offered: picking it
    replaced the page's charts with an error (QA); the help names it, and filters on it work."""
    from pmkit.metrics import BREAKDOWN_CLASHES

    offered = [d for d in facts.dimensions if d not in BREAKDOWN_CLASHES]
    left = [d for d in facts.dimensions if d in BREAKDOWN_CLASHES]
    unknown_in_link(key, offered, "breakdown", shown="no breakdown")
    note = (
        f"Not offered: {', '.join(left)} (a column of the results has that name; filter on "
        f"{'it' if len(left) == 1 else 'them'} in the sidebar instead)."
        if left
        else None
    )
    return st.selectbox(
        label,
        offered,
        index=None,
        placeholder="Nothing",
        key=key,
        bind="query-params",
        help=safe_text(note) if note else None,
    )


def carried_segment() -> Segment:
    """The sidebar's segment a link to another page carries (``global_query_params``)."""
    filters = [
        (key.removeprefix(SEGMENT_PREFIX), value)
        for key, values in global_query_params().items()
        if key.startswith(SEGMENT_PREFIX)
        for value in values
    ]
    return Segment(filters=tuple(filters))


def unknown_in_link(
    param: str, choices: Iterable[str] | Mapping[str, str], what: str, *, multi: bool = False, shown: str = ""
) -> None:
    """Say which of a link's values for ``param`` are not among its widget's ``choices`` (keys,
    or keys and labels): Streamlit drops them from the URL without a word and shows the default,
    so ``grain=year`` or an event no file has looked like a link that worked (QA). Said on the
    page's first run, where the link's values are; ``shown`` names what is shown instead."""
    if param in st.session_state:
        return
    offered = set(choices) | (set(choices.values()) if isinstance(choices, Mapping) else set())
    unknown = [value for value in dict.fromkeys(st.query_params.get_all(param)) if value not in offered]
    if not unknown:
        return
    listed = ", ".join(f"'{value}'" for value in unknown)
    verb = "value {} is" if len(unknown) == 1 else "values {} are"
    instead = "left out" if multi else f"showing {shown or 'the default'} instead"
    st.warning(safe_text(f"The link's {what} {verb.format(listed)} not offered here: {instead}."))


def number_in_link(param: str, low: int, high: int, what: str, *, shown: str) -> None:
    """Say when a link's whole number for ``param`` is not one its number input takes (``low`` to
    ``high``): Streamlit drops it from the URL without a word and shows the default, as it does
    for options (``unknown_in_link``); ``window=0`` and ``window=500`` were dropped so (QA)."""
    if param in st.session_state:
        return
    for value in st.query_params.get_all(param)[:1]:
        if value.isascii() and value.isdigit() and low <= int(value) <= high:  # "²" is a digit to isdigit
            continue
        st.warning(
            safe_text(f"The link's {what} '{value}' is not offered here ({low} to {high}): showing {shown} instead.")
        )


def options_from_url(
    param: str, labels: Mapping[str, str], what: str, *, multi: bool = False, most: int | None = None
) -> None:
    """Let a link name a bound widget's options by key (``compare=same_period_last_year``), as
    its other parameters do. Streamlit seeds a widget with a ``format_func`` from the labels it
    shows (the URL it writes holds them), so a key was dropped without a word and the default
    shown (QA). Call before the widget: on its first run, keys in the URL pick their options
    (the first ``most`` of them: the page says which it leaves out). The URL keeps the keys, so a
    reload or a copied link shows the same (setting the widget's value instead dropped them).
    Values that are neither are said (``unknown_in_link``, ``what`` naming the option)."""
    values = st.query_params.get_all(param)
    if param in st.session_state or not values or all(value in labels.values() for value in values):
        return
    unknown_in_link(param, labels, what, multi=multi)
    named = [labels.get(value, value) for value in values]
    if _seed_as(param, named):
        return
    by_label = {label: key for key, label in labels.items()}
    chosen = [key for key in dict.fromkeys(v if v in labels else by_label.get(v) for v in values) if key is not None]
    if chosen:  # Streamlit's seeding moved: the view is right, the URL loses the keys
        st.session_state[param] = chosen[:most] if multi else chosen[0]


def _seed_as(param: str, values: list[str]) -> bool:
    """Have Streamlit seed ``param``'s widget from ``values``, as if the URL held them: it reads
    the URL of the page's first run (``QueryParams._initial_query_params``), which a page cannot
    set. False where that is not there (another Streamlit)."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return False
    try:
        with ctx.session_state.query_params() as params:
            initial = params._initial_query_params  # noqa: SLF001 - see the docstring
            if param not in initial:
                return False
            initial[param] = list(values)
            return True
    except (AttributeError, TypeError):
        return False


def global_query_params() -> dict[str, Any]:
    """The sidebar filters as query parameters, to carry them over in a link to another page."""
    params: dict[str, Any] = {}
    if st.session_state.get("range") not in (None, DEFAULT_RANGE):
        params["range"] = st.session_state["range"]
    dates = st.session_state.get("dates")
    if params.get("range") == "Custom" and isinstance(dates, Sequence) and len(dates) == 2:
        params["dates"] = [d.isoformat() for d in dates]
    for key, value in st.session_state.items():
        if str(key).startswith(SEGMENT_PREFIX) and value:
            params[str(key)] = [str(v) for v in value]
    return params


# --- output ---------------------------------------------------------------------------------------


def chart(figure: go.Figure | dict[str, Any], *, compared_to: str, source: str, key: str | None = None) -> None:
    """A chart across the page (a Plotly figure, or a Vega-Lite spec from ``pmkit.charts``), with
    what it is compared to and where its numbers come from underneath."""
    if isinstance(figure, go.Figure):
        st.plotly_chart(figure, width="stretch", config=PLOTLY_CONFIG, key=key)
    else:
        st.vega_lite_chart(spec=figure, width="stretch", key=key)
    st.caption(f"**Compared to:** {safe_text(compared_to)}  \n{safe_text(source)}")


def delta_style(change: float | None, lower_is_better: bool = False) -> dict[str, str]:
    """``st.metric``'s delta colour and arrow: none for a change of exactly 0 ("+$0 (from 0)"
    came with a green up arrow), red for a rise of a metric meant to fall."""
    if change is not None and abs(change) < 1e-12:
        return {"delta_color": "off", "delta_arrow": "off"}
    return {"delta_color": "inverse" if lower_is_better else "normal", "delta_arrow": "auto"}


def scorecard(card: Scorecard, *, link: bool = False) -> None:
    """A metric card: value, change against the previous period, a sparkline; for an
    objective's metric its goal, outcome health and delivery health."""
    delta = card.change_text if card.change is not None else None
    help_text = card.note or None
    with st.container(border=True):
        st.metric(
            safe_text(card.label),
            card.value_text,
            delta=delta,
            **delta_style(card.change, card.lower_is_better),
            delta_description=f"vs prior {card.period.days}d" if delta else None,
            chart_data=[v for v in card.spark if v is not None] or None,
            chart_type="line",
            help=help_text,
            border=False,
        )
        if card.objective_id:
            st.markdown(f"{health_badge(card.status)} **Goal:** {safe_text(card.goal_text)}")
            st.caption(safe_text(card.reason))
        if link:
            # The card is of every user; the explorer keeps the sidebar's segment (a link there
            # showed other numbers than the card without a word).
            carried = carried_segment()
            label = "Open in KPI explorer" + (f" (segment: {segment_text(carried)})" if carried.filters else "")
            kpi_link(card.key, card.objective_id, label=label)


def survey_card(survey: SurveyScore | None, *, period_days: int, filtered: bool = False) -> None:
    """NPS (or CSAT) with its change and the number of answers behind it; ``filtered``: of the
    answers a segment's filters leave."""
    name = "NPS" if survey is None or survey.scale == "nps" else "CSAT"
    with st.container(border=True):
        if survey is None or survey.value is None:
            where = "this segment and date range" if filtered else "this date range"
            st.metric(name, "–", help=f"No survey answers in {where}.", border=False)
            st.caption(f"No answers in {where}.")
            return
        st.metric(
            name,
            survey.value_text,
            delta=survey.change_text if survey.base is not None else None,
            delta_description=f"vs prior {period_days}d" if survey.base is not None else None,
            chart_data=[v for v in survey.trend if v is not None] or None,
            chart_type="line",
            border=False,
        )
        st.caption(
            f"{survey.responses:,} answer{'s' if survey.responses != 1 else ''} "
            f"(previous period: {survey.base_responses:,})" + (f". {survey.note}" if survey.note else "")
        )


def readable(data: pl.DataFrame) -> pl.DataFrame:
    """Health codes as words (off_track -> Off track) and lists as "a; b", for tables."""
    return data.with_columns(
        *(pl.col(c).replace(HEALTH_NAMES) for c, t in data.schema.items() if c.endswith("health") and t == pl.String),
        *(
            pl.col(c).list.eval(pl.element().cast(pl.String)).list.join("; ")
            for c, t in data.schema.items()
            if isinstance(t, pl.List)
        ),
    )


def _column_config(data: pl.DataFrame, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """Readable dates ("26 Nov 2026") unless the page configured the column itself."""
    config: dict[str, Any] = {}
    for column, dtype in data.schema.items():
        if dtype == pl.Date:
            config[column] = st.column_config.DateColumn(column, format="D MMM YYYY")
        elif isinstance(dtype, pl.Datetime):
            config[column] = st.column_config.DatetimeColumn(column, format="D MMM YYYY, HH:mm")
        elif dtype.is_integer():
            config[column] = st.column_config.NumberColumn(column, format="localized")
    merged = {**config}
    for column, setting in (given or {}).items():
        if isinstance(setting, str) and column in config:
            merged[column] = {**config[column], "label": setting}
        else:
            merged[column] = setting
    return merged


def table(
    data: pl.DataFrame | None, name: str, *, column_config: Mapping[str, Any] | None = None, **kwargs: Any
) -> None:
    """A table with a CSV download (formula-looking cells escaped). Cells are shown as plain
    text by st.dataframe, never as markup; health codes read as words, dates as 26 Nov 2026."""
    if data is None:
        return
    data = readable(data)
    # An empty text cell shows empty, not as a grey "None" (a Jira item with no owner).
    shown = data.with_columns(pl.col(pl.String).fill_null(""))
    st.dataframe(shown, hide_index=True, column_config=_column_config(data, column_config), **kwargs)
    if data.height:
        # ``name`` can hold an objective id from a file: its label was markup (hosted QA).
        st.download_button(
            safe_text(f"Download {name} as CSV"),
            csv_bytes(data),
            file_name=download_name(name),
            mime="text/csv",
            key=f"dl-{name}",
        )


def download_name(name: str) -> str:
    """A downloaded table's file name: ``name``'s letters, digits, dots, dashes and underscores,
    any other run as one ``_``, no dot or ``_`` at either end, at most 120 characters; never a
    path (an objective id ``../../etc/passwd`` was the name the browser was given)."""
    return (UNSAFE_NAME.sub("_", name).strip("._")[:120] or "table") + ".csv"


def csv_bytes(table: pl.DataFrame) -> bytes:
    flat = table.with_columns(
        pl.col(c).list.eval(pl.element().cast(pl.String)).list.join("; ")
        for c, t in table.schema.items()
        if isinstance(t, pl.List)
    )
    # A native expression, not a Python function per cell: Polars running Python callbacks from
    # many sessions' threads at once deadlocked the server under ten concurrent viewers.
    formula = "^[" + "".join(re.escape(c) for c in CSV_FORMULA_PREFIXES) + "]"
    safe = flat.with_columns(
        pl.when(pl.col(c).str.contains(formula)).then("'" + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c, t in flat.schema.items()
        if t == pl.String
    )
    return safe.write_csv().encode("utf-8")


def definition(*keys: str) -> None:
    """The metrics' definitions in words, under an expander."""
    with st.expander("How these numbers are defined"):
        for key in keys:
            st.caption(DEFINITIONS[key])


def empty(message: str) -> None:
    st.info(message, icon=":material/info:")


def no_events(cfg: Config, *, stop: bool = True) -> None:
    """Stop a page that needs events, saying how to load some (``stop=False``: say it only)."""
    where = (
        "Ask whoever runs this dashboard to load some."
        if cfg.read_only
        else "Upload exports on the Data page, or drop them into the inbox."
    )
    st.info(f"No events are loaded yet. {where}", icon=":material/inbox:")
    if not cfg.read_only:
        st.page_link("pages/data.py", label="Go to the Data page", icon=":material/upload:")
    if stop:
        st.stop()


def kpi_query(metric: str, objective: str | None = None) -> dict[str, Any]:
    params = {**global_query_params(), "metric": metric}
    if objective:
        params["objective"] = objective
    return params


def kpi_link(metric: str, objective: str | None = None, *, label: str | None = None) -> None:
    """A link to the KPI explorer showing ``metric`` (with ``objective``'s target path), keeping
    the sidebar filters."""
    st.page_link(
        "pages/kpis.py",
        label=safe_text(label or f"Open {metric} in the KPI explorer"),
        icon=":material/query_stats:",
        query_params=kpi_query(metric, objective),
    )


def kpi_url(metric: str | None, objective: str | None = None) -> str | None:
    """A relative URL of the KPI explorer for a table's link column (None without a metric)."""
    if not metric:
        return None
    return "kpis?" + urlencode(kpi_query(metric, objective), doseq=True)


def with_kpi_links(items: pl.DataFrame, metric: str = "linked_metric", objective: str = "objective_id") -> pl.DataFrame:
    """``items`` with a ``kpi`` column: the KPI explorer URL of each row's metric (for a
    st.column_config.LinkColumn), keeping the sidebar filters."""
    links = [kpi_url(m, o) for m, o in items.select(metric, objective).iter_rows()]
    return items.with_columns(pl.Series("kpi", links, dtype=pl.String))


def inbox_entries(cfg: Config) -> list[str]:
    """What the inbox holds, by name: files, and folders as ``name/`` (the ingest names them
    and leaves them there, so they are listed too; they were left out)."""
    return [f"{p.name}/" if p.is_dir() and not p.is_symlink() else p.name for p in inbox_paths(cfg)]


@contextlib.contextmanager
def progress_bar(text: str) -> Iterator[Progress]:
    """A progress bar for the block, fed by the ``progress`` callback it yields (pmkit.ingest's
    ``(message, fraction)``), and removed when the block ends. Messages name files, so they are
    shown as text, never as markup."""
    bar = st.progress(0.0, text=safe_text(text))

    def report(message: str, fraction: float) -> None:
        bar.progress(fraction, text=safe_text(message))

    try:
        yield report
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        # Said in words, not as Streamlit's bare error box (lifecycle QA). A load the disk stopped
        # publishes nothing; filing files away after a publish may meet it too (review).
        st.error(DISK_FULL_TEXT)
        st.stop()
    finally:
        bar.empty()


DISK_FULL_TEXT = (
    "The disk holding the workspace is full: free some space and load again. What a load could not finish "
    "was not published; the page shows what is loaded once opened again."
)


def show_result(result: FileResult) -> None:
    """One file's ingest result: success, duplicate, or every problem as text (never HTML)."""
    if result.status == "loaded":
        # Loaded, but events dated after today, a replaced roadmap snapshot, items it leaves off
        # the roadmap or columns left out of the dimensions change what every page shows: a
        # warning, not a green tick.
        if (
            result.rows_future
            or result.rows_replaced
            or result.items_gone
            or result.dimensions_dropped
            or result.metrics_unknown
        ):
            st.warning(safe_text(result.summary()))
        else:
            st.success(safe_text(result.summary()))
        if result.mapping:
            st.caption("Columns: " + safe_text(", ".join(f"{k} ← {v}" for k, v in result.mapping.items())))
        if result.errors:
            st.warning("\n\n".join(safe_text(m) for m in result.messages()))
    elif result.status == "duplicate":
        st.info(safe_text(result.summary()))
    elif result.left_in_inbox:  # waiting, not refused: a red "rejected" over a file left there (QA)
        st.warning(safe_text(result.summary()) + "\n\n" + "\n\n".join(safe_text(m) for m in result.messages()))
    else:
        st.error(safe_text(result.summary()) + "\n\n" + "\n\n".join(safe_text(m) for m in result.messages()))


def demo_banner(cfg: Config) -> None:
    if cfg.demo:
        st.info("You are looking at generated **demo data** (a fictional B2B SaaS product).", icon=":material/science:")
