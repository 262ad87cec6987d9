"""A real `streamlit run app.py` on a free port, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "tests" / "output" / "screenshots"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One Streamlit server over one workspace; stopped when the test module ends."""

    def __init__(
        self,
        data: Path,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        port: int | None = None,
        address: str | None = "127.0.0.1",
    ) -> None:
        """``address=None``: the address of the project's .streamlit/config.toml, as
        `streamlit run app.py` on a laptop (the URL stays 127.0.0.1, where it listens)."""
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = data
        self.log = data.parent / f"streamlit-{self.port}.log"
        full_env = dict(os.environ, PMKIT_DATA=str(data), PYTHONPATH=str(ROOT), **(env or {}))
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.headless=true",
                f"--server.port={self.port}",
                *([f"--server.address={address}"] if address else []),
                "--browser.gatherUsageStats=false",
                "--server.fileWatcherType=none",
                *(args or []),
            ],
            cwd=ROOT,
            env=full_env,
            stdout=open(self.log, "w"),  # noqa: SIM115 - open for the server's whole life
            stderr=subprocess.STDOUT,
        )
        began = time.monotonic()
        deadline = began + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        # From the command to serving (bench_browser.py reports it, within 0.1 s).
                        self.started_s = time.monotonic() - began
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"streamlit did not become healthy: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing: apt-get install chromium")
        pytest.skip("browser tests need Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-quic",
                "--no-first-run",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo workspace built once through the CLI, shared read-only by the browser tests."""
    data = tmp_path_factory.mktemp("demo") / "ws"
    subprocess.run(
        [sys.executable, "-m", "pmkit", "demo", "--out", str(data), "--events", "60000", "--seed", "3"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    return data


def wait_for_app(page: object, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished running the script (STYLE.md: script state notRunning)."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    page.wait_for_selector("[data-test-script-state='notRunning']", timeout=timeout)
    page.wait_for_timeout(200)


def assert_no_exception(page: object) -> None:
    assert page.locator("[data-testid='stException']").count() == 0, page.locator(
        "[data-testid='stException']"
    ).first.inner_text()


def screenshot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
