"""Readable numbers for people: 1,234 users; 41.2%; $12.3k; +3.2 pts; 2.5 h.

One place decides how a value of each metric format (number, percent, currency; see
``pmkit.definitions.FORMATS``) is written, so a scorecard, a chart's hover text, a table and the
narrative never disagree. Percent metrics hold shares (0.412), not percentages (41.2).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal, localcontext

MISSING = "–"


def fixed(value: float, decimals: int, flags: str = "") -> str:
    """``value`` with ``decimals`` decimals, an exact half rounded away from zero, as the
    browser's charts and tables round (JavaScript's ``toFixed``): Python's own format rounds a
    half to even, so ARPU 46.125 read $46.12 on a card and $46.13 in the chart's hover. ``flags``
    go before the precision (",", '+').

    >>> fixed(46.125, 2), fixed(-46.125, 2, ','), fixed(6.25, 1, '+'), fixed(1234.5, 0, ','), fixed(0.15, 1)
    ('46.13', '-46.13', '+6.3', '1,235', '0.1')
    >>> fixed(2.0**100, 0, ','), fixed(float("inf"), 1), fixed(float("nan"), 2)
    ('1,267,650,600,228,229,401,496,703,205,376', 'inf', 'nan')
    """
    if not math.isfinite(value):
        return f"{value:{flags}.{decimals}f}"  # "inf", "nan", as Python writes them
    # Decimal(value) is the float's exact value: 0.15 is 0.1499999... and stays 0.1, as in toFixed.
    # Enough digits for any float (a revenue cell holding an order number, 1.2e29, overflowed
    # the default 28 and the CLI's table ended in a traceback; review).
    with localcontext(prec=400):
        exact = Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{exact:{flags}.{decimals}f}"


def _is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value)))


def significant(value: float, digits: int = 2) -> str:
    """A number with ``digits`` significant digits in plain notation, trailing zeros dropped: a
    crash rate's target of 5e-05 was written so in a sentence, and 0.0062 as 0.01 on its card.

    >>> significant(0.0062), significant(0.00014), significant(5e-05), significant(2.5, 4)
    ('0.0062', '0.00014', '0.00005', '2.5')
    """
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    text = fixed(value, decimals)
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_number(value: float | None) -> str:
    """1,234 below 100,000, then 123k and 1.2M; fractions keep the digits that matter.

    >>> [format_number(v) for v in (7, 45.25, 1234, 123_456, 2_500_000, 0.256, 0.0062)]
    ['7', '45.3', '1,234', '123k', '2.5M', '0.26', '0.0062']
    """
    if _is_missing(value):
        return MISSING
    size = abs(value)
    if size >= 1e9:
        return f"{fixed(value / 1e9, 1, ',')}B"
    if size >= 1e6:
        return f"{fixed(value / 1e6, 1, ',')}M"
    if size >= 1e5:
        return f"{fixed(value / 1e3, 0, ',')}k"
    if size >= 100 or float(value).is_integer():
        return fixed(value, 0, ",")
    if size >= 10:
        return fixed(value, 1, ",")
    if size < 0.1:
        return significant(value)  # two decimals made 0.0062 "0.01" and 0.004 "0.00"
    return fixed(value, 2, ",")


def format_currency(value: float | None, symbol: str = "$") -> str:
    """$991, $6.46, $12.3k, $1.2M.

    >>> [format_currency(v) for v in (6.456, 991, 12_345, 1_250_000, -40)]
    ['$6.46', '$991', '$12.3k', '$1.3M', '-$40']
    """
    if _is_missing(value):
        return MISSING
    sign, size = ("-" if value < 0 else ""), abs(value)
    if size >= 1e6:
        text = f"{fixed(size / 1e6, 1, ',')}M"
    elif size >= 1e3:
        text = f"{fixed(size / 1e3, 1, ',')}k"
    elif size >= 100 or float(size).is_integer():
        text = fixed(size, 0, ",")
    else:
        text = fixed(size, 2, ",")
    return f"{sign}{symbol}{text}"


def format_percent(share: float | None, digits: int = 1) -> str:
    """A share as a percentage: 0.412 -> 41.2%.

    >>> format_percent(0.412), format_percent(1.0), format_percent(None)
    ('41.2%', '100.0%', '–')
    """
    if _is_missing(share):
        return MISSING
    return f"{fixed(share * 100, digits)}%"


def format_value(value: float | None, fmt: str = "number") -> str:
    """A metric value in its format (number, percent or currency).

    >>> format_value(0.412, "percent"), format_value(12_345, "currency"), format_value(1234, "number")
    ('41.2%', '$12.3k', '1,234')
    """
    if fmt == "percent":
        return format_percent(value)
    if fmt == "currency":
        return format_currency(value)
    return format_number(value)


def whole_points(value: float, sign: bool = False) -> str:
    """An NPS (or a change of one) in whole points, a half rounded away from zero as people and
    the charts round it: +12.5 was shown as +12 on the cards (Python rounds halves to even) and
    13 in the chart's hover.

    >>> whole_points(12.5, sign=True), whole_points(-12.5), whole_points(0.4), whole_points(2.5)
    ('+13', '-13', '0', '3')
    """
    rounded = math.copysign(math.floor(abs(value) + 0.5), value) + 0.0  # + 0.0: no "-0"
    return fixed(rounded, 0, "+") if sign else fixed(rounded, 0)


def percent_words(pct: float, sign: bool = True) -> str:
    """A relative change for a sentence: whole percents from 10% on, one decimal below ("$18.11
    to $18.18 (+0%)" read as no change beside a table's "+0.4%").

    >>> percent_words(49.2), percent_words(0.39), percent_words(-9.96), percent_words(-3.04, sign=False)
    ('+49%', '+0.4%', '-10%', '3.0%')
    >>> percent_words(-0.04), percent_words(0.004, sign=False), percent_words(-1.85e-14)
    ('-0.04%', '0.004%', '+0.0%')
    """
    if abs(pct) < 1e-9:  # float noise of no change: not "-0.00000000000002%"
        pct = 0.0
    shown = pct if sign else abs(pct)
    text = f"{fixed(shown, 0)}%" if abs(pct) >= 9.95 else f"{fixed(shown, 1)}%"
    if pct and round(abs(pct), 1) == 0:  # a change that is not none: "-0.0%" said a fall of nothing
        text = f"{significant(shown, 1)}%"
    return f"+{text}" if sign and pct >= 0 and not text.startswith("-") else text


def format_change(value: float | None, base: float | None, fmt: str = "number") -> str:
    """The change from ``base`` to ``value``: percentage points for percent metrics, else a
    relative change (and the absolute one when the base is zero).

    >>> format_change(0.44, 0.408, "percent"), format_change(120, 100), format_change(5, 0)
    ('+3.2 pts', '+20.0%', '+5 (from 0)')
    """
    if _is_missing(value) or _is_missing(base):
        return MISSING
    if fmt == "percent":
        return f"{fixed((value - base) * 100, 1, '+')} pts"
    if base == 0:
        return f"+{format_value(value, fmt)} (from 0)" if value >= 0 else f"{format_value(value, fmt)} (from 0)"
    return f"{fixed((value - base) / abs(base) * 100, 1, '+')}%"


def format_duration(seconds: float | None) -> str:
    """Seconds as the largest sensible unit.

    >>> [format_duration(s) for s in (42, 600, 5400, 302_400)]
    ['42 s', '10 min', '1.5 h', '3.5 days']
    """
    if _is_missing(seconds):
        return MISSING
    if seconds < 60:
        return f"{fixed(seconds, 0)} s"
    if seconds < 3600:
        return f"{fixed(seconds / 60, 0)} min"
    if seconds < 86_400:
        return f"{fixed(seconds / 3600, 1)} h"
    return f"{fixed(seconds / 86_400, 1)} days"


def format_date(day: dt.date | None) -> str:
    """26 Nov 2026: unambiguous in every locale.

    >>> format_date(dt.date(2026, 11, 26))
    '26 Nov 2026'
    """
    if day is None:
        return MISSING
    return f"{day.day} {day:%b %Y}"


def counted(count: int, noun: str) -> str:
    """A count with its noun in the singular or the plural ("1 answer", "2,010 answers").

    >>> counted(1, "answer"), counted(2010, "roadmap item")
    ('1 answer', '2,010 roadmap items')
    """
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def format_days(count: int) -> str:
    """1 day, 28 days.

    >>> format_days(1), format_days(28)
    ('1 day', '28 days')
    """
    return f"{count:,} day" if count == 1 else f"{count:,} days"


def plotly_tick_format(fmt: str, largest: float | None = None) -> str:
    """The d3 format of a Plotly value axis for a metric format. SI prefixes (12k, $1.2M) only
    when the axis reaches 1,000: below that d3 writes 0.2 as "200m", which reads as millions.

    >>> plotly_tick_format("currency", 0.8), plotly_tick_format("currency", 19_000), plotly_tick_format("number", 2.5)
    ('$,.2~f', '$~s', ',.2~f')

    Percents keep the decimals their axis needs: features used by 0.3% of MAU had six ticks of
    "0%" (QA).

    >>> plotly_tick_format("percent", 0.45), plotly_tick_format("percent", 0.06), plotly_tick_format("percent", 0.003)
    ('.0%', '.1~%', '.2~%')
    """
    if fmt == "percent":
        size = abs(largest) if largest is not None else 1.0
        return ".2~%" if size < 0.01 else ".1~%" if size < 0.1 else ".0%"
    small = largest is not None and abs(largest) < 1000
    return ("$" if fmt == "currency" else "") + (",.2~f" if small else "~s")


def plotly_hover_format(fmt: str) -> str:
    return {"percent": ".1%", "currency": "$,.2f"}.get(fmt, ",.4~g")


# Bidirectional controls: an embedding or override (LRE, RLE, LRO, RLO) runs until a PDF, an
# isolate (LRI, RLI, FSI) until a PDI. Left open in a file's text, they mirrored pmkit's own text
# after it ("reludehcs tsegiD" in the report; hosted QA).
BIDI_EMBEDDINGS = "\u202a\u202b\u202d\u202e"
BIDI_ISOLATES = "\u2066\u2067\u2068"


def closed_bidi(text: str) -> str:
    """``text`` with every bidirectional embedding, override or isolate it leaves open closed at
    its end: it still shows as typed, and what follows it reads as it should. Read left to right
    as Unicode does: a closer with nothing open before it closes nothing (counting them let
    "\u202c\u202e" leave the override open; review).

    >>> closed_bidi("\u202etxt.exe") == "\u202etxt.exe\u202c", closed_bidi("plain")
    (True, 'plain')
    >>> closed_bidi("\u202c\u202eevil") == "\u202c\u202eevil\u202c"
    True
    >>> closed_bidi("\u2067a\u202eb\u2069") == "\u2067a\u202eb\u2069"  # a PDI closes the override in it too
    True
    """
    stack: list[str] = []
    for char in text:
        if char in BIDI_EMBEDDINGS or char in BIDI_ISOLATES:
            stack.append(char)
        elif char == "\u202c" and stack and stack[-1] in BIDI_EMBEDDINGS:
            stack.pop()
        elif char == "\u2069" and any(c in BIDI_ISOLATES for c in stack):
            while stack.pop() not in BIDI_ISOLATES:
                pass
    return text + "".join("\u2069" if c in BIDI_ISOLATES else "\u202c" for c in reversed(stack))
