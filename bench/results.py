"""Write one named section of bench/RESULTS.md, keeping the others."""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).parent / "RESULTS.md"
TITLE = (
    "# Benchmark results\n\nMeasured, not asserted: each section is rewritten by its script (see bench/README.md).\n"
)


def write_section(name: str, body: str) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else TITLE
    section = f"## {name}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(name)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    RESULTS.write_text(text, encoding="utf-8")


def publish(name: str, body: str, record: bool) -> None:
    """Print a benchmark's section and, with ``record``, write it into RESULTS.md."""
    print()
    print(body)
    if record:
        write_section(name, body)
