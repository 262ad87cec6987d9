"""The one pmkit module that imports Streamlit: cached readers, shared widgets, the auth gate.

Pages call these and stay UI only. Cached results are keyed by the store version, so a new
ingest (here or in another process) shows up on the next rerun without a restart.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from pmkit.config import Config, ConfigError, load_config
from pmkit.ingest import FileResult
from pmkit.store import Store

CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def config() -> Config:
    """The workspace settings; a broken pmkit.toml stops the page with a clear message."""
    try:
        return load_config()
    except ConfigError as exc:
        st.error(str(exc))
        st.stop()
        raise


def store_version(cfg: Config) -> int:
    return Store(cfg.store_dir).current_version()


@st.cache_data(show_spinner=False, max_entries=64)
def _cached_frame(store_root: str, version: int, sql: str, params: tuple[tuple[str, Any], ...]) -> pl.DataFrame:
    from pathlib import Path

    with Store(Path(store_root)).reader() as reader:
        return reader.frame(sql, **dict(params))


def frame(cfg: Config, sql: str, **params: Any) -> pl.DataFrame:
    """A query result cached per store version (``sql`` is pmkit's own text, never user text)."""
    return _cached_frame(str(cfg.store_dir), store_version(cfg), sql, tuple(sorted(params.items())))


def escape_csv_cell(value: Any) -> Any:
    """Spreadsheet apps run cells starting with = + - @ as formulas: prefix them with '."""
    if isinstance(value, str) and value.startswith(CSV_FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_bytes(table: pl.DataFrame) -> bytes:
    safe = table.with_columns(
        pl.col(c).map_elements(escape_csv_cell, return_dtype=pl.String) for c, t in table.schema.items() if t == pl.String
    )
    return safe.write_csv().encode("utf-8")


def table(data: pl.DataFrame, name: str, **kwargs: Any) -> None:
    """A table with a CSV download (formula-looking cells escaped)."""
    st.dataframe(data, hide_index=True, **kwargs)
    if data.height:
        st.download_button(f"Download {name} as CSV", csv_bytes(data), file_name=f"{name}.csv", mime="text/csv", key=f"dl-{name}")


def show_result(result: FileResult) -> None:
    """One file's ingest result: success, duplicate, or every problem as text (never HTML)."""
    if result.status == "loaded":
        st.success(result.summary())
        if result.mapping:
            st.caption("Columns: " + ", ".join(f"{k} ← {v}" for k, v in result.mapping.items()))
        if result.errors:
            st.warning("\n\n".join(result.messages()))
    elif result.status == "duplicate":
        st.info(result.summary())
    else:
        st.error(result.summary() + "\n\n" + "\n\n".join(result.messages()))


def demo_banner(cfg: Config) -> None:
    if cfg.demo:
        st.info("You are looking at generated **demo data** (a fictional B2B SaaS product).", icon="🧪")
