import os
import sys

from pmkit.cli import main

try:
    code = main()
    sys.stdout.flush()
except BrokenPipeError:
    # The reader of our output went away (`pmkit kpis --json | head`): stop quietly, as other
    # command-line tools do, instead of a traceback. stdout is pointed at devnull so that
    # Python's own flush at exit does not fail again.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    code = 1
except KeyboardInterrupt:
    # Ctrl+C printed a traceback from wherever the ingest was. Nothing needs undoing: the store
    # only ever moves from one whole published version to the next (pmkit/store.py).
    print(
        "pmkit: interrupted. The store keeps its last whole published version; "
        "run the command again to load what is left.",
        file=sys.stderr,
    )
    code = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl+C
raise SystemExit(code)
