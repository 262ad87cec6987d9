"""pmkit: page config, first-start demo, st.navigation over pages/. Nothing else."""

import streamlit as st

from pmkit import ui
from pmkit.workspace import ensure_demo, is_empty

st.set_page_config(page_title="pmkit", page_icon="📈", layout="wide")

cfg = ui.config()
if not cfg.read_only and is_empty(cfg):
    with st.spinner("Building the demo workspace (first start only)…"):
        cfg = ensure_demo(cfg)

pages = [st.Page("pages/overview.py", title="Workspace", icon="🏠", default=True)]
if not cfg.read_only:
    pages.append(st.Page("pages/data.py", title="Data", icon="🗂️"))
st.navigation(pages).run()
