"""A fragment's own rerun reads the store version the rest of its page shows."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Server, assert_no_exception, wait_for_app

from pmkit.config import load_config
from pmkit.ingest import ingest
from pmkit.store import KEEP_VERSIONS

WEEK = [f"2026-03-0{day}T10:00:00Z" for day in range(1, 8)]


def events_csv(path: Path, users: list[str]) -> Path:
    path.write_text("event_time,user_id,event\n" + "".join(f"{t},{u},login\n" for t in WEEK for u in users))
    return path


def load(data: Path, path: Path) -> None:
    """Another process's ingest, as far as the server is concerned."""
    assert [r.status for r in ingest([path], load_config(data))] == ["loaded"]


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Server]:
    """One user on each day of a week; the new-data check every 10 minutes, so only a control
    or a reload reruns the page."""
    data = tmp_path / "ws"
    (data / "store").mkdir(parents=True)
    (data / "pmkit.toml").write_text('[workspace]\ntimezone = "UTC"\n\n[app]\nnew_data_check_seconds = 600\n')
    load(data, events_csv(tmp_path / "one.csv", ["u1"]))
    running = Server(data)
    yield running
    running.stop()


def kpis(browser: object, server: Server) -> object:
    page = browser.new_page()
    page.goto(f"{server.url}/kpis")
    wait_for_app(page)
    return page


def test_a_fragments_control_shows_the_pages_version_until_the_page_moves_on(
    browser: object, server: Server, tmp_path: Path
) -> None:
    """The KPI explorer's controls rerun its fragment alone. Published meanwhile by another
    process, three users a day where the page showed one: the fragment read the new version and
    its card said 3 beside a page that showed 1 (the new-data check, 10 minutes here, would rerun
    it all later). It keeps the page's version; a rerun of the page shows the new one."""
    page = kpis(browser, server)
    card = page.locator("[data-testid='stMetricValue']").first
    assert card.inner_text() == "1"  # one user on each day: the daily active users
    load(server.data, events_csv(tmp_path / "two.csv", ["u2", "u3"]))
    page.get_by_role("button", name="7 days").click()  # a control of the fragment
    wait_for_app(page)
    page.wait_for_timeout(1_000)
    assert page.locator("[data-testid='stMetricValue']").first.inner_text() == "1"
    page.reload()
    wait_for_app(page)
    assert page.locator("[data-testid='stMetricValue']").first.inner_text() == "3"
    assert_no_exception(page)
    page.close()


def test_a_fragments_control_moves_the_whole_page_on_once_its_version_is_gone(
    browser: object, server: Server, tmp_path: Path
) -> None:
    """Three loads later the page's version is deleted (KEEP_VERSIONS): the fragment read the
    current one under the page's older dates, its card's range ending on the old last day (QA).
    The whole page reruns instead, as a fresh visit shows it."""
    page = kpis(browser, server)
    label = page.locator("[data-testid='stMetricLabel']").first
    before = label.inner_text()
    for n in range(KEEP_VERSIONS):  # each a day later: the last loaded day moves
        later = tmp_path / f"later{n}.csv"
        later.write_text(f"event_time,user_id,event\n2026-03-{8 + n:02d}T10:00:00Z,v{n},login\n")
        load(server.data, later)
    page.get_by_role("button", name="7 days").click()  # a control of the fragment
    wait_for_app(page)
    page.wait_for_timeout(1_000)
    after = (label.inner_text(), page.locator("[data-testid='stMetricValue']").first.inner_text())
    assert_no_exception(page)
    fresh = browser.new_page()
    fresh.goto(f"{server.url}/kpis?avg=7")
    wait_for_app(fresh)
    expected = (
        fresh.locator("[data-testid='stMetricLabel']").first.inner_text(),
        fresh.locator("[data-testid='stMetricValue']").first.inner_text(),
    )
    assert after == expected and after[0] != before
    page.close()
    fresh.close()


def test_a_link_naming_options_by_key_keeps_them_through_a_reload(browser: object, server: Server) -> None:
    """compare=same_period_last_year and avg=7 were dropped (the default shown), then shown but
    gone from the address bar, so a reload lost them (QA). They pick their options and stay."""
    page = browser.new_page()
    page.goto(f"{server.url}/kpis?compare=same_period_last_year&avg=7")
    for _ in range(2):
        wait_for_app(page)
        assert "compare=same_period_last_year" in page.url and "avg=7" in page.url
        compare = page.locator("[data-testid='stMultiSelect']").filter(has_text="Compare with").inner_text()
        assert "Same period last year" in compare and "Previous period" not in compare
        assert page.get_by_role("button", name="7 days").get_attribute("aria-pressed") == "true"
        assert_no_exception(page)
        page.reload()
    page.close()
