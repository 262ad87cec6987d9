"""Data (local mode only): what is loaded, upload, the inbox and its last results, rejected files,
and every metric's definition in words."""

import streamlit as st

from pmkit import dashboard, ui
from pmkit.formatting import format_date
from pmkit.ingest import ingest_inbox
from pmkit.workspace import KEPT_SETTINGS_TEXT, clear_demo, demo_settings_edited, load_upload

cfg = ui.config()
if cfg.read_only:
    st.error("The Data page is not available in read-only mode.")
    st.stop()

st.title("Data")
# The other pages' filters, kept here so that they stay in the URL: without them, a click in the
# sidebar from Data opened the next page unfiltered, and putting its filters back pushed a second
# history entry: Back showed that page at the defaults, with other numbers (browser QA).
kept_facts = ui.compute(cfg, "facts")  # once for both filters: a store that cannot be read says so once
if kept_facts is not None:
    # With the answers' days too: a custom range of Voice of customer's was cut to the events'.
    if ui.period_picker(cfg, kept_facts, with_answers=True) is not None:
        st.sidebar.caption("The date range is the other pages': this page lists everything loaded.")
    ui.segment_picker(cfg, kept_facts, applies=False, unused="This page lists what is loaded, for every user.")
ui.demo_banner(cfg)
CLEARED = "pmkit-demo-cleared"
REBUILD = "Rebuild the numbers with pmkit.toml's settings"
SETTINGS_KEPT = "pmkit-demo-settings-kept"
if CLEARED in st.session_state:  # said after the rerun that shows the workspace without the demo
    st.success("Demo data removed. Upload your own exports below.")
    if st.session_state.pop(SETTINGS_KEPT, False):
        st.info(KEPT_SETTINGS_TEXT)
    for result in st.session_state.pop(CLEARED):
        ui.show_result(result)
if cfg.demo:
    with st.popover("Clear the demo data"):
        st.write(
            "This removes the demo's events, roadmap, objectives, feedback and settings (pmkit.toml as the demo "
            "wrote it; one you have edited is kept). Files of your own loaded beside them are loaded again."
        )
        if st.button("Remove the demo data", type="primary"):
            try:
                with st.spinner("Removing the demo and loading your own files again…"):
                    kept_settings = demo_settings_edited(cfg)
                    st.session_state[CLEARED] = clear_demo(cfg)
                    st.session_state[SETTINGS_KEPT] = kept_settings
            except ValueError as exc:
                st.error(ui.safe_text(str(exc)))
            else:
                st.rerun()  # the app's caches are keyed by store version, which moved on

st.subheader("What is loaded")
# Filled at the end of the script, so an upload or inbox load below shows up here at once.
what_is_loaded = st.container()

st.subheader("Upload exports")
limit_mb = int(cfg.get("ingest.max_upload_mb"))
uploads = st.file_uploader(
    f"CSV, JSON lines or Parquet from PostHog, Amplitude, Mixpanel, GA4, Jira, Linear, Plane or a spreadsheet (up to {limit_mb} MB each)",
    accept_multiple_files=True,
    # The box itself keeps to the workspace's limit: Streamlit's own (server.maxUploadSize)
    # refused files the setting allowed, and showed another limit than the label.
    max_upload_size=max(1, limit_mb),
)
skip_bad_rows = st.checkbox("Load good rows and skip bad ones (each is recorded with its reason)")
if uploads and st.button("Load files", type="primary"):
    for upload in uploads:
        if upload.size > limit_mb * 1024 * 1024:
            st.error(  # the name is the uploader's text: shown as typed, never as markdown
                ui.safe_text(
                    f"{upload.name}: {upload.size / (1024 * 1024):,.1f} MB is more than the {limit_mb} MB limit "
                    "(split the export, or raise ingest.max_upload_mb)"
                )
            )
            continue
        with ui.progress_bar(f"Loading {upload.name}…") as progress:
            result = load_upload(cfg, upload.name, upload.getvalue(), skip_bad_rows=skip_bad_rows, progress=progress)
        ui.show_result(result)
    ui.read_newest(cfg)  # "What is loaded", filled below, shows the files just loaded

st.subheader("Inbox")
# Filled after a load: the files it moved were still listed as waiting (ingest QA).
listing = st.container()
button = st.empty()
# With nothing waiting, a settings change still needs its rebuild, which loading the inbox does:
# the page offered no way to it, only the warning's command (QA).
# Not read again when it could not be read at the top: it said so once more (review).
loaded_now = ui.compute(cfg, "facts") if kept_facts is not None else None
pending = loaded_now is not None and loaded_now.rebuild_pending
label = "Load the inbox" if ui.inbox_entries(cfg) else REBUILD if pending else None
if label and button.button(label):
    with ui.progress_bar("Loading the inbox…" if label != REBUILD else "Rebuilding…") as progress:
        results = ingest_inbox(cfg, skip_bad_rows=skip_bad_rows, progress=progress)
    for result in results:
        ui.show_result(result)
    if label == REBUILD:
        st.success("The numbers are counted with pmkit.toml's settings now.")
    ui.read_newest(cfg)
    button.empty()  # what stays is not ready to load: each result above says why
with listing:
    waiting = ui.inbox_entries(cfg)
    st.caption(ui.safe_text(f"{cfg.inbox}: {len(waiting)} waiting"))  # a path may hold any mark
    if waiting:
        st.dataframe({"file": waiting}, hide_index=True)

st.subheader("Last results")
log = ui.frame(
    cfg,
    "SELECT logged_at, name, kind, format, status, rows_loaded, rows_rejected, message FROM ingest_log ORDER BY logged_at DESC LIMIT 50",
)
if log.height:
    ui.table(log, "ingest_log")
else:
    st.caption("No file loaded yet.")

# The 20 most recent, newest first (sorted by name, the last 20 were not the latest).
rejected = (
    sorted(cfg.rejected.glob("*.errors.txt"), key=lambda p: p.stat().st_mtime, reverse=True)
    if cfg.rejected.exists()
    else []
)
if rejected:
    st.subheader("Rejected files")
    for report in rejected[:20]:
        # The name as it is on disk, never markdown: `__q3_export__.csv` showed as a bold "q3_export.csv".
        with st.expander(ui.safe_text(report.name.removesuffix(".errors.txt"))):
            st.text(report.read_text(encoding="utf-8"))

st.subheader("Metric definitions")
ui.definition_problems(cfg)
st.caption("Built-in metrics, and the custom ones defined in pmkit.toml as [metrics.KEY] tables.")
ui.table(
    dashboard.metric_catalog(cfg),
    "metric_definitions",
    column_config={"definition": st.column_config.TextColumn("Definition", width="large")},
)
ui.definition(
    "day",
    "active",
    "weekly_retention",
    "day_n_retention",
    "funnel",
    "lifecycle",
    "feature_adoption",
    "nps",
    "csat",
    "comparison",
    "target",
    "anomaly",
)


def show_what_is_loaded() -> None:
    facts = ui.facts(cfg)
    if facts.files:
        cards = st.columns(4)
        # Up to the last day the pages show, as "Days of events" (review): the rest are said.
        later = facts.events_after_view
        cards[0].metric(
            "Events",
            f"{facts.events_in_view:,}",
            border=True,
            help=f"{later:,} more dated after today are loaded, not shown" if later else None,
        )
        cards[1].metric("Users", f"{facts.users_in_view:,}", border=True)
        cards[2].metric(
            "Days of events",
            f"{facts.event_days:,}",
            border=True,
            # The span, as the card showed it, counted days without an event (51 of 46; QA).
            help=f"Days with at least one event, {format_date(facts.first_day)} – {format_date(facts.last_day)}: "
            f"{facts.days:,} days from the first to the last"
            if facts.has_events
            else None,
        )
        cards[3].metric(
            "Last file loaded",
            f"{facts.last_loaded:%d %b %H:%M}" if facts.last_loaded else "–",
            border=True,
            help="UTC",
        )
        if facts.has_events:
            st.caption(
                f"Events from {format_date(facts.first_day)} to {format_date(facts.last_day)} ({ui.safe_text(facts.timezone)} days)."
            )
        if facts.future_until:
            st.warning(
                f"Some events are dated after today, up to {format_date(facts.future_until)}: they are loaded but the "
                "pages stop at today. Check the export's clock and time zone."
            )
        elif facts.all_future:
            st.warning(
                f"Every event is dated after today ({format_date(facts.first_day)} – {format_date(facts.last_day)}): "
                "the pages show them as they are. Check the export's clock and time zone."
            )
        ui.table(
            ui.compute(cfg, "coverage"),
            "coverage",
            column_config={
                "kind": "Data",
                "files": "Files",
                "rows": "Rows",
                "first_day": "From",
                "last_day": "To",
                "last_loaded": "Last loaded (UTC)",
            },
        )
        with st.expander(f"Loaded files ({facts.files})"):
            ui.table(ui.compute(cfg, "loaded_files"), "loaded_files")
    else:
        ui.empty("Nothing loaded yet. Upload exports below or drop them into the inbox.")


with what_is_loaded:
    show_what_is_loaded()
