"""JSON lines by column (the fast path) against record by record (the reference).

The fast path must give the record path's Parsed exactly (frame, errors, mapping, format) or
raise NotExact, after which ``read`` goes record by record. Files a vendor writes cleanly must
take the fast path; the tests say so, so that a fast path that quietly gave up would fail them.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from pmkit.sources import amplitude, mixpanel, posthog
from pmkit.sources.base import Parsed, ReadOptions, Rejected
from pmkit.sources.events_common import (
    PYTHON_BLANK,
    NotExact,
    build_by_columns,
    build_by_records,
    float_texts,
)
from pmkit.sources.sniff import sniff

FIXTURES = Path(__file__).parent.parent / "fixtures" / "events"
BERLIN = ReadOptions(timezone="Europe/Berlin")
# 30 files per vendor and test: 60 took 40 s more of a CI run that must stay under 20 minutes.
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
VENDORS = {"posthog": posthog, "amplitude": amplitude, "mixpanel": mixpanel}

# A real Mixpanel export line (Mixpanel's docs, quoted in /work/shared/samples/README.md).
MIXPANEL_LINE = (
    '{"event": "Signed up", "properties": {"time": 1602611311, "distinct_id": "u_123", "$insert_id": "ABCDE", '
    '"mp_processing_time_ms": 1602625711874, "$os": "Mac OS X", "mp_country_code": "DE"}}'
)
# The fields of a real Amplitude export line, in its order (same README).
AMPLITUDE_HEADER = (
    "server_received_time, app, device_carrier, $schema, city, user_id, uuid, event_time, platform, os_version, "
    "amplitude_id, processed_time, user_creation_time, version_name, ip_address, paying, dma, group_properties, "
    "user_properties, client_upload_time, $insert_id, event_type, library, amplitude_attribution_ids, device_type, "
    "device_manufacturer, start_version, location_lng, server_upload_time, event_id, location_lat, os_name, "
    "amplitude_event_type, device_brand, groups, event_properties, data, device_id, language, device_model, country, "
    "region, is_attribution_event, adid, session_id, device_family, sample_rate, idfa, client_event_time"
)


def outcome(read: Callable[[], Parsed]) -> Parsed | Exception:
    try:
        return read()
    except Exception as exc:  # Rejected, NotExact, or a crash the record path had before
        return exc


def assert_same(fast: Parsed, slow: Parsed) -> None:
    assert_frame_equal(fast.frame, slow.frame)
    assert (fast.kind, fast.format, fast.errors, fast.mapping) == (slow.kind, slow.format, slow.errors, slow.mapping)


def check(path: Path, module: ModuleType, *, fast: bool) -> Parsed | Exception:
    """Both paths on one file: the same result, or NotExact (not allowed when ``fast``); ``read``
    gives the record path's result either way."""
    sample = sniff(path)
    by_column = outcome(lambda: build_by_columns(sample, module.EXPORT))
    by_record = outcome(lambda: build_by_records(sample, module.EXPORT))
    by_read = outcome(lambda: module.read(sample, BERLIN))
    if fast:
        assert not isinstance(by_column, NotExact), f"the fast path gave up: {by_column}"
    assert isinstance(by_column, (Parsed, Rejected, NotExact)), by_column
    if isinstance(by_column, Parsed):
        assert isinstance(by_record, Parsed), by_record
        assert_same(by_column, by_record)
    elif isinstance(by_column, Rejected):
        assert isinstance(by_record, Rejected) and by_record.errors == by_column.errors
    if isinstance(by_record, Parsed):
        assert isinstance(by_read, Parsed)
        assert_same(by_read, by_record)
    elif isinstance(by_record, Rejected):
        assert isinstance(by_read, Rejected) and by_read.errors == by_record.errors
    else:  # a lone surrogate (\ud800) crashes the record path; the fast path leaves it that way
        assert type(by_read) is type(by_record), (by_read, by_record)
    return by_record


# ---------------------------------------------------------------------------------------------
# Real samples


@pytest.mark.parametrize(("name", "module"), [("amplitude.jsonl", amplitude), ("mixpanel.jsonl", mixpanel)])
def test_fixture_exports_take_the_fast_path(name: str, module: ModuleType):
    parsed = check(FIXTURES / name, module, fast=True)
    assert isinstance(parsed, Parsed) and parsed.frame.height == 3


def test_posthog_fixture_mixes_objects_and_json_text_so_it_goes_record_by_record():
    """Line 2 holds its properties as JSON text ("{\\"$os\\": ...}"), the others as objects."""
    sample = sniff(FIXTURES / "posthog.jsonl")
    with pytest.raises(NotExact, match="properties"):
        build_by_columns(sample, posthog.EXPORT)
    check(FIXTURES / "posthog.jsonl", posthog, fast=False)


@pytest.mark.parametrize("encoding", ["objects", "JSON text"])
def test_posthog_fixture_with_one_encoding_takes_the_fast_path(tmp_path: Path, encoding: str):
    records = [json.loads(line) for line in (FIXTURES / "posthog.jsonl").read_text().splitlines()]
    for record in records:
        for key in ("properties", "person_properties"):
            value = record[key]
            if encoding == "objects":
                record[key] = json.loads(value) if isinstance(value, str) else value
            else:
                record[key] = value if isinstance(value, str) else json.dumps(value)
    path = tmp_path / "posthog.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    check(path, posthog, fast=True)


def test_amplitude_fixture_gzip_takes_the_fast_path(tmp_path: Path):
    path = tmp_path / "123456_2025-07-17_10#0.json.gz"
    path.write_bytes(gzip.compress((FIXTURES / "amplitude.jsonl").read_bytes()))
    check(path, amplitude, fast=True)


def test_the_real_mixpanel_line_and_amplitude_layout(tmp_path: Path):
    path = tmp_path / "mixpanel.jsonl"
    path.write_text(MIXPANEL_LINE + "\n" + MIXPANEL_LINE.replace("ABCDE", "FGHIJ").replace("u_123", "u_4") + "\n")
    check(path, mixpanel, fast=True)
    record = dict.fromkeys(AMPLITUDE_HEADER.split(", "))
    record.update(
        user_id="u_1",
        device_id="d-1",
        event_time="2025-07-17 10:36:28.583000",
        event_type="report_created",
        group_properties={},
        groups={},
        data={},
        user_properties={"plan": "pro"},
        event_properties={"page": "home", "$price": 10, "$quantity": 3},
        session_id=1752748588000,
        amplitude_id=987654321,
        is_attribution_event=False,
    )
    record["$insert_id"] = "ins-1"
    path = tmp_path / "amplitude.jsonl"
    path.write_text(json.dumps(record) + "\n" + json.dumps({**record, "$insert_id": "ins-2", "user_id": None}) + "\n")
    check(path, amplitude, fast=True)


def test_read_takes_the_fast_path_and_says_when_it_does_not(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG, logger="pmkit.sources.events_common")
    mixpanel.read(sniff(FIXTURES / "mixpanel.jsonl"), BERLIN)
    assert "record by record" not in caplog.text
    posthog.read(sniff(FIXTURES / "posthog.jsonl"), BERLIN)
    assert "posthog.jsonl: read record by record" in caplog.text


# ---------------------------------------------------------------------------------------------
# Generated files


@dataclass(frozen=True)
class Literal:
    """A JSON number (or NaN) written exactly so: 49, 49.0, 4.9e1, -0."""

    text: str


@dataclass(frozen=True)
class Style:
    """How a file is written: separators, escapes, line ends, blank lines, the end of the file."""

    compact: bool
    ascii: bool
    crlf: bool
    blank_lines: tuple[tuple[int, str], ...]
    ending: str  # "newline", "none" or "cut"
    cut_at: float
    gzip: bool
    bom: bool


def dumps(value: object, style: Style) -> str:
    if isinstance(value, Literal):
        return value.text
    if isinstance(value, dict):
        comma, colon = (",", ":") if style.compact else (", ", ": ")
        return "{" + comma.join(dumps(key, style) + colon + dumps(item, style) for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ("," if style.compact else ", ").join(dumps(item, style) for item in value) + "]"
    return json.dumps(value, ensure_ascii=style.ascii)


def write(path: Path, records: list[object], style: Style) -> Path:
    lines = [dumps(record, style) if not isinstance(record, bytes) else record for record in records]
    lines = [line.encode() if isinstance(line, str) else line for line in lines]
    for at, blank in style.blank_lines:
        lines.insert(min(at, len(lines)), blank.encode())
    end = b"\r\n" if style.crlf else b"\n"
    data = end.join(lines)
    if style.ending == "newline":
        data += end
    elif style.ending == "cut":
        last = lines[-1]
        data = data[: len(data) - len(last) + max(1, int(len(last) * style.cut_at))]
    if style.bom:
        data = b"\xef\xbb\xbf" + data
    path.write_bytes(gzip.compress(data) if style.gzip else data)
    return path


PLAIN = Style(
    compact=False, ascii=True, crlf=False, blank_lines=(), ending="newline", cut_at=0.5, gzip=False, bom=False
)
styles = st.builds(
    Style,
    compact=st.booleans(),
    ascii=st.booleans(),
    crlf=st.booleans(),
    blank_lines=st.lists(st.tuples(st.integers(1, 30), st.sampled_from(["", "  ", "\t", " \r"])), max_size=3).map(
        tuple
    ),
    ending=st.sampled_from(["newline", "newline", "none", "cut"]),
    cut_at=st.floats(0.05, 0.95),
    gzip=st.booleans(),
    bom=st.booleans(),
)

# Keys that JSON writers write literally, and a few they may escape.
SAFE_KEYS = ["plan", "$os", "Plan Type", "geo.country", "utm-source", "$browser_version", "amount", "score", "n"]
ANY_KEYS = [*SAFE_KEYS, "Région", "a/b", 'say "hi"', "back\\slash", "", "emoji 🎉", "x<y&z"]
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
dates = st.sampled_from(["2026-03-01", "2026-03-01 10:00:00", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00+02:00"])


@st.composite
def numbers(draw: st.DrawFn) -> object:
    """An int, or a float written in one of the ways writers do (49.0, 4.9e1, 49.00)."""
    if draw(st.booleans()):
        value = draw(st.integers(-(2**70), 2**70) | st.integers(-1000, 1000))
        return Literal("-0") if value == 0 and draw(st.booleans()) else value
    value = draw(
        st.floats(allow_nan=False, allow_infinity=False)
        | st.integers(-(10**6), 10**6).map(float)
        | st.sampled_from([49.0, 49.5, 9.99, 0.1, 1e-7, 2.5e-5, 1e16, 1e22, -0.0, 1.0000000000000002])
    )
    spellings = [repr(value), f"{value:.17e}", f"{value:.6E}" if float(f"{value:.6E}") == value else repr(value)]
    if value.is_integer() and abs(value) < 1e15:
        spellings += [f"{int(value)}.0", f"{int(value)}.000"]
    return Literal(draw(st.sampled_from(spellings)))


KINDS = {
    "text": texts,
    "date": dates,
    "number": numbers(),
    "int": st.integers(-(2**40), 2**40),
    "bool": st.booleans(),
    # $active_feature_flags; an array of nulls only is NotExact (Arrow 26 builds it broken)
    "list": st.lists(texts | st.none(), max_size=3).filter(lambda items: not items or set(items) != {None}),
    "numbers": st.lists(numbers(), max_size=3),
    "object": st.fixed_dictionaries({}, optional={"tier": texts, "seats": st.integers(0, 99), "trial": st.booleans()}),
}
nested = st.recursive(
    st.none() | st.booleans() | numbers() | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=6,
)
wild_values = st.one_of(
    texts,
    numbers(),
    st.booleans(),
    st.none(),
    nested,
    st.sampled_from([Literal("NaN"), Literal("-Infinity"), Literal("Inf"), Literal("-NaN"), Literal('"\\ud800"')]),
)


@st.composite
def property_sets(draw: st.DrawFn, wild: bool) -> list[dict[str, object]]:
    """Per-record properties: clean files keep one JSON type per key (numbers may mix 49 and
    49.0); wild ones mix types and nest."""
    count = draw(st.integers(1, 25))
    keys = draw(st.lists(st.sampled_from(ANY_KEYS if wild else SAFE_KEYS), unique=True, max_size=6))
    kinds = {key: draw(st.sampled_from(sorted(KINDS))) for key in keys}
    if not wild:  # Région and the like as text: a float's whole numbers are looked up by key
        extra = draw(st.lists(st.sampled_from(ANY_KEYS[len(SAFE_KEYS) :]), unique=True, max_size=2))
        kinds.update(dict.fromkeys(extra, "text"))
    rows = []
    for _ in range(count):
        row = {}
        for key, kind in draw(st.permutations(sorted(kinds.items()))):
            if draw(st.integers(0, 4)) == 0:
                continue  # missing
            row[key] = draw(wild_values if wild else st.none() | KINDS[kind])
        rows.append(row)
    return rows


users = st.sampled_from(["u_1", "u_2", "ü_3", "", "  ", None])
times = st.sampled_from(["2026-03-01T10:00:00Z", "2026-03-01T10:00:00.123000Z", "2026-03-01 10:00:00", "soon", None])


@st.composite
def posthog_records(draw: st.DrawFn, wild: bool) -> list[object]:
    records: list[object] = []
    for number, properties in enumerate(draw(property_sets(wild))):
        if draw(st.booleans()):
            properties["$session_id"] = draw(st.sampled_from(["s1", "s2", ""]))
        if draw(st.integers(0, 3)) == 0:
            properties["revenue"] = draw(numbers() | st.sampled_from(["49.00", "abc", ""]) if wild else numbers())
        record = {
            "uuid": draw(st.sampled_from([f"e{number}", "e0", None])),
            "event": draw(st.sampled_from(["$pageview", "purchase", "", None])),
            "distinct_id": draw(users),
            "person_id": "p1",
            "properties": properties,
            "person_properties": {"email": "ana@example.com"},
            "elements_chain": "",
            "timestamp": draw(times),
        }
        if wild and draw(st.integers(0, 5)) == 0:
            record["properties"] = dumps(properties, PLAIN)  # JSON text
        records.append(_dropped(draw, record, ("uuid", "event", "properties", "person_properties")))
    return _with_bad_lines(draw, records) if wild else records


@st.composite
def amplitude_records(draw: st.DrawFn, wild: bool) -> list[object]:
    records: list[object] = []
    price_key = draw(st.sampled_from(["price", "$price"]))
    quantity_key = draw(st.sampled_from(["quantity", "$quantity"]))
    for number, properties in enumerate(draw(property_sets(wild))):
        amount = st.integers(0, 500) | st.sampled_from([9.99, 10.0, None] + (["12.5", ""] if wild else []))
        if draw(st.integers(0, 2)) == 0:
            keys = ["price", "$price"] if wild else [price_key]
            properties[draw(st.sampled_from(keys))] = draw(amount)
        if draw(st.integers(0, 2)) == 0:
            keys = ["quantity", "$quantity"] if wild else [quantity_key]
            properties[draw(st.sampled_from(keys))] = draw(amount)
        if draw(st.integers(0, 4)) == 0:
            properties[draw(st.sampled_from(["revenue", "$revenue"]))] = draw(amount)
        record = {
            "event_time": draw(st.sampled_from(["2025-07-17 10:36:28.583000", "2025-07-17 10:36:28", "x", None])),
            "user_id": draw(users | st.sampled_from(["\u2003", "\x1c", "\x85"])),
            "device_id": draw(st.sampled_from([f"d-{number}", "", None])),
            "event_type": draw(st.sampled_from(["report_created", "purchase", None])),
            "$insert_id": draw(st.sampled_from([f"ins-{number}", "ins-0", None])),
            "session_id": draw(st.sampled_from([1752748588000, -1, None])),
            "event_properties": properties,
            "user_properties": draw(st.sampled_from([{"plan": "pro"}, {"$plan": "free", "seats": 3}, {}])),
            "amplitude_id": 987654321,
            "groups": {},
            "data": {"path": "/2/httpapi"},
        }
        for key in amplitude.TOP_LEVEL_DIMENSIONS:
            if draw(st.integers(0, 3)):
                record[key] = draw(st.sampled_from(["Web", "Germany", "", None]))
        if draw(st.integers(0, 5)) == 0 and (wild or "revenue" not in properties):
            record["revenue"] = draw(amount)  # the same key twice in a line is NotExact
        if wild and draw(st.integers(0, 5)) == 0:
            record["session_id"] = draw(st.sampled_from(["-1", -1.0, "-1 ", 17.5]))
        records.append(_dropped(draw, record, ("user_id", "event_properties", "user_properties", "session_id")))
    return _with_bad_lines(draw, records) if wild else records


@st.composite
def mixpanel_records(draw: st.DrawFn, wild: bool) -> list[object]:
    records: list[object] = []
    for number, properties in enumerate(draw(property_sets(wild))):
        time = draw(st.integers(1602611311, 1602700000))
        properties.update(
            time=Literal(f"{time}.5") if draw(st.integers(0, 4)) == 0 else time,
            distinct_id=draw(users),
            mp_processing_time_ms=time * 1000 + 12,
            mp_country_code=draw(st.sampled_from(["DE", "FR", ""])),
        )
        properties["$insert_id"] = draw(st.sampled_from([f"i{number}", "i0"]))
        if draw(st.integers(0, 3)) == 0:
            properties["revenue"] = draw(numbers())
        record = {"event": draw(st.sampled_from(["Signed up", "Purchase", None])), "properties": properties}
        records.append(_dropped(draw, record, ("event",)))
    return _with_bad_lines(draw, records) if wild else records


def _dropped(draw: st.DrawFn, record: dict, optional: tuple[str, ...]) -> dict:
    gone = draw(st.sets(st.sampled_from(optional), max_size=1)) if draw(st.integers(0, 3)) == 0 else set()
    return {key: value for key, value in record.items() if key not in gone}


def _with_bad_lines(draw: st.DrawFn, records: list[object]) -> list[object]:
    """Lines the record path reports or reads in its own way (the first line stays good: sniff)."""
    bad = st.sampled_from(
        [
            b"[1, 2]",
            b"5",
            b"null",
            b"  null",
            b"not json",
            b'{"event": "a"} {"event": "b"}',
            b"\x0c",
            "\u00a0".encode(),
            b'{"event": "\xff"}',
            b'{"event": "a", "event": "b"}',
            b'{"event": "x\ty"}',
            b'\xef\xbb\xbf{"event": "a"}',
            b'{"properties.$os": "Mac", "properties": {}}',
        ]
    )
    for _ in range(draw(st.integers(0, 2))):
        records.insert(draw(st.integers(1, len(records))), draw(bad))
    return records


def sniffs(path: Path) -> bool:
    try:
        sniff(path)
    except Rejected:
        return False
    return True


GENERATORS = {"posthog": posthog_records, "amplitude": amplitude_records, "mixpanel": mixpanel_records}


@pytest.mark.parametrize("vendor", sorted(VENDORS))
@SETTINGS
@given(data=st.data(), style=styles)
def test_clean_files_take_the_fast_path_and_read_the_same(vendor: str, data: st.DataObject, style: Style, tmp_path):
    records = data.draw(GENERATORS[vendor](wild=False))
    path = write(tmp_path / f"{vendor}.jsonl", records, style)
    assume(sniffs(path))  # sniff splits its head at \x85 and U+2028 too, a first line may not parse
    cut_first = style.ending == "cut" and len(records) == 1  # nothing complete is left
    check(path, VENDORS[vendor], fast=not cut_first)


@pytest.mark.parametrize("vendor", sorted(VENDORS))
@SETTINGS
@given(data=st.data(), style=styles)
def test_any_file_reads_the_same_or_goes_record_by_record(vendor: str, data: st.DataObject, style: Style, tmp_path):
    records = data.draw(GENERATORS[vendor](wild=True))
    path = write(tmp_path / f"{vendor}.jsonl", records, style)
    assume(sniffs(path))
    sample = sniff(path)
    event(type(outcome(lambda: build_by_columns(sample, VENDORS[vendor].EXPORT))).__name__)
    check(path, VENDORS[vendor], fast=False)


# ---------------------------------------------------------------------------------------------
# What sends a file record by record


def posthog_line(properties: object, **fields: object) -> str:
    record = {"uuid": "e1", "event": "signup", "distinct_id": "u1", "timestamp": "2026-03-01T10:00:00Z"}
    return dumps({**record, "properties": properties, **fields}, PLAIN)


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        ([posthog_line({"plan": {"tier": {"name": "pro"}}})], "inside arrays or objects"),
        ([posthog_line({"flags": [["a"], ["b"]]})], "inside arrays or objects"),
        ([posthog_line({"plan": "pro"}), posthog_line({"plan": {"tier": "pro"}})], "changed from string to object"),
        ([posthog_line({"plan": "pro"}), posthog_line({"plan": 49})], "changed from string to number"),
        ([posthog_line({"plan": "pro"}), "garbage", posthog_line({"plan": "free"})], "not a JSON object"),
        ([posthog_line({"plan": "pro"}), '{"event": "signup",', posthog_line({"plan": "free"})], "Arrow"),
        ([posthog_line({"plan": "pro"}), posthog_line({}) + " " + posthog_line({})], "more or less than one"),
        ([posthog_line({"plan": "pro"}), "\u00a0", posthog_line({"plan": "free"})], "not a JSON object"),
        ([posthog_line({"plan": "pro"}), "null", posthog_line({"plan": "free"})], "not a JSON object"),
        ([posthog_line('{"plan": "pro"}'), posthog_line("null")], "not one JSON object per line"),
        ([posthog_line({"n": 1.5}), posthog_line({"n": 1.5}).replace("1.5", "-NaN")], "NaN"),
        ([posthog_line({"n": 1.5}), posthog_line({"n": 1.5}).replace("1.5", "Infinity")], "NaN"),
        ([posthog_line({"plan": "pro"}), posthog_line({"plan": "\ud800"})], "surrogate"),
        ([posthog_line({"plan": "pro"}), posthog_line({"plan": "a", "plan ": "b"}).replace("plan ", "plan")], "twice"),
        ([posthog_line({"a/b": 1.0}), posthog_line({"a/b": 2.5})], "escaped"),
        ([posthog_line({"n": 2.0, "$set": {"n": 2}})], "more than one way"),
        ([posthog_line({"$config": {"a": 1}, "x": {"$config": [2]}})], "more than once"),
        ([posthog_line({"plan": "pro"}, **{"properties.$os": "Mac"})], "properties.*"),
        ([posthog_line({"flags": ["a"]}), posthog_line({"none": [None, None]})], "Length spanned by list offsets"),
    ],
)
def test_fallback_triggers(tmp_path: Path, lines: list[str], reason: str):
    path = tmp_path / "posthog.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(NotExact, match=reason.replace("*", r"\*")):
        build_by_columns(sniff(path), posthog.EXPORT)
    check(path, posthog, fast=False)


@pytest.mark.parametrize(("filler", "reason"), [(0, "cp1252 text"), (2500, "bytes that are not UTF-8")])
def test_text_that_is_not_utf8_goes_record_by_record(tmp_path: Path, filler: int, reason: str):
    """Bad bytes in the head make sniff read the file as Windows-1252; after the head, the record
    path reads them as U+FFFD, which the fast path leaves to it."""
    good = [posthog_line({"plan": "pro"}, uuid=f"e{n}") + "\n" for n in range(filler)]
    bad = posthog_line({"plan": "X"}).encode().replace(b"X", b"\xe9")
    path = tmp_path / "posthog.jsonl"
    path.write_bytes("".join(good).encode() + bad + b"\n")
    with pytest.raises(NotExact, match=reason):
        build_by_columns(sniff(path), posthog.EXPORT)
    check(path, posthog, fast=False)


def test_amplitude_price_null_next_to_dollar_price_goes_record_by_record(tmp_path: Path):
    """``get("price", get("$price"))``: a null price hides $price, a missing one does not."""
    base = {"event_time": "2025-07-17 10:00:00", "user_id": "u1", "event_type": "buy", "$insert_id": "i1"}
    lines = [
        {**base, "event_properties": {"price": None, "$price": 10}},
        {**base, "$insert_id": "i2", "event_properties": {"price": 5}},
    ]
    path = tmp_path / "amplitude.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with pytest.raises(NotExact, match="price"):
        build_by_columns(sniff(path), amplitude.EXPORT)
    check(path, amplitude, fast=False)


@pytest.mark.parametrize("layout", ["json", "csv"])
def test_other_layouts_go_record_by_record(tmp_path: Path, layout: str):
    if layout == "json":
        path = tmp_path / "mixpanel.json"
        path.write_text("[" + MIXPANEL_LINE + "]")
        module: ModuleType = mixpanel
    else:
        path, module = FIXTURES / "posthog.csv", posthog
    with pytest.raises(NotExact, match=f"a {layout} file"):
        build_by_columns(sniff(path), module.EXPORT)
    check(path, module, fast=False)


def test_a_time_first_seen_after_the_schema_head_stays_text(tmp_path: Path):
    """Arrow reads "2026-03-01" as a time unless told it is text; a field first met after the
    first MiB is found in the whole read and the file read again with it declared."""
    filler = "x" * 900
    lines = [posthog_line({"note": filler}, uuid=f"e{n}") for n in range(1400)]
    lines.append(posthog_line({"note": filler, "renewal": "2026-04-01"}, uuid="late"))
    path = tmp_path / "posthog.jsonl"
    path.write_text("\n".join(lines) + "\n")
    parsed = check(path, posthog, fast=True)
    assert isinstance(parsed, Parsed) and parsed.frame["renewal"].drop_nulls().to_list() == ["2026-04-01"]


# ---------------------------------------------------------------------------------------------
# The text of values


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=50))
def test_float_texts_are_python_repr(values: list[float]):
    assert float_texts(pl.Series(values, dtype=pl.Float64)).to_list() == [repr(value) for value in values]


def test_float_texts_at_the_edges_of_notation():
    edges = [1e-4, 9.999999999999999e-05, 1e-5, 1.5e-7, 1e-10, 5e-324, 1e16, 9999999999999998.0, 1e15, -0.0, 0.0]
    values = edges + [math.nextafter(value, math.inf) for value in edges]
    assert float_texts(pl.Series(values)).to_list() == [repr(value) for value in values]


def test_python_blank_matches_str_isspace_for_every_character():
    characters = [chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code <= 0xDFFF]
    blank = pl.Series(characters).str.contains(PYTHON_BLANK).to_list()
    assert [c for c, is_blank in zip(characters, blank, strict=True) if is_blank != c.isspace()] == []
    assert pl.Series(["", " \t", "u1", " u1 "]).str.contains(PYTHON_BLANK).to_list() == [True, True, False, False]


def test_number_spellings_and_text(tmp_path: Path):
    """49 and 49.0 differ as text, 4.9e1 is 49.0, -0 is 0, a big int keeps every digit."""
    spellings = ["49", "49.0", "4.9e1", "49.50", "-0", "-0.0", "1e-7", "12345678901234567890123"]
    path = tmp_path / "posthog.jsonl"
    path.write_text("".join(posthog_line({"v": Literal(v)}, uuid=f"e{n}") + "\n" for n, v in enumerate(spellings)))
    parsed = check(path, posthog, fast=True)
    assert isinstance(parsed, Parsed)
    assert parsed.frame["v"].to_list() == [
        "49",
        "49.0",
        "49.0",
        "49.5",
        "0",
        "-0.0",
        "1e-07",
        "12345678901234567890123",
    ]
