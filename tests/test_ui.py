"""pmkit.ui, the one Streamlit adapter: the import rules around it, text and CSV escaping, and the
cached reads that pick up a new ingest without a restart."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from pmkit import ui

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module a file imports (import x.y -> x; from x.y import z -> x)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_ui_imports_streamlit():
    """pmkit works without a Streamlit server: ui.py is the one adapter (STYLE.md rule 2)."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "pmkit").rglob("*.py"))
        if path.name != "ui.py" and "streamlit" in imported_modules(path)
    ]
    assert offenders == []
    assert "streamlit" in imported_modules(ROOT / "pmkit" / "ui.py")


def test_pages_and_app_import_only_streamlit_and_pmkit():
    """Pages are UI only: widgets, a call into pmkit, output (STYLE.md rule 1)."""
    files = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
    found = {str(path.relative_to(ROOT)): imported_modules(path) - {"__future__"} for path in files}
    assert {name: mods - {"streamlit", "pmkit"} for name, mods in found.items() if mods - {"streamlit", "pmkit"}} == {}
    assert len(files) == 10  # app.py and the nine pages


# --- text ---------------------------------------------------------------------------------------------

MARKUP = [
    "**bold** _em_ ~~strike~~ `code`",
    "<b>html</b> <script>alert(1)</script> &lt;",
    "[link](javascript:alert(1)) ![img](http://tracker/x.png)",
    ":red[colour] :material/home: :smile:",
    "$x^2$ \\(latex\\)",
    "# heading\n- list\n> quote\n1. item",
    "http://example.com www.example.com",
]
UNESCAPED = re.compile(r"(?<!\\)[*_~`<>\[\]()!:$#&]")


@pytest.mark.parametrize("text", MARKUP)
def test_safe_text_escapes_every_markup_character(text):
    escaped = ui.safe_text(text)
    unescaped = [m.group() for m in UNESCAPED.finditer(escaped.replace("\\\\", ""))]
    assert unescaped == [], escaped
    assert "\n" not in escaped  # no block structure (headings, lists, quotes) from a cell
    # Shown exactly as typed; the invisible word joiners only break bare addresses' autolinks.
    assert re.sub(r"\\(.)", r"\1", escaped).replace(ui.WORD_JOINER, "") == " ".join(text.split())


def test_safe_text_breaks_every_bare_address_streamlit_would_link():
    """GFM links http://, https://, www. and e-mail addresses in text after its escapes are
    resolved (a file name's address became a live link): each gets a joiner inside its pattern."""
    autolink = re.compile(r"(https?://|www\.)[-.\w]+|[-.\w+]+@[-\w]+(\.[-\w]+)+", re.IGNORECASE)
    text = "see https://phish.example/login, http://a.b WWW.shop.example or pm@corp.example now"
    escaped = re.sub(r"\\(.)", r"\1", ui.safe_text(text))
    assert autolink.findall(text) and not autolink.search(escaped)
    assert escaped.replace(ui.WORD_JOINER, "") == text


def test_safe_text_of_nothing_is_empty():
    assert ui.safe_text(None) == ""
    assert ui.safe_text(12) == "12"


def test_health_badges_use_pmkit_words():
    assert ui.health_badge("off_track") == ":red-badge[Off track]"
    assert ui.health_badge("achieved") == ":green-badge[Achieved]"
    assert ui.health_badge(None) == ":gray-badge[No items]"


# --- tables and CSV -------------------------------------------------------------------------------------


def test_csv_cells_that_look_like_formulas_are_escaped():
    table = pl.DataFrame(
        {
            "text": ["=1+2", "+31 6", "-x", "@SUM(A1)", "\tq", "plain", None],
            "number": [-1, 2, 3, 4, 5, 6, 7],
        }
    )
    lines = ui.csv_bytes(table).decode().splitlines()
    assert lines[1:] == ["'=1+2,-1", "'+31 6,2", "'-x,3", "'@SUM(A1),4", "'\tq,5", "plain,6", ",7"]


def table_with_a_hostile_name_script() -> None:
    import polars as pl

    from pmkit import ui

    ui.table(pl.DataFrame({"a": [1]}), "items_$x^2$ **b** :red[r] ../../etc/passwd")


def test_a_tables_download_names_a_name_from_a_file_as_typed_and_as_no_path():
    """An objective id made the Objectives page's download labels markup (LaTeX, bold, a red
    :red[] directive) and was the downloaded file's name, "../" and all (hosted QA)."""
    at = AppTest.from_function(table_with_a_hostile_name_script).run()
    (button,) = at.get("download_button")
    assert button.proto.label == ui.safe_text("Download items_$x^2$ **b** :red[r] ../../etc/passwd as CSV")
    assert ui.download_name("items_$x^2$ **b** :red[r] ../../etc/passwd") == "items__x_2_b_red_r_.._.._etc_passwd.csv"
    assert ui.download_name("../..") == "table.csv"
    assert len(ui.download_name("x" * 500)) == 124


def test_csv_flattens_lists_and_escapes_their_items_too():
    table = pl.DataFrame({"confounders": [["=evil()", "b"], []]})
    assert ui.csv_bytes(table).decode().splitlines()[1:] == ["'=evil(); b", '""']  # an empty cell, quoted


def test_readable_tables_say_health_in_words():
    table = pl.DataFrame(
        {"health": ["off_track", "done", None], "declared_health": ["on_track", None, None], "other": ["off_track"] * 3}
    )
    shown = ui.readable(table)
    assert shown["health"].to_list() == ["Off track", "Done", None]
    assert shown["declared_health"].to_list() == ["On track", None, None]
    assert shown["other"].to_list() == ["off_track"] * 3


# --- the server's start --------------------------------------------------------------------------------

# In a fresh interpreter, as `streamlit run app.py` does before it listens: import app.py, then run
# the lifespan its st.App was given, with the browser's opener recording instead of opening.
SERVING = """
import asyncio, json, sys, threading
sys.path.insert(0, sys.argv[1])
import streamlit as st
from streamlit import cli_util, config

opened = []
cli_util.open_browser = opened.append
config.set_option("server.headless", sys.argv[2] == "headless")
if sys.argv[2] == "address":
    config.set_option("server.address", "127.0.0.1")
import app
from pmkit import ui


async def start():
    async with ui.serving(app.app):
        pass


asyncio.run(start())
started = len(ui._warmed)  # warm-ups started (their thread may have ended already)
for thread in threading.enumerate():
    if thread.name == "pmkit-warm-up":
        thread.join()
from pmkit import dashboard
from pmkit.config import load_config

cfg = load_config()
warm = ui._page_cache.has(cfg, "facts")
if warm:
    facts = ui._page_cache.compute(cfg, "facts")
    requests = dashboard.summary_requests(facts, dashboard.default_period(facts))
    warm = all(ui._page_cache.has(cfg, name, **kwargs) for name, kwargs in requests)
print(json.dumps({
    "served": isinstance(app.app, st.App),
    "ran_the_script": hasattr(app, "cfg") or hasattr(app, "navigation"),
    "imported": all(name in sys.modules for name in ("pmkit.ui", "pandas", "polars", "duckdb")),
    "warm_ups": started,
    "summary_computed": warm,
    "opened": opened,
}))
"""


@pytest.mark.parametrize("mode", ["headless", "browser", "address", "empty"])
def test_the_server_imports_pmkit_and_computes_the_summary_as_it_starts(mode, tmp_path):
    """`streamlit run app.py` serves app.py's st.App: importing it (before the server listens)
    imports pmkit and its libraries, so the first viewer's page does not wait for them; it runs
    no page script, and it computes the summary's opening results in the background, so the
    first viewer reads them from the cache (an empty workspace builds the demo on its first
    page instead); the browser opens unless headless."""
    import json
    import os
    import subprocess
    import sys

    from tests.known_workspace import build_known_workspace

    data = tmp_path / "ws"
    if mode == "empty":
        data.mkdir()
    else:
        build_known_workspace(data)
    done = subprocess.run(
        [sys.executable, "-c", SERVING, str(ROOT), "headless" if mode == "empty" else mode],
        env=dict(os.environ, PMKIT_DATA=str(data)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ScriptRunContext" not in done.stderr + done.stdout  # no session state read outside a run
    start = json.loads(done.stdout.strip().splitlines()[-1])
    assert start["served"] and start["imported"] and not start["ran_the_script"]
    assert start["warm_ups"] == (0 if mode == "empty" else 1)
    assert start["summary_computed"] is (mode != "empty")
    if mode == "empty":
        assert not (data / "store").exists()  # nothing built before the first page says so
        return
    # The address `streamlit run` opens for a plain script: localhost, or the one it was told.
    opened = {"headless": [], "browser": ["http://localhost:"], "address": ["http://127.0.0.1:"]}[mode]
    assert [url[: len(prefix)] for url, prefix in zip(start["opened"], opened, strict=True)] == opened


# --- in a running script -----------------------------------------------------------------------------


def cache_script() -> None:
    import streamlit as st

    from pmkit import ui

    cfg = ui.config()
    facts = ui.facts(cfg)
    st.text(f"events={facts.events}")
    st.text(f"missing={ui.compute(cfg, 'explore', key='nope', period=None)}")


def test_a_new_ingest_shows_without_a_restart(workspace, monkeypatch):
    """Results are cached per store version: the next rerun after an ingest reads the new one."""
    workspace.configure()
    workspace.load_events([("2026-03-01T10:00Z", "u1", "login")])
    monkeypatch.setenv("PMKIT_DATA", str(workspace.root))
    at = AppTest.from_function(cache_script).run()
    assert not at.exception
    assert at.text[0].value == "events=1"
    at.run()
    assert at.text[0].value == "events=1"
    workspace.load_events([("2026-03-02T10:00Z", "u2", "login"), ("2026-03-02T11:00Z", "u2", "share")])
    at.run()
    assert at.text[0].value == "events=3"


def shown_version_script() -> None:
    import streamlit as st

    from pmkit import ui

    cfg = ui.config()
    with ui.one_version(cfg):
        st.text(f"events={ui.facts(cfg).events}")


def test_an_open_page_says_when_it_moves_to_newly_published_data(workspace, monkeypatch, tmp_path):
    """An ingest from the CLI or the inbox changed an open page's numbers at its next run (or
    the 30 s check) without a word. The run that moves to a new version says so, once; the
    first run of a session and the runs after it say nothing. (In a browser:
    tests/browser/test_data_page.py, with the Data page's own load, which says nothing.)"""
    workspace.configure()
    monkeypatch.setenv("PMKIT_DATA", str(workspace.root))
    at = AppTest.from_function(shown_version_script).run()
    assert not at.exception
    # The first data of an empty workspace (the first start's demo) is no news to announce.
    workspace.load_events([("2026-03-01T10:00Z", "u1", "login")])
    at.run()
    assert at.text[0].value == "events=1"
    assert [t.value for t in at.toast] == []
    workspace.load_events([("2026-03-02T10:00Z", "u2", "login")])
    at.run()
    assert at.text[0].value == "events=2"
    assert [t.value for t in at.toast] == [ui.NEW_DATA_NOTICE]
    at.run()
    assert [t.value for t in at.toast] == []
    # A rejected file and a repeated one each publish a version for the Data page's log, with
    # the same data: no notice.
    bad = tmp_path / "bad.csv"
    bad.write_text("event_time,user_id,event\n2026-02-30T10:00:00Z,u1,login\n")
    from pmkit.ingest import ingest
    from pmkit.store import Store

    seen = Store(workspace.config.store_dir).current_version()
    assert [r.status for r in ingest([bad], workspace.config)] == ["rejected"]
    assert Store(workspace.config.store_dir).current_version() == seen + 1
    at.run()
    assert at.text[0].value == "events=2"
    assert [t.value for t in at.toast] == []


def one_version_script(extra: str) -> None:
    from pathlib import Path

    import streamlit as st

    from pmkit import ui
    from pmkit.ingest import ingest

    cfg = ui.config()
    with ui.one_version(cfg):
        st.text(f"first={ui.facts(cfg).events}")
        ingest([Path(extra)], cfg)  # another process publishing while the page runs
        st.text(f"later={ui.facts(cfg).events}, files={ui.compute(cfg, 'loaded_files').height}")
        st.text(f"query={ui.frame(cfg, 'SELECT count(*) AS n FROM events')['n'][0]}")
    st.text(f"next={ui.facts(cfg).events}")


def test_a_page_run_reads_one_store_version_while_another_is_published(workspace, monkeypatch, tmp_path):
    """Every result read the current version afresh: a page run straddling an ingest showed the
    first version's cards beside the next version's tables. Inside ui.one_version (app.py's whole
    run) the version published as the run started is read throughout; after it, the new one."""
    workspace.configure()
    workspace.load_events([("2026-03-01T10:00Z", "u1", "login")])
    extra = tmp_path / "more.csv"
    extra.write_text("event_time,user_id,event\n2026-03-02T10:00:00Z,u2,login\n2026-03-02T11:00:00Z,u2,share\n")
    monkeypatch.setenv("PMKIT_DATA", str(workspace.root))
    at = AppTest.from_function(one_version_script, args=(str(extra),), default_timeout=60).run()
    assert not at.exception
    assert [t.value for t in at.text] == ["first=1", "later=1, files=1", "query=1", "next=3"]


def test_a_store_that_cannot_be_read_is_a_message_on_every_page_not_a_traceback(workspace, monkeypatch):
    """store/CURRENT naming a version whose file is gone: the summary showed Streamlit's exception
    box, and the server's warm-up logged a traceback (QA)."""
    from pmkit.store import Store

    workspace.configure()
    workspace.load_events([("2026-03-01T10:00Z", "u1", "login")])
    store = Store(workspace.root / "store")
    store.version_path(store.current_version()).unlink()
    monkeypatch.setenv("PMKIT_DATA", str(workspace.root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("which cannot be read" in e.value and "Restore the store folder" in e.value for e in at.error)
    for page in ("pages/kpis.py", "pages/data.py", "pages/objectives.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert any("which cannot be read" in e.value for e in at.error), page
    # CURRENT holding no number read as "no events are loaded yet" (hosted QA).
    (workspace.root / "store" / "CURRENT").write_text("not a version\n")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("should hold the published version" in e.value for e in at.error), [e.value for e in at.error]
    assert not any("No events are loaded yet" in i.value for i in at.info)


def test_a_bad_input_is_an_error_message_not_a_traceback(workspace, monkeypatch):
    workspace.configure()
    workspace.load_events([("2026-03-01T10:00Z", "u1", "login")])
    monkeypatch.setenv("PMKIT_DATA", str(workspace.root))
    at = AppTest.from_function(cache_script).run()
    assert not at.exception
    assert at.text[1].value == "missing=None"
    assert "metric 'nope' is not defined" in at.error[0].value


def link_script() -> None:
    import streamlit as st

    from pmkit import ui

    st.session_state["range"] = "90d"
    st.session_state["f_plan"] = ["pro", "team"]
    st.text(ui.kpi_url("activation", "OBJ-1"))
    st.text(str(ui.kpi_url(None)))


def test_links_to_the_kpi_explorer_keep_the_sidebar_filters():
    at = AppTest.from_function(link_script).run()
    assert not at.exception
    assert at.text[0].value == "kpis?range=90d&f_plan=pro&f_plan=team&metric=activation&objective=OBJ-1"
    assert at.text[1].value == "None"


HOSTILE_FILE = "**x** <img src=x onerror=alert(1)> [y](javascript:alert(1)).csv"


def halfway_progress_script(message: str) -> None:
    """A load caught halfway (the block is never left): the bar as a viewer sees it then."""
    from pmkit import ui

    report = ui.progress_bar("Loading the inbox…").__enter__()
    report(message, 0.25)


def finished_progress_script(message: str) -> None:
    import streamlit as st

    from pmkit import ui

    with ui.progress_bar("Loading the inbox…") as report:
        report(message, 0.5)
    st.text("done")


def test_a_progress_bar_shows_file_names_as_text_and_is_gone_when_done():
    message = f"Loading {HOSTILE_FILE} (1 of 2): storing 2 rows"
    at = AppTest.from_function(halfway_progress_script, args=(message,)).run()
    assert not at.exception
    (bar,) = at.progress
    assert (bar.value, bar.text) == (25, ui.safe_text(message))
    at = AppTest.from_function(finished_progress_script, args=(message,)).run()
    assert not at.exception
    assert len(at.progress) == 0 and at.text[0].value == "done"


# --- the login gate ---------------------------------------------------------------------------------


@pytest.fixture()
def hosted(workspace, monkeypatch):
    """A read-only (hosted) app over a workspace with one day of events."""
    workspace.configure()
    workspace.load_events([("2026-03-01T10:00Z", "u1", "login")])
    monkeypatch.setenv("PMKIT_DATA", str(workspace.root))
    monkeypatch.setenv("PMKIT_READ_ONLY", "1")
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def shows_the_dashboard(at: AppTest) -> bool:
    return any(t.value == "Executive summary" for t in at.title)


def test_hosted_mode_without_a_login_shows_no_data(hosted):
    at = hosted.run()
    assert not at.exception
    assert "no login is configured" in at.error[0].value
    assert not shows_the_dashboard(at) and not at.metric


def test_hosted_mode_with_passwords_asks_and_checks(hosted):
    from pmkit.auth import hash_password

    hosted.secrets["pmkit_auth"] = {"passwords": {"ceo@example.com": hash_password("right horse battery")}}
    at = hosted.run()
    assert not shows_the_dashboard(at)
    at.text_input(key="login-user").input("CEO@example.com")
    at.text_input(key="login-password").input("wrong")
    at.button[0].click().run()
    assert at.error[0].value == "Wrong user name or password."
    assert not shows_the_dashboard(at)
    at.text_input(key="login-password").input("right horse battery")
    at.button[0].click().run()
    assert not at.exception
    assert shows_the_dashboard(at)
    assert any("Signed in as ceo@example\\.com" in c.value.replace(ui.WORD_JOINER, "") for c in at.caption)


@pytest.mark.parametrize(("email", "allowed"), [("cfo@example.com", True), ("someone@elsewhere.org", False)])
def test_hosted_mode_with_oidc_checks_the_allow_list(hosted, email, allowed):
    hosted.secrets["auth"] = {"redirect_uri": "https://pmkit.example.com/oauth2callback", "cookie_secret": "x"}
    hosted.secrets["pmkit_auth"] = {"allowed_domains": ["example.com"]}
    hosted.user = {"is_logged_in": True, "email": email}
    at = hosted.run()
    assert not at.exception
    assert shows_the_dashboard(at) is allowed
    if not allowed:
        assert "is not on this dashboard's allow-list" in at.error[0].value


def test_anonymous_hosting_and_local_mode_need_no_login(hosted, monkeypatch):
    hosted.secrets["pmkit_auth"] = {"anonymous": True}
    assert shows_the_dashboard(hosted.run())
    monkeypatch.delenv("PMKIT_READ_ONLY")
    local = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert shows_the_dashboard(local)


def table_script() -> None:
    import polars as pl

    from pmkit import ui

    ui.table(pl.DataFrame({"owner": ["Ana", None], "estimate": [3.0, None]}), "items")


def test_a_table_shows_an_empty_text_cell_as_empty():
    at = AppTest.from_function(table_script).run()
    assert not at.exception
    shown = at.dataframe[0].value
    assert shown["owner"].tolist() == ["Ana", ""]
    assert shown["estimate"].isna().tolist() == [False, True]  # a missing number stays missing


def test_no_table_toolbar_writes_formula_cells_to_a_csv():
    """The toolbar's own "Download as CSV" wrote "=HYPERLINK(...)" as it is (security QA); the
    tables' pmkit buttons escape it, so the toolbar's is off, locally and hosted."""
    import tomllib

    root = Path(__file__).resolve().parents[1]
    for config in (".streamlit/config.toml", "deploy/config.toml"):
        settings = tomllib.loads((root / config).read_text(encoding="utf-8"))
        assert settings["client"]["disableDataExport"] is True, config


PIXEL = "![x](http://tracker.example/p.png)"


def quoting_script(key: str) -> None:
    import streamlit as st

    from pmkit import ui

    cfg = ui.config()
    st.text(f"missing={ui.compute(cfg, 'explore', key=key, period=None)}")


def test_messages_quoting_values_show_them_as_typed_never_as_markdown(workspace, monkeypatch):
    """An error that quotes a value (a metric's name, a pmkit.toml setting) showed it as
    markdown: an image there was fetched from its address."""
    workspace.configure()
    workspace.load_events([("2026-03-01T10:00Z", "u1", "login")])
    monkeypatch.setenv("PMKIT_DATA", str(workspace.root))
    at = AppTest.from_function(quoting_script, args=(PIXEL,)).run()
    assert not at.exception
    assert at.text[0].value == "missing=None"
    assert "is not defined" in at.error[0].value and PIXEL not in at.error[0].value
    assert "\\!\\[x\\]\\(http" in at.error[0].value  # each mark escaped: shown, not followed
    with (workspace.root / "pmkit.toml").open("a", encoding="utf-8") as toml:
        toml.write(f'\n[app]\nnew_data_check_seconds = "{PIXEL}"\n')
    at = AppTest.from_function(quoting_script, args=("dau",)).run()
    assert not at.exception
    assert "must be a number" in at.error[0].value and PIXEL not in at.error[0].value
    assert "\\!\\[x\\]\\(http" in at.error[0].value


def test_a_store_that_cannot_be_read_tells_a_hosted_viewer_plainly(workspace, monkeypatch, caplog):
    """Executives were shown the server's paths, DuckDB's error and a fix only whoever runs pmkit
    can apply (hosted QA). They get a plain sentence; the full message goes to the log."""
    from pmkit.store import Store
    from pmkit.ui import STORE_UNREADABLE_FOR_VIEWERS

    workspace.configure()
    workspace.load_events([("2026-03-01T10:00Z", "u1", "login")])
    store = Store(workspace.root / "store")
    store.version_path(store.current_version()).unlink()
    monkeypatch.setenv("PMKIT_DATA", str(workspace.root))
    monkeypatch.setenv("PMKIT_READ_ONLY", "1")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["pmkit_auth"] = {"anonymous": True}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [e.value for e in at.error]
    assert shown and all(e == STORE_UNREADABLE_FOR_VIEWERS for e in shown), shown
    assert not any(str(workspace.root) in e for e in shown)
    assert any("which cannot be read" in r.getMessage() for r in caplog.records)
