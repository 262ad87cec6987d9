"""The ingest command end to end: what a bad file does to the exit code, the output and the store."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pmkit.cli import main
from pmkit.config import load_config
from pmkit.ingest import ingest
from pmkit.store import Store

RAGGED = (
    "event_time,user_id,event\n"
    "2026-03-01T10:00:00Z,u1,a\n"
    "2026-03-01T10:00:00Z,u2\n"  # cut short
    "2026-03-01T10:00:00Z,u3,a,extra\n"  # one field too many
)
RAGGED_MESSAGES = [
    "ragged.csv, row 3: this row has 2 fields but the header has 3 (the row is cut short or has an extra comma; fix or remove the row)",
    "ragged.csv, row 4: this row has 4 fields but the header has 3 (the row is cut short or has an extra comma; fix or remove the row)",
]


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def loaded_users(data_dir: Path) -> list[str]:
    with Store(load_config(data_dir).store_dir).reader() as reader:
        return sorted(reader.frame("SELECT user_id FROM events")["user_id"].to_list())


def test_skip_bad_rows_loads_the_good_rows_of_a_ragged_file(tmp_path: Path):
    config = load_config(tmp_path / "ws")
    (result,) = ingest([write(tmp_path / "ragged.csv", RAGGED.encode())], config, skip_bad_rows=True)
    assert (result.status, result.rows_loaded, result.rows_rejected) == ("loaded", 1, 2)
    assert result.messages() == RAGGED_MESSAGES
    assert loaded_users(config.data_dir) == ["u1"]
    with Store(config.store_dir).reader() as reader:
        recorded = json.loads(reader.frame("SELECT errors FROM loaded_files")["errors"].item())
    assert [e["row"] for e in recorded] == [3, 4]


def test_cli_skip_bad_rows_exits_0_for_a_ragged_file(tmp_path: Path, capsys):
    path = write(tmp_path / "ragged.csv", RAGGED.encode())
    assert main(["ingest", "--skip-bad-rows", "--json", "--data", str(tmp_path / "ws"), str(path)]) == 0
    assert loaded_users(tmp_path / "ws") == ["u1"]


def test_without_skip_bad_rows_a_ragged_file_is_rejected_naming_each_row(tmp_path: Path, capsys):
    path = write(tmp_path / "ragged.csv", RAGGED.encode())
    assert main(["ingest", "--data", str(tmp_path / "ws"), str(path)]) == 1
    err = capsys.readouterr().err
    assert all(message in err for message in RAGGED_MESSAGES)
    assert loaded_users(tmp_path / "ws") == []


def test_utf8_file_with_a_stray_byte_is_rejected_not_read_as_windows_1252(tmp_path: Path, capsys):
    data = (
        b"event_time,user_id,event,country\n2026-03-01T10:00:00Z,u1,a,Z\xc3\xbcrich\n2026-03-01T11:00:00Z,u2,a,US\xff\n"
    )
    path = write(tmp_path / "stray.csv", data)
    assert main(["ingest", "--data", str(tmp_path / "ws"), str(path)]) == 1
    err = capsys.readouterr().err
    assert "stray.csv, row 3, column \"country\": 'US' is followed by the byte 0xff, which is not UTF-8" in err
    assert "save the file as UTF-8" in err
    assert loaded_users(tmp_path / "ws") == []


def test_windows_1252_file_loads_its_letters(tmp_path: Path):
    text = (
        "event_time,user_id,event,country\n2026-03-01T10:00:00Z,u1,a,Côte d'Ivoire\n2026-03-01T11:00:00Z,u2,a,München\n"
    )
    path = write(tmp_path / "cp1252.csv", text.encode("cp1252"))
    assert main(["ingest", "--data", str(tmp_path / "ws"), str(path)]) == 0
    with Store(load_config(tmp_path / "ws").store_dir).reader() as reader:
        countries = reader.frame("SELECT country FROM events ORDER BY user_id")["country"].to_list()
    assert countries == ["Côte d'Ivoire", "München"]


def test_a_byte_windows_1252_lacks_is_named_not_loaded_as_a_replacement(tmp_path: Path, capsys):
    """A file that is neither UTF-8 nor Windows-1252 (0x81, as Shift-JIS writes) loaded "fine",
    its cells holding replacement characters: two users differing only there became one (QA).
    It is refused naming the row, the column and the fix."""
    data = "event_time,user_id,event,plan\n2026-03-01T10:00:00Z,u1,a,Caf\xe9\n".encode("cp1252")
    data += b"2026-03-01T11:00:00Z,u2,a,pro\x81\n"
    path = write(tmp_path / "mixed.csv", data)
    assert main(["ingest", "--data", str(tmp_path / "ws"), str(path)]) == 1
    err = capsys.readouterr().err
    assert (
        "mixed.csv, row 3, column \"plan\": 'pro' is followed by the byte 0x81, which is neither UTF-8 nor "
        "Windows-1252 (a file in another encoding, such as Shift-JIS: open it and save the file as UTF-8, "
        'e.g. Excel\'s "CSV UTF-8")'
    ) in err, err


def test_a_file_cut_off_in_its_last_row_says_so_and_its_other_rows_can_load(tmp_path: Path):
    """The last line cut short with no line break after it: named as a cut-off file, not as a
    row with a missing comma; with --skip-bad-rows the rows before it load."""
    text = "event_time,user_id,event,plan\n2026-03-01T10:00:00Z,u1,a,free\n2026-03-01T11:00:00Z,u2,log"
    config = load_config(tmp_path / "ws")
    (rejected,) = ingest([write(tmp_path / "cut.csv", text.encode())], config)
    assert rejected.status == "rejected"
    assert rejected.messages() == [
        "cut.csv, row 3: this row has 3 of 4 fields and no line break after it (the file may be cut off; export it again)"
    ]
    (loaded,) = ingest([write(tmp_path / "cut2.csv", text.encode())], config, skip_bad_rows=True)
    assert (loaded.rows_loaded, loaded.rows_rejected) == (1, 1)
    assert loaded_users(config.data_dir) == ["u1"]


def test_a_setting_that_is_not_a_number_is_named_with_its_file_or_variable(tmp_path, capsys, monkeypatch) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "pmkit.toml").write_text('[ingest]\nmax_rows = "lots"\n')
    assert main(["kpis", "--data", str(workspace)]) == 2
    assert capsys.readouterr().err == (
        f"pmkit: {workspace / 'pmkit.toml'}: ingest.max_rows must be a number, 0 or more (the default is 20000000), not 'lots'\n"
    )
    (workspace / "pmkit.toml").write_text("[app]\nnew_data_check_seconds = 5\n")
    assert load_config(workspace).get("app.new_data_check_seconds") == 5
    monkeypatch.setenv("PMKIT_NEW_DATA_CHECK_SECONDS", "soon")
    assert main(["kpis", "--data", str(workspace)]) == 2
    assert capsys.readouterr().err == (
        "pmkit: PMKIT_NEW_DATA_CHECK_SECONDS: app.new_data_check_seconds must be a number, not 'soon'\n"
    )
    monkeypatch.setenv("PMKIT_NEW_DATA_CHECK_SECONDS", "2")
    assert load_config(workspace).get("app.new_data_check_seconds") == 2
    monkeypatch.setenv("PMKIT_MAX_ROWS", "inf")
    assert main(["kpis", "--data", str(workspace)]) == 2
    assert (
        "PMKIT_MAX_ROWS: ingest.max_rows must be a number, 0 or more (the default is 20000000), not inf"
        in capsys.readouterr().err
    )
    monkeypatch.setenv("PMKIT_MAX_ROWS", "-1")
    assert main(["kpis", "--data", str(workspace)]) == 2
    assert (
        "PMKIT_MAX_ROWS: ingest.max_rows must be a number, 0 or more (the default is 20000000), not -1.0"
        in capsys.readouterr().err
    )


def test_a_time_zone_that_is_not_one_is_named_with_its_file_or_variable(tmp_path, capsys, monkeypatch) -> None:
    """PMKIT_TIMEZONE's bad value was blamed on pmkit.toml, which had no time zone at all (QA)."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "pmkit.toml").write_text('[workspace]\ntimezone = "Mars/Olympus"\n')
    assert main(["kpis", "--data", str(workspace)]) == 2
    assert capsys.readouterr().err.startswith(f"pmkit: {workspace / 'pmkit.toml'}: workspace.timezone 'Mars/Olympus'")
    (workspace / "pmkit.toml").write_text("")
    monkeypatch.setenv("PMKIT_TIMEZONE", "Europe/Atlantis")
    assert main(["kpis", "--data", str(workspace)]) == 2
    assert capsys.readouterr().err.startswith("pmkit: PMKIT_TIMEZONE: workspace.timezone 'Europe/Atlantis'")


def test_a_file_that_cannot_be_read_is_rejected_and_the_others_still_load(tmp_path: Path, capsys):
    """/proc/self/mem is a file whose read fails (EIO at offset 0): a real OSError, which once
    stopped the whole ingest with a traceback."""
    good = write(tmp_path / "good.csv", b"event_time,user_id,event\n2026-03-01T10:00:00Z,u1,a\n")
    assert main(["ingest", "--data", str(tmp_path / "ws"), "/proc/self/mem", str(good)]) == 1
    err = capsys.readouterr().err
    assert "mem: cannot be read: Input/output error (check that it is a readable, complete file)" in err
    assert "Traceback" not in err
    assert loaded_users(tmp_path / "ws") == ["u1"]


def test_a_fault_on_one_inbox_file_rejects_that_file_and_the_batch_goes_on(tmp_path: Path, monkeypatch):
    """A bug met on one file (injected: the roadmap store raises) is that file's rejection; the
    events beside it load and the inbox is emptied, so the next batch is not stopped by it."""
    import pmkit.ingest as ingest_module
    from pmkit.ingest import ingest_inbox

    config = load_config(tmp_path / "ws")
    config.inbox.mkdir(parents=True)
    write(config.inbox / "a_roadmap.csv", b"item_id,title\nEP-1,Faster exports\n")
    write(config.inbox / "b_events.csv", b"event_time,user_id,event\n2026-03-01T10:00:00Z,u1,a\n")

    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(ingest_module, "_store_roadmap", broken)
    roadmap, events = ingest_inbox(config)
    assert (roadmap.status, events.status) == ("rejected", "loaded")
    assert roadmap.messages() == [
        "a_roadmap.csv: pmkit failed on this file (RuntimeError: boom); the other files were still loaded. "
        "This is a bug in pmkit: please report it with the file's header line"
    ]
    assert list(config.inbox.iterdir()) == []
    assert (config.rejected / "a_roadmap.csv").exists() and (config.archive / "b_events.csv").exists()
    assert loaded_users(config.data_dir) == ["u1"]
    with Store(config.store_dir).reader() as reader:
        assert reader.frame("SELECT count(*) AS n FROM roadmap_items")["n"].item() == 0


RAGGED_BY_FORMAT = {
    # (kind, format): (header, a good row, a row one field short); the row cut short is row 3 in each.
    ("roadmap", "pmkit"): ("item_id,title,status", "EP-1,Exports,done", "EP-2,Imports"),
    ("roadmap", "jira"): ("Issue key,Summary,Status", "PROJ-1,Exports,Done", "PROJ-2,Imports"),
    ("roadmap", "linear"): ("ID,Title,Status,Team", "ENG-1,Exports,Done,Core", "ENG-2,Imports,Todo"),
    ("roadmap", "plane"): ("Identifier,Name,State", "PROJ-1,Exports,Done", "PROJ-2,Imports"),
    ("objectives", "pmkit objectives CSV"): (
        "objective_id,title,metric,baseline,target,start_date,target_date,direction,owner",
        "OBJ-1,Grow use,dau,1,2,2026-01-01,2026-06-30,increase,Ana",
        "OBJ-2,Keep users,wau,1,2,2026-01-01,2026-06-30,increase",
    ),
    ("feedback", "pmkit feedback CSV"): (
        "submitted_at,user_id,score,scale,comment",
        "2026-03-01,u1,9,nps,Good",
        "2026-03-02,u2,3",
    ),
}


def test_ragged_rows_of_roadmap_objectives_and_feedback_files_are_skipped_or_named(tmp_path: Path):
    """As for events: without --skip-bad-rows the row is named and nothing loads; with it the
    good row loads and the short one is counted. Before, these readers rejected the file even
    with --skip-bad-rows."""
    for index, ((kind, fmt), (header, good, short)) in enumerate(RAGGED_BY_FORMAT.items()):
        path = write(tmp_path / f"file{index}.csv", f"{header}\n{good}\n{short}\n".encode())
        fields, width = short.count(",") + 1, header.count(",") + 1
        message = (
            f"file{index}.csv, row 3: this row has {fields} fields but the header has {width} "
            "(the row is cut short or has an extra comma; fix or remove the row)"
        )
        (refused,) = ingest([path], load_config(tmp_path / f"strict{index}"))
        assert (refused.status, refused.messages()) == ("rejected", [message]), fmt
        (loaded,) = ingest([path], load_config(tmp_path / f"lenient{index}"), skip_bad_rows=True)
        assert (loaded.kind, loaded.format, loaded.status, loaded.rows_loaded, loaded.rows_rejected) == (
            kind,
            fmt,
            "loaded",
            1,
            1,
        )
        assert loaded.messages() == [message]


def test_a_roadmap_snapshot_replaced_by_another_file_says_so(tmp_path: Path):
    """Two teams' exports of one tool for one day: the second replaces the first (one snapshot
    per tool and day). It did so with only "loaded 1 rows"; now the summary says what went. It
    advised loading each team's export under its own date, where the later date's export alone is
    the tool's roadmap (roadmap QA)."""
    config = load_config(tmp_path / "ws")
    day = dt.date(2026, 3, 11)
    first = write(tmp_path / "team_a.csv", b"item_id,title\nA-1,One\nA-2,Two\n")
    second = write(tmp_path / "team_b.csv", b"item_id,title\nB-1,Three\n")
    (a,) = ingest([first], config, as_of=day)
    assert (a.rows_replaced, a.summary()) == (0, "team_a.csv: loaded 2 rows as roadmap (pmkit)")
    (b,) = ingest([second], config, as_of=day)
    assert b.rows_replaced == 2 and b.as_json()["rows_replaced"] == 2
    assert b.summary() == (
        "team_b.csv: loaded 1 row as roadmap (pmkit); it replaced the 2 items loaded before for 11 Mar 2026 from "
        "the same tool (a tool's latest snapshot is its whole roadmap: load one export holding every team's items)"
    )
    with Store(config.store_dir).reader() as reader:
        assert reader.frame("SELECT item_id FROM roadmap_items")["item_id"].to_list() == ["B-1"]


def test_a_later_snapshot_says_which_items_of_the_tools_last_one_leave_the_roadmap(tmp_path: Path):
    """Team A's Jira export on 10-15, team B's on 10-16: the roadmap is B's alone from then on (a
    tool's latest snapshot is its whole roadmap), and A's items went without a word (roadmap QA).
    Older history loaded later changes no current roadmap, and says nothing."""
    config = load_config(tmp_path / "ws")
    header = b"Issue key,Summary,Status,Due date,Project name\n"
    team_a = write(tmp_path / "team_a.csv", header + b"A-1,one,In Progress,25/Dec/26,Alpha\nA-2,two,To Do,,Alpha\n")
    team_b = write(tmp_path / "team_b.csv", header + b"B-1,three,In Progress,25/Dec/26,Beta\n")
    (a,) = ingest([team_a], config, as_of=dt.date(2026, 10, 15))
    (b,) = ingest([team_b], config, as_of=dt.date(2026, 10, 16))
    assert (a.items_gone, b.items_gone, b.gone_from) == ((), ("A-1", "A-2"), dt.date(2026, 10, 15))
    assert b.as_json()["items_gone"] == ["A-1", "A-2"]
    assert b.summary() == (
        "team_b.csv: loaded 1 row as roadmap (jira); 2 items of the same tool's snapshot of 15 Oct 2026 "
        "are not in it and leave the roadmap (A-1, A-2): a tool's latest snapshot is its whole roadmap (if another "
        "team's export holds them, load one export holding every team's items)"
    )
    earlier = write(tmp_path / "team_b_sep.csv", header + b"B-1,three,To Do,25/Dec/26,Beta\n")
    (old,) = ingest([earlier], config, as_of=dt.date(2026, 10, 1))  # history before both
    assert (old.status, old.items_gone) == ("loaded", ())
    pmkit_export = write(tmp_path / "mine.csv", b"item_id,title\nP-1,Mine\n")  # another tool: nothing gone
    assert ingest([pmkit_export], config, as_of=dt.date(2026, 10, 17))[0].items_gone == ()


def test_an_excel_workbook_is_named_as_such_and_a_one_field_row_in_the_singular(tmp_path: Path, capsys):
    import zipfile

    workbook = tmp_path / "events.csv"  # an .xlsx renamed: a zip file
    with zipfile.ZipFile(workbook, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    short = write(tmp_path / "short.csv", b"event_time,user_id,event\n2026-03-01T10:00:00Z,u1,a\nonly\n")
    assert main(["ingest", "--data", str(tmp_path / "ws"), str(workbook), str(short)]) == 1
    err = capsys.readouterr().err
    assert (
        "events.csv: this is a zip file, most likely an Excel workbook (.xlsx); open it and save the sheet as CSV"
        in err
    )
    assert "short.csv, row 3: this row has 1 field but the header has 3" in err


def test_kpis_stop_at_today_beside_events_dated_after_it(tmp_path: Path, capsys):
    """The daily rows ran to the later event's day while the retention cohorts stopped at today:
    one output, two ranges. Both now end today, as the pages do; --end still reaches further."""
    today = dt.datetime.now(dt.UTC).date()
    start, later = today - dt.timedelta(days=3), today + dt.timedelta(days=20)
    path = write(
        tmp_path / "clock.csv",
        f"event_time,user_id,event\n{start}T10:00:00Z,u1,login\n{later}T10:00:00Z,u2,login\n".encode(),
    )
    assert main(["ingest", "--data", str(tmp_path / "ws"), str(path)]) == 0
    capsys.readouterr()
    assert main(["kpis", "--json", "--data", str(tmp_path / "ws")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [row["day"] for row in out["daily"]] == [str(start + dt.timedelta(days=k)) for k in range(4)]
    assert main(["kpis", "--json", "--data", str(tmp_path / "ws"), "--end", str(later)]) == 0
    assert json.loads(capsys.readouterr().out)["daily"][-1]["day"] == str(later)


def test_roadmap_prints_the_objectives_with_both_healths(tmp_path: Path, capsys):
    """The text output listed the items only, where README promises every item and objective."""
    from tests.known_workspace import build_known_workspace

    root = build_known_workspace(tmp_path / "ws")
    assert main(["roadmap", "--data", str(root), "--as-of", "2026-03-11"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("objective_id"))
    assert lines[header].split()[:4] == ["objective_id", "title", "outcome_health", "delivery_health"]
    assert lines[header + 1].startswith("OBJ-9") and "off_track" in lines[header + 1] and "late" in lines[header + 1]


def test_the_demo_is_never_written_over_a_workspace_or_into_a_read_only_one(tmp_path: Path, capsys, monkeypatch):
    """`PMKIT_READ_ONLY=1 pmkit demo --out ws` replaced the workspace's pmkit.toml (its metrics,
    and read_only = true with them) and published a new version (security QA)."""
    root = tmp_path / "ws"
    root.mkdir()
    settings = '[workspace]\nread_only = true\n\n[metrics.mine]\nname = "Mine"\ntype = "count"\nevent = "a"\n'
    (root / "pmkit.toml").write_text(settings)
    assert main(["demo", "--out", str(root), "--events", "1000"]) == 2
    assert "is read-only" in capsys.readouterr().err
    (root / "pmkit.toml").write_text(settings.replace("read_only = true", ""))
    assert main(["demo", "--out", str(root), "--events", "1000"]) == 2
    assert "already holds a workspace" in capsys.readouterr().err
    assert "[metrics.mine]" in (root / "pmkit.toml").read_text() and not (root / "inbox").exists()
    monkeypatch.setenv("PMKIT_READ_ONLY", "1")
    assert main(["demo", "--out", str(tmp_path / "new"), "--events", "1000"]) == 2


def test_a_demo_ending_after_today_is_refused_before_a_file_is_written(tmp_path: Path, capsys):
    """Its roadmap snapshots, named by dates after today, were rejected: a demo without a roadmap."""
    ahead = dt.date.today() + dt.timedelta(days=1)
    assert main(["demo", "--out", str(tmp_path / "ws"), "--events", "1000", "--end", str(ahead)]) == 2
    assert (
        capsys.readouterr().err
        == f"pmkit demo: --end {ahead} is after today: the demo's data ends on a day that has come\n"
    )
    assert not (tmp_path / "ws").exists()


def _small_workspace(tmp_path: Path) -> Path:
    data = tmp_path / "ws"
    csv = write(
        tmp_path / "events.csv",
        b"event_time,user_id,event\n2026-03-02T10:00:00Z,u1,signup\n2026-03-03T10:00:00Z,u1,create_report\n",
    )
    assert main(["ingest", "--data", str(data), str(csv)]) == 0
    return data


def test_paths_that_cannot_be_used_are_named_with_exit_2(tmp_path: Path, capsys):
    # Each was a raw traceback with exit 1 (QA).
    data = _small_workspace(tmp_path)
    capsys.readouterr()
    blocker = write(tmp_path / "a-file", b"")
    cases = [
        (["report", "--data", str(data), "--out", str(tmp_path)], f"{tmp_path} is a folder: give a file path"),
        (["publish", "--data", str(data), "--to", str(blocker)], f"{blocker} is a file, where a folder is needed"),
        (["demo", "--out", str(blocker), "--events", "1000"], f"{blocker} is a file, where a folder is needed"),
        (["kpis", "--data", str(tmp_path / "typo")], f"no workspace at {tmp_path / 'typo'} (check --data"),
        (["publish", "--data", str(data), "--to", str(data)], "is this workspace: give the hosted workspace's folder"),
        (
            ["report", "--data", str(data), "--as-of", "2026-03-01", "--out", str(tmp_path / "r.html")],
            "--as-of 2026-03-01 is before the first loaded day, 2026-03-02: nothing to report by then",
        ),
        # QA: "cannot use .../a-file: File exists".
        (["report", "--data", str(data), "--out", str(blocker / "r.html")], f"{blocker} is a file, where a folder"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (argv, err)
    assert not (tmp_path / "r.html").exists()


def test_a_snapshot_date_after_today_is_refused(tmp_path: Path, capsys):
    roadmap = write(tmp_path / "roadmap.csv", b"item_id,title,status\nA-1,One,To Do\n")
    later = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    assert main(["ingest", "--data", str(tmp_path / "ws"), "--as-of", later, str(roadmap)]) == 2
    assert f"--as-of {later} is after today" in capsys.readouterr().err
    assert Store(load_config(tmp_path / "ws").store_dir).current_version() == 0


def test_a_funnel_step_no_event_is_named_is_said(tmp_path: Path, capsys):
    data = _small_workspace(tmp_path)
    capsys.readouterr()
    assert main(["funnel", "signup", "creat_report", "--data", str(data), "--json"]) == 0
    captured = capsys.readouterr()
    assert [s["users"] for s in json.loads(captured.out)["steps"]] == [1, 0]
    assert "no event named 'creat_report' is loaded (names are matched exactly; loaded: create_report, signup)" in (
        captured.err
    )
    assert main(["funnel", "signup", "create_report", "--data", str(data)]) == 0
    assert capsys.readouterr().err == ""


def test_hash_password_with_nothing_to_read_says_how_to_give_one(monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    monkeypatch.setattr("getpass.getpass", lambda prompt: (_ for _ in ()).throw(EOFError()))
    assert main(["hash-password"]) == 2
    assert "no password given" in capsys.readouterr().err


def test_roadmap_lists_the_objectives_without_a_roadmap_snapshot(tmp_path: Path, capsys):
    data = _small_workspace(tmp_path)
    objectives = write(
        tmp_path / "objectives.csv",
        b"objective_id,title,metric,baseline,target,start_date,target_date,direction,owner\n"
        b"O1,Grow use,dau,1,5,2026-03-01,2026-06-30,increase,Ann\n",
    )
    assert main(["ingest", "--data", str(data), str(objectives)]) == 0
    capsys.readouterr()
    assert main(["roadmap", "--data", str(data), "--json"]) == 0
    view = json.loads(capsys.readouterr().out)
    assert view["items"] == []
    assert [(o["objective_id"], o["delivery_reason"]) for o in view["objectives"]] == [
        ("O1", "no roadmap items linked to this objective")
    ]
    assert main(["roadmap", "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "no roadmap loaded yet" in out and "O1" in out


def test_settings_and_tables_of_the_wrong_shape_are_named_with_the_fix(tmp_path, capsys) -> None:
    # Each failed inside pmkit with a traceback, and active_events = "login" was read letter by
    # letter: every user inactive, DAU 0 on every day (QA).
    workspace = tmp_path / "ws"
    workspace.mkdir()
    toml = workspace / "pmkit.toml"
    cases = {
        'metrics = "x"': "metrics must be one table per entry, each headed like [metrics.activation], not 'x'",
        '[[metrics]]\ntype = "count"': "metrics must be one table per entry, each headed like [metrics.activation]",
        "objectives = [1]": "objectives must be one table per entry, each headed like [objectives.OBJ-1], not [1]",
        "workspace = 3": "workspace must be a table of settings, written [workspace] on a line of its own",
        "[workspace]\ntimezone = 5": 'workspace.timezone must be text in quotes (e.g. "UTC"), not 5',
        '[workspace]\nactive_events = "login"': (
            'workspace.active_events must be a list of names in brackets (e.g. active_events = ["login", '
            "\"create_report\"]), not 'login'"
        ),
        '[workspace]\nactive_events = ["login", ""]': "workspace.active_events must be a list of names in brackets",
        # A setting pmkit does not know was ignored: the workspace stayed in UTC (QA).
        'timezone = "Europe/Berlin"': "timezone is not a setting at the top of the file: it belongs under [workspace] (workspace.timezone)",
        'colour = "red"': "colour is not a setting at the top of the file: the settings are tables: [app], [impact],",
        '[workspace]\ntimzone = "Europe/Berlin"': "[workspace] has no setting timzone (its settings: active_events, demo, read_only, timezone)",
    }
    for text, message in cases.items():
        toml.write_text(text + "\n")
        assert main(["kpis", "--data", str(workspace)]) == 2, text
        err = capsys.readouterr().err
        assert err.startswith(f"pmkit: {toml}: {message}"), (text, err)
    toml.write_text('[workspace]\nactive_events = ["login"]\n')
    assert load_config(workspace).get("workspace.active_events") == ["login"]


def test_metric_tables_that_cannot_be_used_and_events_not_loaded_are_said_on_stderr(tmp_path: Path, capsys):
    # The CLI printed its numbers with those metrics left out, or counting a typo as 0, silently (QA).
    data = _small_workspace(tmp_path)
    (data / "pmkit.toml").write_text(
        '[workspace]\nactive_events = ["signup", "creat_report"]\n\n'
        '[metrics.broken]\ntype = "counter"\nevent = "signup"\n\n'
        '[metrics.reports]\ntype = "count"\nevent = "create_reprot"\n'
    )
    capsys.readouterr()
    assert main(["kpis", "--data", str(data), "--json"]) == 0
    err = capsys.readouterr().err.splitlines()
    toml = data / "pmkit.toml"
    assert err[0].startswith(f"pmkit: {toml}: metrics.broken: type 'counter' is not a metric type")
    assert err[1:] == [
        f"pmkit: {toml}: workspace.active_events: event 'creat_report' is not in the loaded events (did you mean 'create_report'?)",
        f"pmkit: {toml}: metrics.reports: event 'create_reprot' is not in the loaded events (did you mean 'create_report'?)",
        # active_events changed after the load: the numbers follow it from the next ingest.
        f"pmkit: {toml}: workspace.active_events changed, but the numbers are still counted as before it: "
        "`python -m pmkit ingest` rebuilds them (so does the next file loaded)",
    ]


def test_publish_carries_the_pms_metrics_and_objectives_to_the_hosted_workspace(tmp_path: Path, capsys):
    # The hosted workspace had the PM's events but not their definitions: objectives on a saved
    # metric read "no data: metric 'activation' is not defined", the saved funnel was another (QA).
    data = _small_workspace(tmp_path)
    (data / "pmkit.toml").write_text(
        '[workspace]\ntimezone = "UTC"\nread_only = false\n\n'
        '[metrics.activation]\ntype = "funnel"\nsteps = ["signup", "create_report"]\nwindow_days = 1\n\n'
        '[objectives.O1]\nmetric = "activation"\nbaseline = 0.1\ntarget = 0.9\n'
        'start_date = 2026-03-01\ntarget_date = 2026-06-30\ndirection = "increase"\n'
    )
    hosted = tmp_path / "hosted"
    hosted.mkdir()
    (hosted / "pmkit.toml").write_text("[workspace]\nread_only = true\n\n[impact]\nwindow_days = 14\n")
    assert main(["publish", "--data", str(data), "--to", str(hosted)]) == 0
    config = load_config(hosted)
    assert config.read_only  # the hosted file's own deployment settings win
    assert config.get("impact.window_days") == 14
    assert sorted(config.metrics) == ["activation"] and sorted(config.objectives) == ["O1"]
    capsys.readouterr()
    views = []
    for folder in (data, hosted):
        assert main(["roadmap", "--data", str(folder), "--json"]) == 0
        views.append(
            [(o["objective_id"], o["outcome_health"]) for o in json.loads(capsys.readouterr().out)["objectives"]]
        )
    assert views[0] == views[1] and views[0][0][1] != "no_data"
    # The PM takes the metric out: the next publish takes it out of the hosted app too.
    (data / "pmkit.toml").write_text('[workspace]\ntimezone = "UTC"\n')
    assert main(["publish", "--data", str(data), "--to", str(hosted)]) == 0
    assert load_config(hosted).metrics == {}


def test_a_store_whose_published_version_is_missing_or_damaged_is_named_with_the_fix(tmp_path: Path, capsys):
    """store/CURRENT naming a version whose file is gone, or a version file that is not DuckDB's:
    each reading command ended in DuckDB's traceback (QA)."""
    data = tmp_path / "ws"
    events = write(tmp_path / "events.csv", b"event_time,user_id,event\n2026-03-01T10:00:00Z,u1,login\n")
    assert main(["ingest", "--data", str(data), str(events)]) == 0
    store = Store(data / "store")
    version = store.current_version()
    capsys.readouterr()
    store.version_path(version).write_bytes(b"not a database" * 1000)
    assert main(["kpis", "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert f"store{'/'}CURRENT names version {version}, which cannot be read" in err
    assert "not a valid DuckDB database file" in err and "Restore the store folder from a backup" in err
    store.version_path(version).unlink()
    (data / "store" / "CURRENT").write_text("7\n")
    assert main(["roadmap", "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert "CURRENT names version 7, which cannot be read" in err and "Traceback" not in err
    # Not a number: it read as "nothing loaded" (kpis printed no day and exit 0; hosted QA), and
    # an ingest would have published a store holding only its own file.
    (data / "store" / "CURRENT").write_text("../../../../etc/passwd\n")
    assert main(["kpis", "--data", str(data), "--json"]) == 2
    err = capsys.readouterr().err
    assert "should hold the published version's number and holds '../../../../etc/passwd'" in err
    assert main(["ingest", "--data", str(data), str(events)]) == 2
    assert "should hold the published version's number" in capsys.readouterr().err
    assert (data / "store" / "CURRENT").read_text() == "../../../../etc/passwd\n"
    # Empty, as a truncated write leaves it: the same (review: it read as nothing loaded, and an
    # ingest wrote version 1 over the published store).
    (data / "store" / "CURRENT").write_text("")
    assert main(["ingest", "--data", str(data), str(events)]) == 2
    assert "should hold the published version's number and holds ''" in capsys.readouterr().err
    assert main(["kpis", "--data", str(data)]) == 2


def test_a_workspace_path_with_a_backslash_is_refused_by_name(tmp_path: Path, capsys, monkeypatch):
    """DuckDB reads a backslash as a folder separator: `demo --out 'a\\b'` wrote the demo's files,
    then failed with DuckDB's IOException traceback opening a/b/store; the app showed it too."""
    odd = tmp_path / "back\\slash"
    assert main(["demo", "--out", str(odd), "--events", "1000"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"pmkit: {odd}: the workspace's path holds a backslash")
    assert "point --data or PMKIT_DATA at a path without one" in err
    assert not odd.exists()  # refused before a file is written
    odd.mkdir()
    monkeypatch.chdir(odd)  # the default workspace, ./data, under it
    assert main(["kpis"]) == 2
    assert f"{odd / 'data'}: the workspace's path holds a backslash" in capsys.readouterr().err
    (tmp_path / "link").symlink_to(odd)  # a path without one, to a folder with one (review QA)
    assert main(["kpis", "--data", str(tmp_path / "link")]) == 2
    assert f"{odd}: the workspace's path holds a backslash" in capsys.readouterr().err


def test_a_time_zone_change_is_said_until_a_bare_ingest_rebuilds_the_rollups(tmp_path: Path, capsys) -> None:
    """u1 at 2026-03-02T03:00Z is on 2 Mar in UTC, on 1 Mar in New York. After the zone changed in
    pmkit.toml, `kpis` printed the UTC days without a word, and `ingest` with an empty inbox said
    "nothing to load" and rebuilt nothing (ingest QA): the numbers moved only when some file was
    loaded."""
    data = tmp_path / "ws"
    data.mkdir()
    (data / "pmkit.toml").write_text('[workspace]\ntimezone = "UTC"\n')
    events = tmp_path / "events.csv"
    events.write_text("event_time,user_id,event\n2026-03-01T12:00:00Z,u0,login\n2026-03-02T03:00:00Z,u1,login\n")
    assert main(["ingest", str(events), "--data", str(data)]) == 0
    (data / "pmkit.toml").write_text('[workspace]\ntimezone = "America/New_York"\n')
    capsys.readouterr()

    def days() -> dict[str, int]:
        assert main(["kpis", "--data", str(data), "--json"]) == 0
        return {row["day"]: row["dau"] for row in json.loads(capsys.readouterr().out)["daily"]}

    assert main(["kpis", "--data", str(data), "--json"]) == 0
    captured = capsys.readouterr()
    assert {r["day"]: r["dau"] for r in json.loads(captured.out)["daily"]} == {"2026-03-01": 1, "2026-03-02": 1}
    assert "the time zone changed from UTC to America/New_York, but the numbers are still counted as before it" in (
        captured.err
    )
    assert main(["ingest", "--data", str(data)]) == 0
    err = capsys.readouterr().err
    assert "nothing to load" not in err  # something was done: the one line says what
    assert "the time zone changed from UTC to America/New_York: the rollups were rebuilt" in err
    assert days() == {"2026-03-01": 2}
    assert main(["kpis", "--data", str(data)]) == 0
    assert "time zone changed" not in capsys.readouterr().err


def test_what_is_not_ready_in_the_inbox_does_not_fail_the_run(tmp_path: Path, capsys) -> None:
    """A folder left in the inbox made every scheduled `ingest` exit 1 (review): it stays there,
    is said on stderr and in --json, and the run exits 0."""
    data = tmp_path / "ws"
    (data / "inbox" / "march").mkdir(parents=True)
    write(data / "inbox" / "good.csv", b"event_time,user_id,event\n2026-03-01T10:00:00Z,u1,login\n")
    assert main(["ingest", "--data", str(data), "--json"]) == 0
    captured = capsys.readouterr()
    files = {Path(f["path"]).name: f for f in json.loads(captured.out)["files"]}
    assert files["march"]["left_in_inbox"] is True and files["good.csv"]["left_in_inbox"] is False
    assert "a folder: put its files into the inbox itself" in captured.err
    write(data / "inbox" / "bad.csv", b"event_time,user_id,event\nnot a time,u1,login\n")
    assert main(["ingest", "--data", str(data)]) == 1  # a file refused still fails the run


def test_a_missing_or_zero_current_beside_a_version_stops_ingest_and_publish(tmp_path: Path, capsys) -> None:
    """Review: no CURRENT beside v000001 (a workspace loaded once), or "0", read as nothing
    loaded, and the next ingest wrote version 1 over it; publish restarted a damaged target at 1."""
    events = write(tmp_path / "events.csv", b"event_time,user_id,event\n2026-03-01T10:00:00Z,u1,login\n")
    other = write(tmp_path / "other.csv", b"event_time,user_id,event\n2026-03-02T10:00:00Z,u2,login\n")
    for damage in ("0\n", None):
        data = tmp_path / f"ws-{damage is None}"
        assert main(["ingest", "--data", str(data), str(events)]) == 0
        current = data / "store" / "CURRENT"
        current.unlink() if damage is None else current.write_text(damage)
        version_file = data / "store" / "v000001.duckdb"
        before = version_file.read_bytes()
        capsys.readouterr()
        assert main(["ingest", "--data", str(data), str(other)]) == 2
        assert "Restore the store folder from a backup" in capsys.readouterr().err
        assert main(["kpis", "--data", str(data)]) == 2
        capsys.readouterr()
        good = tmp_path / f"good-{damage is None}"
        assert main(["ingest", "--data", str(good), str(other)]) == 0
        assert main(["publish", "--data", str(good), "--to", str(data)]) == 2
        assert "Restore the store folder from a backup" in capsys.readouterr().err
        assert version_file.read_bytes() == before


def test_ingest_json_carries_every_warning_the_text_gives(tmp_path: Path, capsys):
    """Rows counted again (a second export without ids overlapping the first) and objectives on
    metrics not defined were said in text only: `--json` said 5 rows loaded, no word, and the
    overlap was counted twice (ingest QA)."""
    header = "event_time,user_id,event\n"
    first = write(
        tmp_path / "a.csv", (header + "2026-03-01T10:00:00Z,u1,login\n2026-03-01T11:00:00Z,u2,login\n").encode()
    )
    second = write(
        tmp_path / "b.csv", (header + "2026-03-01T11:00:00Z,u2,login\n2026-03-02T10:00:00Z,u1,login\n").encode()
    )
    goals = write(
        tmp_path / "objectives.csv",
        b"objective_id,title,metric,baseline,target,start_date,target_date,direction,owner\n"
        b"O9,Other,no_such_metric,1,3,2026-03-01,2026-12-31,increase,Ann\n",
    )
    data = str(tmp_path / "ws")
    assert main(["ingest", "--data", data, str(first)]) == 0
    capsys.readouterr()
    assert main(["ingest", "--json", "--data", data, str(second), str(goals)]) == 0
    events, objectives = json.loads(capsys.readouterr().out)["files"]
    assert (events["rows_loaded"], events["rows_seen_before"]) == (1, 1)
    assert "1 row skipped as a copy of events loaded before" in events["summary"]
    assert objectives["metrics_unknown"] == ["row 2: 'no_such_metric'"]
    assert "not defined yet" in objectives["summary"]


def test_a_zip_of_exports_is_told_to_be_unzipped_not_saved_as_csv(tmp_path: Path, capsys):
    """Amplitude's export API sends its hourly .json.gz files as one zip: it was called "most
    likely an Excel workbook" and told to save "the sheet" as CSV (ingest QA)."""
    import zipfile

    export = tmp_path / "amplitude_export.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("100/", "")
        archive.writestr("100/100_2026-03-05_10#0.json.gz", b"\x1f\x8b")
        archive.writestr("100/100_2026-03-05_11#0.json.gz", b"\x1f\x8b")
    other = tmp_path / "photos.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("a.png", b"\x89PNG")
    assert main(["ingest", "--data", str(tmp_path / "ws"), str(export), str(other)]) == 1
    err = capsys.readouterr().err
    assert "amplitude_export.zip: this is a zip archive of 2 export files (as Amplitude's export sends" in err
    assert "unzip it and load the files inside" in err
    assert "photos.zip: this is a zip archive with no CSV, JSON or Parquet export in it" in err
    assert "Excel" not in err


def test_a_zip_of_gzip_parts_and_an_ods_file_are_named_as_such(tmp_path: Path, capsys):
    """A zip of events.csv.gz parts was said to hold no export, and a LibreOffice .ods was told
    to be unzipped (review)."""
    import zipfile

    parts = tmp_path / "parts.zip"
    with zipfile.ZipFile(parts, "w") as archive:
        archive.writestr("events.csv.gz", b"\x1f\x8b")
        archive.writestr("posthog.jsonl.gz", b"\x1f\x8b")
    other = tmp_path / "photos.zip"  # a gzip file that is no export (review)
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("photos.tar.gz", b"\x1f\x8b")
    text = tmp_path / "notes.odt"
    with zipfile.ZipFile(text, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    sheet = tmp_path / "sheet.ots"  # a template: a spreadsheet too (review)
    with zipfile.ZipFile(sheet, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet-template")
        archive.writestr("content.xml", "<office:document-content/>")
    assert main(["ingest", "--data", str(tmp_path / "ws"), str(parts), str(sheet), str(other), str(text)]) == 1
    err = capsys.readouterr().err
    assert "photos.zip: this is a zip archive with no CSV, JSON or Parquet export in it" in err
    assert "notes.odt: this is an OpenDocument file, not a spreadsheet or an export" in err
    assert "parts.zip: this is a zip archive of 2 export files" in err
    assert "sheet.ots: this is an OpenDocument spreadsheet (.ods); open it and save the sheet as CSV" in err


def test_the_kpis_table_shows_revenue_in_cents(tmp_path: Path, capsys):
    """The plain table printed revenue 1234.50 as "1,234" and 999.5 as "999.5" (QA); --json was
    right. Revenue is money: two decimals, thousands parted."""
    events = tmp_path / "events.csv"
    events.write_text(
        "event_time,user_id,event,revenue\n2026-03-01T10:00:00Z,u1,buy,1234.5\n2026-03-02T10:00:00Z,u1,buy,999.5\n"
    )
    data = tmp_path / "ws"
    assert main(["ingest", str(events), "--data", str(data)]) == 0
    capsys.readouterr()
    assert main(["kpis", "--data", str(data), "--start", "2026-03-01", "--end", "2026-03-02"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["day", "dau", "wau", "mau", "new_users", "events", "revenue"]
    assert [line.split()[-1] for line in lines[1:]] == ["1,234.50", "999.50"]


def test_a_password_piped_with_a_windows_line_end_signs_in(monkeypatch, capsys):
    """QA: `--password-stdin` kept the "\r" of a CRLF line (PowerShell, a Windows file), so the
    hash was of "pw\r" and the password itself never signed in."""
    import io

    from pmkit.auth import auth_settings, check_password

    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\r\n"))
    assert main(["hash-password", "--password-stdin"]) == 0
    hashed = capsys.readouterr().out.strip()
    settings = auth_settings({"pmkit_auth": {"passwords": {"ceo@example.com": hashed}}})
    assert check_password(settings, "ceo@example.com", "correct horse battery").ok


@pytest.mark.parametrize("room", [300_000, 3_000_000, 8_000_000])  # filled while copying, or while writing
def test_a_full_disk_is_said_in_one_line_and_leaves_no_half_copy(tmp_path: Path, capsys, small_disk, room: int):
    """Lifecycle QA: a disk that filled up during an ingest ended in a traceback whose last line
    was "cannot rollback - no transaction is active" (exit 1), and left the version's half copy
    and its log behind."""
    from tests.test_ingest import HEADER, random_events

    disk = small_disk("16m")
    data = disk.path / "ws"
    base = write(tmp_path / "base.csv", (HEADER + "".join(random_events(2_000, 1))).encode())
    assert main(["ingest", "--data", str(data), str(base)]) == 0
    capsys.readouterr()
    before = main(["kpis", "--json", "--data", str(data)]), capsys.readouterr().out
    more = write(tmp_path / "more.csv", (HEADER + "".join(random_events(60_000, 3))).encode())
    disk.fill(room)
    assert main(["ingest", "--data", str(data), str(more)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        f"pmkit ingest: the disk holding {data / 'store'} is full: free some space and run it again (what a load "
        "could not finish was not published; `kpis` shows what is loaded)"
    )
    assert "Traceback" not in "\n".join(err)
    assert not [p.name for p in (data / "store").iterdir() if ".tmp" in p.name]
    assert (main(["kpis", "--json", "--data", str(data)]), capsys.readouterr().out) == before


def test_publishing_onto_a_full_disk_names_the_target_and_leaves_no_half_copy(tmp_path: Path, capsys, small_disk):
    """Lifecycle QA: publish named a file of the source workspace as the problem, and left half
    copies (of a Parquet file, then of the version file) on the full target."""
    from tests.test_ingest import HEADER, random_events

    disk = small_disk("4m")
    source = tmp_path / "ws"
    events = write(tmp_path / "events.csv", (HEADER + "".join(random_events(40_000, 5))).encode())
    assert main(["ingest", "--data", str(source), str(events)]) == 0
    target = disk.path / "hosted"
    # Room for the Parquet files but not the version file: the half copy was of that one.
    disk.fill(sum(p.stat().st_size for p in (source / "store" / "events").glob("*.parquet")) + 150_000)
    capsys.readouterr()
    assert main(["publish", "--data", str(source), "--to", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"pmkit publish: the disk holding {target / 'store'}"), err
    assert [p.name for p in (target / "store" / "events").glob("*.parquet")]  # they were copied
    assert not [p for p in target.rglob("*") if ".tmp" in p.name]


def test_a_report_onto_a_full_disk_keeps_the_one_before(tmp_path: Path, capsys, small_disk):
    """Review: the report was written in place: a full disk left the report before it cut off at
    4 KB, while the message said the report was not written."""
    data = _small_workspace(tmp_path)
    disk = small_disk("8m")
    out = disk.path / "report.html"
    before = b"<html>an earlier, shorter report</html>"
    out.write_bytes(before)
    disk.fill(0)
    capsys.readouterr()
    assert main(["report", "--data", str(data), "--out", str(out)]) == 2
    assert "is full: free some space and run it again (the report was not written)" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert [p.name for p in disk.path.iterdir() if p.name != "filler"] == ["report.html"]
