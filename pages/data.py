"""Data (local mode only): upload, the inbox and its last results, rejected files."""

import streamlit as st

from pmkit import ui
from pmkit.ingest import ingest_inbox
from pmkit.workspace import clear_demo, load_upload

cfg = ui.config()
if cfg.read_only:
    st.error("The Data page is not available in read-only mode.")
    st.stop()

st.title("Data")
ui.demo_banner(cfg)
if cfg.demo and st.button("Clear the demo data", type="secondary"):
    clear_demo(cfg)
    st.success("Demo data removed. Upload your own exports below.")
    st.rerun()

st.subheader("Upload exports")
limit_mb = int(cfg.get("ingest.max_upload_mb"))
uploads = st.file_uploader(
    f"CSV, JSON lines or Parquet from PostHog, Amplitude, Mixpanel, GA4, Jira, Linear, Plane or a spreadsheet (up to {limit_mb} MB each)",
    accept_multiple_files=True,
)
skip_bad_rows = st.checkbox("Load good rows and skip bad ones (each is recorded with its reason)")
if uploads and st.button("Load files", type="primary"):
    for upload in uploads:
        if upload.size > limit_mb * 1024 * 1024:
            st.error(f"{upload.name}: {upload.size / 1e6:,.0f} MB is more than the {limit_mb} MB limit (split the export, or raise ingest.max_upload_mb)")
            continue
        with st.spinner(f"Loading {upload.name}…"):
            ui.show_result(load_upload(cfg, upload.name, upload.getvalue(), skip_bad_rows=skip_bad_rows))

st.subheader("Inbox")
waiting = sorted(p.name for p in cfg.inbox.iterdir() if p.is_file()) if cfg.inbox.exists() else []
st.caption(f"{cfg.inbox}: {len(waiting)} file(s) waiting")
if waiting:
    st.dataframe({"file": waiting}, hide_index=True)
    if st.button("Load the inbox"):
        for result in ingest_inbox(cfg):
            ui.show_result(result)

st.subheader("Last results")
log = ui.frame(cfg, "SELECT logged_at, name, kind, format, status, rows_loaded, rows_rejected, message FROM ingest_log ORDER BY logged_at DESC LIMIT 50")
if log.height:
    ui.table(log, "ingest_log")
else:
    st.caption("No file loaded yet.")

rejected = sorted(cfg.rejected.glob("*.errors.txt")) if cfg.rejected.exists() else []
if rejected:
    st.subheader("Rejected files")
    for report in rejected[-20:]:
        with st.expander(report.name.removesuffix(".errors.txt")):
            st.text(report.read_text(encoding="utf-8"))
