"""`python -m pmkit ...`: parse arguments, call the library, print. No behaviour lives here."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import errno
import json
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pmkit.config import ConfigError, StoreUnreadable, load_config
from pmkit.formatting import fixed


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (expected e.g. 2026-03-01)") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pmkit", description="pmkit: product KPIs and roadmap health from your exports."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--data", type=Path, default=None, help="workspace folder (default: $PMKIT_DATA or ./data)")
        return sub

    demo = command("demo", "write a realistic, seeded demo workspace and load it")
    demo.add_argument("--out", type=Path, required=True, help="folder of the new workspace")
    demo.add_argument("--events", type=int, default=100_000, help="about how many events (default 100000)")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument("--end", type=_date, default=None, help="last day of events (default: yesterday)")

    ingest = command("ingest", "load export files (default: everything in the inbox)")
    ingest.add_argument("paths", nargs="*", type=Path, help="files to load; none: the workspace inbox")
    ingest.add_argument(
        "--as-of",
        type=_date,
        default=None,
        help="snapshot date for roadmap files (default: a date in the file name, else today)",
    )
    ingest.add_argument("--skip-bad-rows", action="store_true", help="load the good rows and record each bad one")
    ingest.add_argument("--json", action="store_true", help="print the report as JSON")

    for name, help_text in (
        ("kpis", "daily KPIs and weekly retention"),
        ("report", "write the executive summary as HTML"),
    ):
        sub = command(name, help_text)
        if name == "kpis":
            sub.add_argument("--start", type=_date)
            sub.add_argument("--end", type=_date)
            sub.add_argument("--json", action="store_true")
        else:
            sub.add_argument("--out", type=Path, default=Path("pmkit-report.html"))
            sub.add_argument("--as-of", type=_date, default=None)

    funnel = command("funnel", "ordered funnel conversion")
    funnel.add_argument("steps", nargs="+", help="event names, in order")
    funnel.add_argument("--window-days", type=int, default=7)
    funnel.add_argument("--start", type=_date)
    funnel.add_argument("--end", type=_date)
    funnel.add_argument("--json", action="store_true")

    roadmap = command("roadmap", "roadmap health from the latest snapshot on or before --as-of")
    roadmap.add_argument("--as-of", type=_date, default=None)
    roadmap.add_argument("--json", action="store_true")
    publish = command("publish", "copy the current store into another workspace (e.g. the hosted one), atomically")
    publish.add_argument("--to", type=Path, required=True, help="the target workspace folder")

    hashing = command("hash-password", "print an argon2 hash of a password for [pmkit_auth.passwords] in secrets.toml")
    hashing.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = None
    try:
        config = load_config(args.data) if args.command not in ("demo", "hash-password") else None
        if args.command in READING and not config.data_dir.is_dir():
            raise UsageError(f"no workspace at {config.data_dir} (check --data or PMKIT_DATA)")
        handler = globals()[f"_cmd_{args.command.replace('-', '_')}"]
        code = int(handler(args, config))
        if args.command in WARNING_OF_DEFINITIONS:
            _warn_definitions(config)
        return code
    except ConfigError as exc:
        print(f"pmkit: {exc}", file=sys.stderr)
        return 2
    except (UsageError, StoreUnreadable) as exc:
        print(f"pmkit {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise  # the reader of the output went away: __main__ ends quietly
    except OSError as exc:  # a path given that is a folder where a file is meant, or the reverse
        print(f"pmkit {args.command}: {_path_problem(exc, args.command)}", file=sys.stderr)
        return 2
    except Exception as exc:
        # DuckDB's own error for a full disk (writing its file or its log) was a traceback.
        from pmkit.ingest import is_disk_full

        if not is_disk_full(exc):
            raise
        where = config.store_dir if config else None
        print(f"pmkit {args.command}: {_disk_full(where, args.command)}", file=sys.stderr)
        return 2


def _warn_definitions(config: Any) -> None:
    """pmkit.toml's metric tables that cannot be used, and the events it names that no loaded
    event has, on stderr: the numbers printed leave those out or count them as 0."""
    from pmkit.dashboard import definitions_of, event_names, events_not_loaded
    from pmkit.ingest import REBUILD_LATER, rebuild_pending
    from pmkit.store import Store

    _, problems = definitions_of(config)
    events: list[str] = []
    pending = None
    store = Store(config.store_dir)
    if store.current_version():
        with store.reader() as reader:
            events = event_names(reader, config)
            pending = rebuild_pending(reader, config)
    for message in [*problems, *events_not_loaded(config, events)]:
        print(f"pmkit: {config.data_dir / 'pmkit.toml'}: {message}", file=sys.stderr)
    if pending:
        print(f"pmkit: {config.data_dir / 'pmkit.toml'}: {pending}, {REBUILD_LATER}", file=sys.stderr)


# Commands that read a workspace: a folder that does not exist is a typo, not an empty workspace.
READING = ("kpis", "funnel", "roadmap", "report", "publish")
# Commands whose output pmkit.toml's definitions shape: they say what in it cannot be used.
WARNING_OF_DEFINITIONS = ("kpis", "funnel", "roadmap", "report", "ingest")


def _path_problem(exc: OSError, command: str = "") -> str:
    """What is wrong with a path the user gave, and what to give instead."""
    name = exc.filename
    if exc.errno == errno.ENOSPC:
        # A copy's error names its source first: the full disk is the destination's (QA).
        return _disk_full(exc.filename2 or exc.filename, command)
    if isinstance(exc, FileExistsError) and name is not None and Path(name).exists() and not Path(name).is_dir():
        return f"{name} is a file, where a folder is needed: give a folder path"  # mkdir under a file
    if isinstance(exc, IsADirectoryError):
        return f"{name} is a folder: give a file path"
    if isinstance(exc, NotADirectoryError):
        path = Path(name)
        blocking = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), path)
        return f"{blocking} is a file, where a folder is needed: give a folder path"
    if isinstance(exc, FileNotFoundError):
        return f"{name} cannot be written: its folder does not exist and cannot be made (check the path)"
    return f"cannot use {name}: {exc.strerror or exc}"


def _disk_full(where: object, command: str) -> str:
    path = Path(str(where)) if where else None
    if path is not None and path.name.startswith("."):
        path = path.parent  # a temporary file of pmkit's own: its folder is what the user knows
    place = f" holding {path}" if path else ""
    # What the full disk left as it was, by command: "what was published before is unchanged" is
    # not so after an ingest's publish, whose files are then filed away (review); a load's words
    # fit no publish or report (the next review).
    left = {
        "ingest": "what a load could not finish was not published; `kpis` shows what is loaded",
        # The store is published before its settings: publishing again finishes both (review).
        "publish": "a publish the full disk stopped is finished by the next one",
        "report": "the report was not written",
    }.get(command)
    return f"the disk{place} is full: free some space and run it again" + (f" ({left})" if left else "")


class UsageError(Exception):
    """Bad arguments the parser could not catch (exit 2)."""


def _emit(payload: dict[str, Any]) -> None:
    print(json.dumps(payload, indent=2, default=str))


def _print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """A plain aligned table for humans; scripts use --json."""
    cells = [[_fmt(row.get(c), money=c == "revenue") for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        print(
            "  ".join(
                v.rjust(w) if v[:1].isdigit() or v[:1] == "-" else v.ljust(w) for v, w in zip(row, widths, strict=True)
            )
        )


def _fmt(value: Any, *, money: bool = False) -> str:
    if value is None:
        return "-"
    if money and isinstance(value, int | float):
        return fixed(value, 2, ",")  # 1234.50 read "1,234" (QA)
    if isinstance(value, float):
        return fixed(value, 3, ",").rstrip("0").rstrip(".") if abs(value) < 1000 else fixed(value, 0, ",")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@contextlib.contextmanager
def _slow(message: str, after: float = 1.0) -> Iterator[None]:
    """A progress line on stderr for a computation that takes longer than ``after`` seconds:
    what it is doing once the second has passed, and how long it took when it ends."""
    began = time.perf_counter()
    timer = threading.Timer(after, lambda: print(f"[....] {message}", file=sys.stderr, flush=True))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        if time.perf_counter() - began >= after:
            print(f"[done] {message} in {time.perf_counter() - began:.1f} s", file=sys.stderr, flush=True)


def _progress_line(message: str, fraction: float) -> None:
    print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)


def _cmd_ingest(args: argparse.Namespace, config: Any) -> int:
    from pmkit.config import workspace_today
    from pmkit.ingest import ingest, ingest_inbox, workspace_rebuild_pending

    if config.read_only:
        raise UsageError(
            "this workspace is read-only (read_only = true or PMKIT_READ_ONLY=1); load data on the publishing host"
        )
    if args.as_of is not None and args.as_of > workspace_today(config.timezone) + dt.timedelta(days=1):
        # A snapshot dated ahead became the latest, which roadmap and report then used by default.
        raise UsageError(f"--as-of {args.as_of} is after today: a roadmap snapshot is dated the day it was exported")
    for path in args.paths:
        # Bad usage, found before a store version is written (exit 2, like a bad option).
        if path.is_dir():
            raise UsageError(f"{path} is a folder: name its files ({path}/*.csv) or put them in {config.inbox}")
        if not path.exists():
            raise UsageError(f"{path}: no such file (check the path)")
    progress = None if args.json else _progress_line
    if args.paths:
        results = ingest(args.paths, config, as_of=args.as_of, skip_bad_rows=args.skip_bad_rows, progress=progress)
    else:
        pending = workspace_rebuild_pending(config)
        results = ingest_inbox(config, as_of=args.as_of, skip_bad_rows=args.skip_bad_rows, progress=progress)
        if pending:
            print(f"pmkit.toml: {pending}: the rollups were rebuilt from every loaded event", file=sys.stderr)
        elif not results:
            print(f"nothing to load: {config.inbox} is empty", file=sys.stderr)
    for result in results:
        for message in result.messages():
            print(message, file=sys.stderr)
    if args.json:
        _emit({"files": [r.as_json() for r in results]})
    else:
        for result in results:
            print(result.summary())
            if result.mapping and result.status == "loaded":
                shown = ", ".join(f"{k} <- {v}" for k, v in result.mapping.items() if k != v)
                if shown:
                    print(f"  columns: {shown}")
    # Not ready yet (a folder, a download in progress, a file still being written) is not a file
    # refused: it stays in the inbox, said on stderr, and every scheduled run failed on it (review).
    return 1 if any(r.status == "rejected" and not r.left_in_inbox for r in results) else 0


def _cmd_demo(args: argparse.Namespace, _config: Any) -> int:
    from pmkit.demo import write_demo
    from pmkit.ingest import ingest_inbox

    if args.events < 1000:
        raise UsageError("--events must be at least 1000 (e.g. --events 100000)")
    if args.end is not None and args.end > dt.date.today():
        # Its roadmap snapshots are named by their dates, and a roadmap file named after today is
        # rejected: the demo would have loaded without them.
        raise UsageError(f"--end {args.end} is after today: the demo's data ends on a day that has come")
    from pmkit.workspace import is_empty, mark_demo

    # Refused before a file is written: the demo replaced an existing workspace's pmkit.toml (its
    # metrics, and read_only = true with them) and published into a read-only store.
    target = load_config(args.out)
    if target.read_only:
        raise UsageError(f"{args.out} is read-only (read_only = true or PMKIT_READ_ONLY=1): no demo is written there")
    if not is_empty(target):
        raise UsageError(
            f"{args.out} already holds a workspace (a pmkit.toml, loaded data or files waiting): "
            "write the demo into a new or empty folder"
        )

    written = write_demo(args.out, events=args.events, seed=args.seed, end=args.end)
    mark_demo(args.out, written)
    print(f"wrote {len(written)} demo files into {args.out / 'inbox'}", file=sys.stderr)
    results = ingest_inbox(load_config(args.out), progress=_progress_line)
    for result in results:
        print(result.summary())
        for message in result.messages():
            print(message, file=sys.stderr)
    return 1 if any(r.status == "rejected" for r in results) else 0


def _period(reader: Any, start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date] | None:
    """The requested range, defaulting to the whole loaded range up to today, as the pages show it
    (events dated after today stay loaded; ``metrics.base.shown_last_day``)."""
    from pmkit.metrics.base import workspace_of

    workspace = workspace_of(reader)
    first, last = workspace.first_day, workspace.last_day
    start, end = start or first, end or last
    if start is None or end is None:
        return None
    if start > end:
        raise UsageError(f"--start {start} is after --end {end}")
    return start, end


def _cmd_kpis(args: argparse.Namespace, config: Any) -> int:
    from pmkit import metrics
    from pmkit.store import Store

    with _slow("Computing the daily KPIs and retention"), Store(config.store_dir).reader() as reader:
        bounds = _period(reader, args.start, args.end)
        if bounds is None:
            daily_rows: list[dict[str, Any]] = []
            cohorts: list[dict[str, Any]] = []
        else:
            period = metrics.Period(*bounds)
            daily_rows = metrics.daily_kpis(reader, period).to_dicts()
            cohorts = metrics.retention_cohorts(reader, period).to_dicts()
    if args.json:
        _emit(
            {
                "daily": [
                    {k: row[k] for k in ("day", "dau", "wau", "mau", "new_users", "events", "revenue")}
                    for row in daily_rows
                ],
                "retention": cohorts,
            }
        )
    else:
        if not daily_rows:
            print("no events loaded yet (run: python -m pmkit ingest FILE)")
            return 0
        _print_table(daily_rows, ["day", "dau", "wau", "mau", "new_users", "events", "revenue"])
    return 0


def _cmd_funnel(args: argparse.Namespace, config: Any) -> int:
    from pmkit import dashboard, metrics
    from pmkit.store import Store

    if len(args.steps) < 2:
        raise UsageError("a funnel needs at least two steps (e.g. funnel signup create_report)")
    if args.window_days < 1:
        raise UsageError("--window-days must be at least 1")
    from pmkit.definitions import DefinitionError, load_definitions

    try:
        definitions = load_definitions(config)  # a saved funnel reads the rows kept at ingest
    except DefinitionError:
        definitions = None
    with _slow("Following users through the funnel"), Store(config.store_dir).reader() as reader:
        bounds = _period(reader, args.start, args.end)
        steps = metrics.funnel(
            reader,
            args.steps,
            window_days=args.window_days,
            period=metrics.Period(*bounds) if bounds else None,
            definitions=definitions,
        )
        rows = steps.select("event", "users", "conversion", "median_seconds").to_dicts()
        known = set(dashboard.event_names(reader, config))
    unknown = [step for step in dict.fromkeys(args.steps) if step not in known]
    if unknown and known:  # a typo gives 0 users, which reads as no conversion
        shown = ", ".join(sorted(known)[:20]) + (" …" if len(known) > 20 else "")
        print(
            f"pmkit funnel: no event named {', '.join(repr(s) for s in unknown)} is loaded "
            f"(names are matched exactly; loaded: {shown})",
            file=sys.stderr,
        )
    if args.json:
        _emit({"steps": rows})
    else:
        _print_table(rows, ["event", "users", "conversion", "median_seconds"])
    return 0


def _cmd_roadmap(args: argparse.Namespace, config: Any) -> int:
    from pmkit import roadmap_view
    from pmkit.store import Store

    with _slow("Checking the roadmap's health"), Store(config.store_dir).reader() as reader:
        view = roadmap_view.roadmap_report(reader, config, args.as_of)
        earliest = None
        if not view["items"] and args.as_of is not None and not args.json:
            earliest = reader.frame("SELECT min(snapshot_date) AS d FROM roadmap_items")["d"].item()
    if args.json:
        _emit(view)
    else:
        if earliest is not None:
            print(f"no roadmap snapshot on or before {args.as_of:%Y-%m-%d} (the earliest is {earliest:%Y-%m-%d})")
        elif not view["items"]:
            print("no roadmap loaded yet (run: python -m pmkit ingest jira_export.csv)")
        else:
            _print_table(
                view["items"],
                ["item_id", "title", "health", "progress", "schedule_index", "slip_days", "due_date", "reason"],
            )
        if view["objectives"]:  # both healths of each objective, as in --json
            print()
            _print_table(
                view["objectives"],
                ["objective_id", "title", "outcome_health", "delivery_health", "outcome_reason", "delivery_reason"],
            )
    return 0


def _cmd_report(args: argparse.Namespace, config: Any) -> int:
    from pmkit import report
    from pmkit.metrics.base import workspace_of
    from pmkit.store import Store

    if args.as_of is not None:
        with Store(config.store_dir).reader() as reader:
            first = workspace_of(reader).first_day
        if first is not None and args.as_of < first:
            raise UsageError(f"--as-of {args.as_of} is before the first loaded day, {first}: nothing to report by then")
    with _slow("Writing the report"):
        path = report.write_report(config, args.out, as_of=args.as_of)
    print(f"wrote {path}")
    return 0


def _cmd_hash_password(args: argparse.Namespace, _config: Any) -> int:
    import getpass

    from pmkit.auth import hash_password

    try:
        password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else getpass.getpass("Password: ")
    except EOFError:  # no terminal to ask on, and nothing on standard input
        raise UsageError("no password given: type it at the prompt, or pipe it in with --password-stdin") from None
    if len(password) < 10:
        raise UsageError("use a password of at least 10 characters")
    print(hash_password(password))
    return 0


def _publish_settings(config: Any, to: Path) -> None:
    """The source's pmkit.toml as the target's published.toml (config.PUBLISHED_TOML), written
    whole or not at all, after the store: the hosted app then defines the metrics and
    objectives as the PM does. A source without one leaves the target none."""
    from pmkit.config import PUBLISHED_TOML
    from pmkit.store import write_atomically

    source, target = config.data_dir / "pmkit.toml", to / PUBLISHED_TOML
    if not source.exists():
        target.unlink(missing_ok=True)
        return
    write_atomically(target, source.read_bytes())  # a full disk leaves no half copy (review)


def _cmd_publish(args: argparse.Namespace, config: Any) -> int:
    from pmkit.store import Store

    source = Store(config.store_dir)
    if args.to.resolve() == config.data_dir.resolve():
        raise UsageError(f"--to {args.to} is this workspace: give the hosted workspace's folder")
    if not source.current_version():
        raise UsageError(f"nothing to publish: {config.store_dir} has no data yet")
    target = Store(args.to / "store")

    def waiting() -> None:
        print(f"waiting for the ingest or publish writing to {target.root} to finish…", file=sys.stderr)

    version = source.publish_to(target, waiting)
    _publish_settings(config, args.to)
    print(f"published version {version} to {args.to / 'store'}")
    return 0
