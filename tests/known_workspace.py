"""A tiny workspace whose dashboard numbers are worked out by hand, with hostile text in every
place a file can put text (titles, owners, comments).

Events, 2026-03-02 (Mon) to 2026-03-11, three users:

    day    03-02 03-03 03-04 03-05 03-06 03-07 03-08 03-09 03-10 03-11
    users  u1,u2 u1,u2 u1,u3 u1    u1    u1    u1    u1,u2 u1    u1
    DAU    2     2     2     1     1     1     1     2     1     1      -> mean DAU 14 / 10 = 1.4

MAU on 03-11 = 3; new users = 3 (u1, u2 on 03-02, u3 on 03-04).
Funnel signup -> create_report (7 days): u1 (1 h), u2 (21 h), u3 never: 2 of 3.
NPS over the range: scores 10, 6, 9 -> (2 - 1) / 3 = +33; one CSAT answer of 4 -> 100%.
Roadmap snapshot 2026-03-11: EP-9 (hostile title) due 03-06 and half done -> late; EP-8 done 03-05.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from pmkit.config import load_config
from pmkit.ingest import ingest

ROOT = Path(__file__).resolve().parents[1]
FIRST_DAY = dt.date(2026, 3, 2)
LAST_DAY = dt.date(2026, 3, 11)
MEAN_DAU = 1.4
HOSTILE_TITLE = "**Bold** launch <b>x</b> [link](javascript:alert(1)) :red[red]"
HOSTILE_COMMENT = "=cmd|' /C calc'!A0"
MARKUP_COMMENT = "Love the **sharing** <i>really</i> :red[x]"

EVENTS = """event_time,user_id,event,plan
2026-03-02T10:00:00Z,u1,signup,free
2026-03-02T11:00:00Z,u1,create_report,free
2026-03-02T12:00:00Z,u2,signup,pro
2026-03-03T08:00:00Z,u1,login,free
2026-03-03T09:00:00Z,u2,create_report,pro
2026-03-04T09:00:00Z,u3,signup,free
2026-03-04T10:00:00Z,u1,share_report,free
2026-03-05T10:00:00Z,u1,login,free
2026-03-06T10:00:00Z,u1,login,free
2026-03-07T10:00:00Z,u1,login,free
2026-03-08T10:00:00Z,u1,login,free
2026-03-09T10:00:00Z,u1,login,free
2026-03-09T11:00:00Z,u2,login,pro
2026-03-10T10:00:00Z,u1,login,free
2026-03-11T10:00:00Z,u1,login,free
"""
OBJECTIVES = """objective_id,title,metric,baseline,target,start_date,target_date,direction,owner
OBJ-9,Grow **daily** use <b>now</b> :material/check_circle:,dau,1,3,2026-03-01,2026-03-31,increase,"=HYPERLINK(""http://evil"")"
"""
ROADMAP = f"""item_id,title,item_type,parent_id,objective_id,metric,owner,team,status,status_category,start_date,due_date,baseline_due_date,completed_date,estimate,progress,declared_health,blocked_by
EP-9,"{HOSTILE_TITLE}",epic,,OBJ-9,dau,Ana,Growth,In Progress,in_progress,2026-03-01,2026-03-06,,,,0.5,on_track,
EP-8,Welcome tour,epic,,OBJ-9,dau,Ben,Growth,Done,done,2026-02-20,2026-03-06,,2026-03-05,,,,
"""
FEEDBACK = f"""submitted_at,user_id,score,scale,comment,source,plan
2026-03-03T10:00:00Z,u1,10,nps,"{MARKUP_COMMENT}",in_app,free
2026-03-04T10:00:00Z,u2,6,nps,"{HOSTILE_COMMENT}",email,pro
2026-03-05T10:00:00Z,u3,9,nps,,in_app,free
2026-03-06T10:00:00Z,u1,4,csat,Fine,in_app,free
"""


def build_known_workspace(root: Path) -> Path:
    """Write and load the files above into ``root`` (a workspace with a pmkit.toml); returns root."""
    files = root.parent / f"{root.name}_files"
    files.mkdir(parents=True, exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    (root / "pmkit.toml").write_text(
        '[workspace]\ntimezone = "UTC"\n\n[metrics.activation]\nname = "Activation"\ntype = "funnel"\n'
        'steps = ["signup", "create_report"]\nwindow_days = 7\n',
        encoding="utf-8",
    )
    paths = []
    for name, text in (
        ("events.csv", EVENTS),
        ("objectives.csv", OBJECTIVES),
        ("roadmap_2026-03-11.csv", ROADMAP),
        ("feedback.csv", FEEDBACK),
    ):
        path = files / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    results = ingest(paths, load_config(root))
    problems = [m for r in results for m in r.messages()]
    assert all(r.status == "loaded" for r in results), problems
    return root


def build_demo_workspace(root: Path) -> Path:
    """The CLI's demo (60,000 events, seed 3) in ``root``, as a user would make it."""
    subprocess.run(
        [sys.executable, "-m", "pmkit", "demo", "--out", str(root), "--events", "60000", "--seed", "3"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    return root


def ingested(tmp_path: Path, files: dict[str, str], toml: str = '[workspace]\ntimezone = "UTC"\n') -> Path:
    """A workspace ``tmp_path / "ws"`` with ``toml`` as its pmkit.toml and ``files`` (name -> text,
    written beside it) loaded by one ingest, each asserted loaded."""
    data = tmp_path / "ws"
    data.mkdir()
    (data / "pmkit.toml").write_text(toml)
    paths = []
    for name, text in files.items():
        path = tmp_path / name
        path.write_text(text)
        paths.append(path)
    assert [r.status for r in ingest(paths, load_config(data))] == ["loaded"] * len(paths)
    return data
