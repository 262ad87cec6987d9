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
raise SystemExit(code)
