"""The first start of `streamlit run app.py` on an empty workspace builds the demo, whatever the
viewer does while it builds."""

from pathlib import Path

from conftest import Server, assert_no_exception, wait_for_app

from pmkit.config import load_config
from pmkit.store import Store
from pmkit.workspace import DEMO_EVENTS


def test_the_demo_build_is_finished_when_the_first_page_is_left_while_it_runs(browser: object, tmp_path: Path) -> None:
    """The build ran in the first page's script: a reload while it loaded (Streamlit stops the
    left page's script) stopped it half way, its files stayed in the inbox, and the workspace,
    no longer empty, was never built; every page said no events were loaded."""
    data = tmp_path / "ws"
    server = Server(data)
    page = browser.new_page()
    try:
        page.goto(server.url)
        # Left while the demo's files load (the progress bar names them), not before the build.
        page.get_by_text("Loading ").first.wait_for(timeout=60_000)
        page.reload()
        wait_for_app(page, timeout=90_000)
        page.get_by_role("heading", name="Executive summary").wait_for(timeout=90_000)
        wait_for_app(page, timeout=90_000)
        assert_no_exception(page)
        assert page.get_by_text("No events loaded").count() == 0
        config = load_config(data)
        assert not list(config.inbox.iterdir())
        assert not (data / "rejected").exists() or not list((data / "rejected").iterdir())
        with Store(config.store_dir).reader() as reader:
            log = reader.frame("SELECT name, kind, status, rows_loaded FROM ingest_log")
        # Each demo file was loaded once, in one build, its 100,000 events among them.
        assert log["status"].to_list() == ["loaded"] * log.height, log
        assert log["name"].n_unique() == log.height, log
        assert log.filter(kind="events")["rows_loaded"].sum() == DEMO_EVENTS, log
        assert "Traceback" not in server.log.read_text()
    finally:
        page.close()
        server.stop()
