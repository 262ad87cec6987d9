"""pmkit: page config, login gate, first-start demo, st.navigation over pages/. Nothing else.

`streamlit run app.py` finds ``app`` at the bottom (an ``st.App``) and serves it: the server imports
this file once before it listens, so pmkit's imports (about a second: pandas, Polars, DuckDB) are
done before the first viewer connects instead of during their first page. Each session then runs
this file as its script (``__main__``), which starts computing the summary (``ui.warm_up``).
"""

import streamlit as st

from pmkit import ui

PAGE_PATHS = ("summary", "objectives", "roadmap", "kpis", "retention", "funnels", "engagement", "feedback", "data")


def main() -> None:
    st.set_page_config(page_title="pmkit", page_icon="📈", layout="wide")

    cfg = ui.config(from_app=True)
    ui.warm_up(cfg)  # in the background, while the viewer signs in
    if not ui.signed_in(cfg):
        # Every page's path shows the sign-in form too: a link to /kpis opened before signing in
        # got Streamlit's "page not found" dialog over the form (the link is still followed after).
        sign_in = [st.Page(ui.sign_in_page, title="Sign in", icon=":material/lock:", default=True)]
        sign_in += [st.Page(ui.sign_in_page, title="Sign in", url_path=path) for path in PAGE_PATHS]
        st.navigation(sign_in, position="hidden").run()
        st.stop()
    if not cfg.read_only:
        cfg = ui.first_start_demo(cfg)

    pages = {
        "Overview": [
            st.Page("pages/summary.py", title="Executive summary", icon=":material/dashboard:", default=True),
            st.Page("pages/objectives.py", title="Objectives", icon=":material/flag:"),
            st.Page("pages/roadmap.py", title="Roadmap", icon=":material/view_timeline:"),
        ],
        "Product": [
            st.Page("pages/kpis.py", title="KPI explorer", icon=":material/query_stats:"),
            st.Page("pages/retention.py", title="Retention", icon=":material/event_repeat:"),
            st.Page("pages/funnels.py", title="Funnels", icon=":material/filter_alt:"),
            st.Page("pages/engagement.py", title="Engagement", icon=":material/touch_app:"),
            st.Page("pages/feedback.py", title="Voice of customer", icon=":material/forum:"),
        ],
    }
    if not cfg.read_only:
        pages["Workspace"] = [st.Page("pages/data.py", title="Data", icon=":material/upload_file:")]
    else:
        # An old link to /data says why there is none, not Streamlit's "page not found" dialog.
        pages["Overview"].append(st.Page(ui.no_data_page, title="Data", url_path="data", visibility="hidden"))
    navigation = st.navigation(pages)
    ui.go_to_destination([page for section in pages.values() for page in section])  # a link opened before sign-in
    with ui.one_version(cfg):  # the whole page reads one store version, whatever is published meanwhile
        ui.follow_new_data(cfg)
        navigation.run()


if __name__ == "__main__":
    main()
else:
    app = st.App(__file__, lifespan=ui.serving)
