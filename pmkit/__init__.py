"""pmkit: a local-first dashboard for product KPIs and roadmap health."""

import threading

__version__ = "0.1.0"

# Set by the command line's Ctrl+C handler (pmkit/__main__.py). DuckDB turns the signal into an
# error of its own (InterruptException, or a TransactionException after it), which the ingest's
# per-file handler would otherwise report as a bug in pmkit and file the file as rejected.
INTERRUPTED = threading.Event()
