import os
import signal
import sys

from pmkit import INTERRUPTED
from pmkit.cli import main

INTERRUPTED_EXIT = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl+C


def _interrupt(signum: int, frame: object) -> None:
    INTERRUPTED.set()
    raise KeyboardInterrupt


def _quiet_interrupts(unraisable: "sys.UnraisableHookArgs") -> None:
    """A Ctrl+C that lands in a finalizer (an object freed during a DuckDB or Polars call) cannot
    stop the command there: Python prints it as "Exception ignored ... Traceback" and goes on.
    It is not printed; INTERRUPTED is set, so the command still ends as interrupted."""
    if not isinstance(unraisable.exc_value, KeyboardInterrupt):
        sys.__unraisablehook__(unraisable)


# Not where SIGINT was ignored when Python started (a background job of a shell script).
if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, _interrupt)
    sys.unraisablehook = _quiet_interrupts

try:
    code = main()
    # Done: a Ctrl+C now would only kill the exit (status -2, no message) after the work ended.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if INTERRUPTED.is_set():  # one swallowed in a finalizer (_quiet_interrupts)
        code = INTERRUPTED_EXIT
    sys.stdout.flush()
except BrokenPipeError:
    # The reader of our output went away (`pmkit kpis --json | head`): stop quietly, as other
    # command-line tools do, instead of a traceback. stdout is pointed at devnull so that
    # Python's own flush at exit does not fail again.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    code = 1
except Exception:
    # Ctrl+C printed a traceback from wherever the ingest was; inside a DuckDB call it comes out
    # as DuckDB's own error ("Query interrupted"). Nothing needs undoing: the store only ever
    # moves from one whole published version to the next (pmkit/store.py).
    if not INTERRUPTED.is_set():
        raise
    code = INTERRUPTED_EXIT
except KeyboardInterrupt:
    code = INTERRUPTED_EXIT
if code == INTERRUPTED_EXIT:
    # What to do next depends on the command: only a load has something left to load.
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), "")
    after = "; run the command again to load what is left" if command in ("ingest", "demo") else ""
    print(f"pmkit: interrupted. The store keeps its last whole published version{after}.", file=sys.stderr)
raise SystemExit(code)
