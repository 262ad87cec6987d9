"""The Data page in a real browser: an upload shows its result; read-only mode has no Data page."""

from pathlib import Path

import pytest
from conftest import Server, assert_no_exception, screenshot, wait_for_app


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
    page.get_by_text("loaded 2 rows as events").wait_for(timeout=30_000)
    page.get_by_text('row 2, column "event_time"').first.wait_for(timeout=30_000)
    assert_no_exception(page)
    # The hostile file name is shown as text, never as markup.
    assert page.locator("img[src=x]").count() == 0
    screenshot(page, "data-upload")
    page.close()


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
        assert page.get_by_text("Page not found").count() or page.get_by_role("heading", name="Data").count() == 0
        page.close()
    finally:
        server.stop()
