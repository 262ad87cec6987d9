"""Many browser sessions on the read-only pages while an ingest runs in another process.

Used by bench/bench_load.py (which records p50/p95 render times in RESULTS.md) and by
tests/browser/test_load.py (which checks that every page renders without an error).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import statistics
import time
from dataclasses import dataclass, field

READ_ONLY_PAGES = (
    "Executive summary",
    "Objectives",
    "Roadmap",
    "KPI explorer",
    "Retention",
    "Funnels",
    "Engagement",
    "Voice of customer",
)
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class LoadResult:
    times: dict[str, list[float]] = field(default_factory=dict)  # page -> seconds to a finished render
    errors: list[str] = field(default_factory=list)

    def all_times(self) -> list[float]:
        return [t for values in self.times.values() for t in values]

    @staticmethod
    def percentile(values: list[float], share: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]

    def table(self) -> str:
        lines = ["| page | renders | p50 s | p95 s | max s |", "|---|---|---|---|---|"]
        for page, values in [*self.times.items(), ("all pages", self.all_times())]:
            if values:
                lines.append(
                    f"| {page} | {len(values)} | {statistics.median(values):.2f} | {self.percentile(values, 0.95):.2f} | {max(values):.2f} |"
                )
        return "\n".join(lines)


async def _finished(page: object) -> None:
    await page.wait_for_selector("[data-testid='stApp']")
    await page.wait_for_selector("[data-test-script-state='notRunning']")


async def _session(
    playwright: object, chromium: str, url: str, login: tuple[str, str] | None, result: LoadResult, index: int
) -> None:
    # One browser process per session, as ten viewers have: contexts of one browser share its
    # connection pool, and ten long-lived Streamlit websockets to one host starve it.
    browser = await playwright.chromium.launch(executable_path=chromium, headless=True, args=LAUNCH_ARGS)
    context = await browser.new_context()
    page = await context.new_page()
    # Every step gets the same patience (Playwright's default is 30 s): ten browsers starting at
    # once beside an ingest on two cores have taken longer than that to load a page or to make
    # a link clickable.
    page.set_default_timeout(180_000)
    try:
        began = time.perf_counter()
        await page.goto(url)
        await _finished(page)
        if login:
            await page.get_by_label("E-mail").fill(login[0])
            await page.get_by_label("Password", exact=True).fill(login[1])
            await page.get_by_role("button", name="Sign in").click()
            began = time.perf_counter()
        await page.get_by_role("heading", name="Executive summary").wait_for()
        await _finished(page)
        result.times.setdefault("Executive summary", []).append(time.perf_counter() - began)
        for title in READ_ONLY_PAGES[1:]:
            began = time.perf_counter()
            # Client-side navigation keeps the session (and its login), as a viewer's clicks do.
            await page.get_by_role("link", name=title).first.click()
            await page.get_by_role("heading", name=title).first.wait_for()
            await _finished(page)
            result.times.setdefault(title, []).append(time.perf_counter() - began)
            if await page.locator("[data-testid='stException']").count():
                result.errors.append(
                    f"session {index}, {title}: {await page.locator('[data-testid=stException]').first.inner_text()}"
                )
    except Exception as exc:  # a failed session is a result to report, not a crash of the run
        result.errors.append(f"session {index}, at {page.url}: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
    finally:
        await context.close()
        await browser.close()


async def _run(url: str, sessions: int, login: tuple[str, str] | None, chromium: str) -> LoadResult:
    from playwright.async_api import async_playwright

    result = LoadResult()
    async with async_playwright() as playwright:
        await asyncio.gather(*(_session(playwright, chromium, url, login, result, i) for i in range(sessions)))
    return result


def run_sessions(
    url: str, sessions: int = 10, login: tuple[str, str] | None = None, chromium: str = "/usr/bin/chromium"
) -> LoadResult:
    """Open ``sessions`` browser sessions at once, each visiting every read-only page.

    Runs in its own thread: Playwright's sync API (the test suite's browser fixture) keeps an
    event loop running in the main thread, and asyncio allows one loop per thread."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _run(url, sessions, login, chromium)).result()
