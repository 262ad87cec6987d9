"""Readable numbers: each format on the values people see most."""

from __future__ import annotations

import datetime as dt

import pytest

from pmkit.formatting import (
    format_change,
    format_currency,
    format_date,
    format_duration,
    format_number,
    format_percent,
    format_value,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (7, "7"),
        (0.256, "0.26"),
        (45.25, "45.3"),
        (1234, "1,234"),
        (99_999, "99,999"),
        (123_456, "123k"),
        (2_500_000, "2.5M"),
        (None, "–"),
        (float("nan"), "–"),
    ],
)
def test_format_number(value, text):
    assert format_number(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(6.456, "$6.46"), (991, "$991"), (12_345, "$12.3k"), (1_250_000, "$1.3M"), (-40, "-$40")]
)
def test_format_currency(value, text):
    assert format_currency(value) == text


def test_percent_metrics_hold_shares_and_change_in_points():
    assert format_percent(0.412) == "41.2%"
    assert format_value(0.412, "percent") == "41.2%"
    assert format_change(0.44, 0.408, "percent") == "+3.2 pts"
    assert format_change(0.40, 0.45, "percent") == "-5.0 pts"


def test_changes_of_counts_are_relative_and_say_when_the_base_is_zero():
    assert format_change(120, 100) == "+20.0%"
    assert format_change(80, 100) == "-20.0%"
    assert format_change(5, 0) == "+5 (from 0)"
    assert format_change(None, 100) == "–"


def test_durations_and_dates():
    assert [format_duration(s) for s in (42, 600, 5400, 302_400)] == ["42 s", "10 min", "1.5 h", "3.5 days"]
    assert format_date(dt.date(2026, 3, 1)) == "1 Mar 2026"
    assert format_date(None) == "–"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Expected: what the browser's own Number.toFixed gave for the same values (Debian's
        # chromium), which the charts' hovers and the tables use. An exact half goes away from
        # zero (Python's format rounds each of these to even).
        (lambda: format_currency(46.125), "$46.13"),
        (lambda: format_currency(-46.125), "-$46.13"),
        (lambda: format_number(45.25), "45.3"),
        (lambda: format_change(0.8125, 0.75, "percent"), "+6.3 pts"),
        (lambda: format_change(101.25, 100.0), "+1.3%"),
        (lambda: format_change(102.25, 100.0), "+2.3%"),
        (lambda: format_percent(0.00125, 2), "0.13%"),
        (lambda: format_duration(8100), "2.3 h"),
        # A float a hair below a half stays below, as in toFixed: rounding the text "2.675" up
        # (Decimal(str(x))) would write $2.68.
        (lambda: format_currency(2.675), "$2.67"),
    ],
)
def test_halves_round_as_the_browser_rounds(text, expected):
    assert text() == expected
