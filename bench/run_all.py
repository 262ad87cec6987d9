"""Every benchmark, one after the other, each writing its section of bench/RESULTS.md.

    python bench/run_all.py [--quick]

Generates what it needs (cached under bench/data/): the 1M and 10M-event CSVs and demo
workspaces. ``--quick`` runs only the 1M-event sizes (minutes instead of most of an hour). A
failing script stops the run with its exit code; the sections already written stay.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def commands(quick: bool) -> list[list[str]]:
    sizes = ["1000000"] if quick else ["1000000", "10000000"]
    return [
        ["bench_ingest.py", "--rows", *sizes],
        ["bench_metrics.py", "--events", *sizes, *([] if quick else ["--dense"]), "--record"],
        ["bench_pages.py", "--events", *sizes, *([] if quick else ["--dense"]), "--record"],
        ["bench_json.py", "--record"],
        ["bench_load.py", "--events", "1000000"],
        *([] if quick else [["bench_browser.py"]]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="only the 1M-event sizes")
    args = parser.parse_args()
    for script, *options in commands(args.quick):
        print(f"== {script} {' '.join(options)}", flush=True)
        done = subprocess.run([sys.executable, str(BENCH / script), *options], check=False)
        if done.returncode:
            raise SystemExit(done.returncode)
    print("results written to", BENCH / "RESULTS.md")


if __name__ == "__main__":
    main()
