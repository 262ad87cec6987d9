"""The Data page in a real browser: an upload shows its result; read-only mode has no Data page."""

from pathlib import Path

import pytest
from conftest import Server, assert_no_exception, screenshot, wait_for_app

from pmkit.config import load_config
from pmkit.ingest import ingest
from pmkit.ui import NEW_DATA_NOTICE


@pytest.fixture()
def local_server(tmp_path: Path) -> object:
    data = tmp_path / "ws"
    (data / "store").mkdir(parents=True)
    (data / "pmkit.toml").write_text('[workspace]\ntimezone = "UTC"\n')  # not empty: no demo
    server = Server(data)
    yield server
    server.stop()


def test_an_upload_in_local_mode_shows_the_file_result(browser: object, local_server: Server, tmp_path: Path) -> None:
    good = tmp_path / "events.csv"
    good.write_text("event_time,user_id,event\n2026-03-01T10:00:00Z,u1,signup\n2026-03-02T10:00:00Z,u2,login\n")
    bad = tmp_path / "broken <img src=x onerror=alert(1)>.csv"
    bad.write_text("event_time,user_id,event\n2026-02-30T10:00:00Z,u1,signup\n")
    page = browser.new_page()
    page.goto(f"{local_server.url}/data")
    wait_for_app(page)
    page.set_input_files("[data-testid='stFileUploader'] input[type=file]", [str(good), str(bad)])
    page.get_by_role("button", name="Load files").click()
    page.locator("[data-testid='stAlertContentSuccess']").filter(has_text="loaded 2 rows as events").wait_for(
        timeout=30_000
    )
    page.get_by_text('row 2, column "event_time"').first.wait_for(timeout=30_000)
    assert_no_exception(page)
    # The hostile file name is shown as text, never as markup.
    assert page.locator("img[src=x]").count() == 0
    screenshot(page, "data-upload")
    page.close()


def test_what_is_loaded_shows_an_upload_in_the_same_run(browser: object, tmp_path: Path) -> None:
    """A page run reads the store version published as it started (ui.one_version), so the Data
    page's own load moves it on: "What is loaded" shows the file at once, not after a rerun. Nor
    is its own load new data to rerun the page for: the new-data check did, and the load's
    results vanished a second after they were shown (QA)."""
    data = tmp_path / "ws"
    (data / "store").mkdir(parents=True)
    (data / "pmkit.toml").write_text('[workspace]\ntimezone = "UTC"\n\n[app]\nnew_data_check_seconds = 1\n')
    first = tmp_path / "first.csv"
    first.write_text("event_time,user_id,event\n2026-02-27T10:00:00Z,u0,signup\n")
    assert [r.status for r in ingest([first], load_config(data))] == ["loaded"]
    events = tmp_path / "events.csv"
    events.write_text("event_time,user_id,event\n2026-03-01T10:00:00Z,u1,signup\n2026-03-02T10:00:00Z,u2,login\n")
    server = Server(data)
    try:
        page = browser.new_page()
        page.goto(f"{server.url}/data")
        wait_for_app(page)
        page.get_by_text("Loaded files (1)").wait_for(timeout=30_000)
        page.set_input_files("[data-testid='stFileUploader'] input[type=file]", [str(events)])
        page.get_by_role("button", name="Load files").click()
        # The result's own box: the results table's cell says the same.
        shown = page.locator("[data-testid='stAlertContentSuccess']").filter(has_text="loaded 2 rows as events")
        shown.wait_for(timeout=30_000)
        wait_for_app(page)
        assert page.get_by_text("Loaded files (2)").count() == 1
        assert shown.count() == 1
        page.wait_for_timeout(4_000)  # four new-data checks
        assert shown.count() == 1
        assert page.get_by_text(NEW_DATA_NOTICE).count() == 0  # its own load is no news
        assert page.get_by_text("Loaded files (2)").count() == 1
        assert_no_exception(page)
        page.close()
    finally:
        server.stop()


def test_a_file_over_the_upload_limit_is_refused_by_the_box_named_as_typed(browser: object, tmp_path: Path) -> None:
    """The box keeps to ingest.max_upload_mb (it kept to Streamlit's own limit, and refused files
    the setting allowed), and names the file as typed: a size message once named it as markdown,
    and a name holding an image and a link loaded the image from its address."""
    data = tmp_path / "ws"
    (data / "store").mkdir(parents=True)
    (data / "pmkit.toml").write_text('[workspace]\ntimezone = "UTC"\n')
    server = Server(data, env={"PMKIT_MAX_UPLOAD_MB": "1"})
    try:
        page = browser.new_page()
        page.goto(f"{server.url}/data")
        wait_for_app(page)
        name = "![pixel](pixel.png) [re-auth](https://phish.example/login) **big**.csv"
        big = b"event_time,user_id,event\n" + b"2026-03-01T10:00:00Z,u1,login\n" * 60_000  # 1.8 MB
        page.set_input_files(
            "[data-testid='stFileUploader'] input[type=file]", [{"name": name, "mimeType": "text/csv", "buffer": big}]
        )
        page.get_by_text("File must be 1.0MB or smaller").wait_for(timeout=30_000)
        assert page.get_by_text("(up to 1 MB each)").count() == 1  # the label says the same limit
        assert page.get_by_role("button", name="Load files").count() == 0  # nothing to load
        listed = page.locator("[data-testid='stFileUploader']").inner_text()
        assert "![pixel" in listed and "*big**.csv" in listed  # as typed (the box shortens long names)
        assert page.locator("img[src='pixel.png']").count() == 0
        assert page.locator("a[href='https://phish.example/login']").count() == 0
        assert_no_exception(page)
        page.close()
    finally:
        server.stop()


def test_read_only_mode_has_no_data_page(browser: object, demo_workspace: Path) -> None:
    secrets = demo_workspace.parent / "anonymous-secrets.toml"
    secrets.write_text("[pmkit_auth]\nanonymous = true\n")
    server = Server(demo_workspace, env={"PMKIT_READ_ONLY": "1"}, args=[f"--secrets.files={secrets}"])
    try:
        page = browser.new_page()
        page.goto(server.url)
        wait_for_app(page)
        assert_no_exception(page)
        assert page.get_by_role("link", name="Data", exact=True).count() == 0
        page.goto(f"{server.url}/data")
        wait_for_app(page)
        # Says why, where Streamlit's "page not found" dialog stood (hosted QA); no upload.
        page.get_by_text("This dashboard is read-only: loading files and the Data page are").wait_for(timeout=30_000)
        assert page.get_by_text("does not seem to exist").count() == 0
        assert page.locator("[data-testid='stFileUploader']").count() == 0
        assert page.get_by_role("link", name="Data", exact=True).count() == 0
        page.close()
    finally:
        server.stop()


def test_an_open_dashboard_shows_data_published_by_another_process_without_a_click(
    browser: object, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    from conftest import ROOT

    data = tmp_path / "ws"
    first = tmp_path / "first.csv"
    first.write_text("event_time,user_id,event\n2026-03-01T10:00:00Z,u1,signup\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run(
        [sys.executable, "-m", "pmkit", "ingest", str(first), "--data", str(data)], cwd=ROOT, env=env, check=True
    )
    # Every 3 s instead of 30: the same fragment and version check, ten times as often.
    server = Server(data, env={"PMKIT_NEW_DATA_CHECK_SECONDS": "3"})
    try:
        page = browser.new_page()
        page.goto(f"{server.url}/data")
        wait_for_app(page)
        page.get_by_text("first.csv").first.wait_for(state="attached", timeout=30_000)
        second = tmp_path / "second_export.csv"
        second.write_text("event_time,user_id,event\n2026-03-02T10:00:00Z,u2,login\n")
        subprocess.run(
            [sys.executable, "-m", "pmkit", "ingest", str(second), "--data", str(data)], cwd=ROOT, env=env, check=True
        )
        # No click, no reload: the page notices the new store version by itself.
        page.get_by_text("second_export.csv").first.wait_for(state="attached", timeout=30_000)
        page.get_by_text(NEW_DATA_NOTICE).wait_for(timeout=5_000)  # and says so
        assert_no_exception(page)
        page.close()
    finally:
        server.stop()
