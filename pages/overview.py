"""Workspace: what is loaded, from which files, covering which dates."""

import streamlit as st

from pmkit import ui

cfg = ui.config()
st.title("Workspace")
ui.demo_banner(cfg)
summary = ui.frame(cfg, "SELECT min(day) AS first_day, max(day) AS last_day, sum(events) AS events FROM kpi_daily").row(0, named=True)
users = ui.frame(cfg, "SELECT count(*) AS users FROM users").item()
if not summary["events"]:
    st.info("No events loaded yet. Drop export files into the inbox or upload them on the Data page.")
else:
    cols = st.columns(4)
    cols[0].metric("Events", f"{summary['events']:,}")
    cols[1].metric("Users", f"{users:,}")
    cols[2].metric("First day", str(summary["first_day"]))
    cols[3].metric("Last day", str(summary["last_day"]))
files = ui.frame(cfg, "SELECT name, kind, format, rows_loaded, rows_rejected, loaded_at FROM loaded_files ORDER BY file_id DESC")
st.subheader("Loaded files")
if files.height:
    ui.table(files, "loaded_files")
else:
    st.caption("Nothing loaded yet.")
