"""JSON-lines exports: reading 1M lines by column (the fast path) against record by record.

    python bench/bench_json.py [--lines 1000000] [--runs 3] [--record]

Generates a PostHog batch export, an Amplitude export and a Mixpanel export of ``--lines`` JSON
lines each (seeded, cached in ``bench/data/``), shaped like real ones: PostHog's ~30 ``$``
properties with whole and fractional numbers, a feature-flag list and an occasional ``$set``
object (1.1 KB a line); Amplitude's ~50 top-level fields with event and user properties and
``$price`` x ``$quantity`` revenue (1.3 KB, most of it fields no event needs); Mixpanel's short
lines (0.3 KB). Each file
is read as the ingest reads it, ``detect(sniff(path)).read(sample, options)``, which takes the fast
path, and record by record as before it (``events_common.build_by_records``): each read in a fresh
process with the file in the page cache (the record path's gigabytes of Python objects would
otherwise evict it for the next read), the two alternated ``--runs`` times; every result's digest
(frame rows, schema, errors, mapping, format) must be the same. Prints a markdown section; ``--record`` also writes it into bench/RESULTS.md under
"JSON exports".
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import BENCH_DATA, git_commit, machine, stats, versions  # noqa: E402
from bench.results import write_section  # noqa: E402
from pmkit.sources import detect  # noqa: E402
from pmkit.sources.base import ReadOptions  # noqa: E402
from pmkit.sources.events_common import build_by_records  # noqa: E402
from pmkit.sources.sniff import sniff  # noqa: E402

START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
DAYS = 90
EVENTS = ["$pageview", "$pageview", "$autocapture", "$pageleave", "report_created", "report_shared", "purchase"]
FLAGS = ["new-nav", "ai-summary", "bulk-export", "dark-mode"]
PLANS = ["free", "free", "free", "pro", "enterprise"]
CITIES = [("DE", "Berlin", 52.52, 13.405), ("US", "New York", 40.7128, -74.006), ("FR", "Paris", 48.8566, 2.3522)]


def posthog_record(rng: random.Random, number: int) -> dict:
    """One event as posthog-js sends it and a batch export writes it."""
    moment = START + dt.timedelta(seconds=rng.randrange(DAYS * 86400), milliseconds=rng.randrange(1000))
    event = rng.choice(EVENTS)
    user = rng.randrange(40_000)
    country, city, latitude, longitude = rng.choice(CITIES)
    properties: dict[str, object] = {
        "$os": rng.choice(["Mac OS X", "Windows", "iOS", "Android"]),
        "$os_version": f"{rng.randrange(10, 15)}.{rng.randrange(6)}.0",
        "$browser": rng.choice(["Chrome", "Safari", "Firefox", "Edge"]),
        "$browser_version": rng.randrange(110, 126),
        "$device_type": rng.choice(["Desktop", "Mobile"]),
        "$current_url": f"https://app.example.com/reports/{rng.randrange(5000)}",
        "$host": "app.example.com",
        "$pathname": f"/reports/{rng.randrange(5000)}",
        "$screen_height": rng.choice([800, 900, 1080, 1440]),
        "$screen_width": rng.choice([1280, 1440, 1920, 2560]),
        "$viewport_height": rng.randrange(600, 1400),
        "$viewport_width": rng.randrange(800, 2560),
        "$lib": "web",
        "$lib_version": "1.116.0",
        "$insert_id": f"{rng.getrandbits(64):016x}",
        "$time": round(moment.timestamp(), 3),
        "$device_id": f"d-{user}",
        "$session_id": f"s-{user}-{moment:%j}",
        "$window_id": f"w-{rng.randrange(10**6)}",
        "$referrer": "$direct",
        "$referring_domain": "$direct",
        "$geoip_country_code": country,
        "$geoip_city_name": city,
        "$geoip_latitude": latitude,
        "$geoip_longitude": longitude,
        "$is_identified": rng.random() < 0.7,
        "$active_feature_flags": sorted(rng.sample(FLAGS, rng.randrange(3))),
        "$feature/new-nav": rng.random() < 0.5,
        "plan": PLANS[user % len(PLANS)],
    }
    if rng.random() < 0.05:
        properties["$set"] = {"plan": properties["plan"], "seats": rng.randrange(1, 50)}
    if event == "purchase":
        properties["revenue"] = rng.choice([49, 99, 9.99, 49.5])
    return {
        "uuid": str(uuid.UUID(int=rng.getrandbits(128))),
        "event": event,
        "distinct_id": f"u_{user}",
        "person_id": str(uuid.UUID(int=user)),
        "properties": properties,
        "person_properties": {"email": f"user{user}@example.com", "plan": properties["plan"]},
        "elements_chain": "",
        "timestamp": f"{moment:%Y-%m-%dT%H:%M:%S.%f}Z",
        "created_at": f"{moment:%Y-%m-%d %H:%M:%S}",
        "_inserted_at": f"{moment + dt.timedelta(seconds=2):%Y-%m-%dT%H:%M:%S}Z",
    }


def amplitude_record(rng: random.Random, number: int) -> dict:
    """One event of an Amplitude export (the fields of a real export line, in its order)."""
    moment = START + dt.timedelta(seconds=rng.randrange(DAYS * 86400), milliseconds=rng.randrange(1000))
    event = rng.choice(["page_viewed", "page_viewed", "report_created", "report_shared", "purchase"])
    user = rng.randrange(40_000)
    country, city, latitude, longitude = rng.choice(CITIES)
    stamp = f"{moment:%Y-%m-%d %H:%M:%S.%f}"
    event_properties: dict[str, object] = {"page": f"/reports/{rng.randrange(500)}", "source": "web"}
    if event == "purchase":
        event_properties.update({"$price": rng.choice([10, 49, 9.99]), "$quantity": rng.randrange(1, 4)})
    return {
        "server_received_time": stamp,
        "app": 123456,
        "device_carrier": None,
        "$schema": 12,
        "city": city,
        "user_id": None if user % 7 == 0 else f"u_{user}",
        "uuid": str(uuid.UUID(int=rng.getrandbits(128))),
        "event_time": stamp,
        "platform": "Web",
        "os_version": str(rng.randrange(110, 126)),
        "amplitude_id": 10**9 + user,
        "processed_time": stamp,
        "user_creation_time": "2025-07-01 08:00:00.000000",
        "version_name": rng.choice(["1.2.0", "1.3.0"]),
        "ip_address": None,
        "paying": None,
        "dma": None,
        "group_properties": {},
        "user_properties": {"plan": PLANS[user % len(PLANS)], "seats": 1 + user % 20},
        "client_upload_time": stamp,
        "$insert_id": f"{rng.getrandbits(64):016x}",
        "event_type": event,
        "library": "amplitude-ts/2.0.0",
        "amplitude_attribution_ids": None,
        "device_type": rng.choice(["Mac", "Windows", "iPhone"]),
        "device_manufacturer": None,
        "start_version": None,
        "location_lng": longitude,
        "server_upload_time": stamp,
        "event_id": number % 1000,
        "location_lat": latitude,
        "os_name": rng.choice(["Chrome", "Safari", "Edge"]),
        "amplitude_event_type": None,
        "device_brand": None,
        "groups": {},
        "event_properties": event_properties,
        "data": {},
        "device_id": f"d-{user}",
        "language": rng.choice(["German", "English", "French"]),
        "device_model": "Mac OS",
        "country": country,
        "region": city,
        "is_attribution_event": False,
        "adid": None,
        "session_id": -1 if rng.random() < 0.1 else int(moment.timestamp() * 1000) - rng.randrange(3_600_000),
        "device_family": "Mac",
        "sample_rate": None,
        "idfa": None,
        "client_event_time": stamp,
    }


def mixpanel_record(rng: random.Random, number: int) -> dict:
    """One event of a Mixpanel raw export: short lines, all fields under ``properties``."""
    moment = START + dt.timedelta(seconds=rng.randrange(DAYS * 86400))
    event = rng.choice(["Page Viewed", "Page Viewed", "Report Created", "Report Shared", "Purchase"])
    user = rng.randrange(40_000)
    country, city, _, _ = rng.choice(CITIES)
    properties: dict[str, object] = {
        "time": int(moment.timestamp()),
        "distinct_id": f"u_{user}",
        "$insert_id": f"{rng.getrandbits(64):016x}",
        "mp_processing_time_ms": int(moment.timestamp() * 1000) + rng.randrange(5000),
        "$os": rng.choice(["Mac OS X", "Windows", "iOS", "Android"]),
        "$browser": rng.choice(["Chrome", "Safari", "Firefox"]),
        "$city": city,
        "mp_country_code": country,
        "$screen_width": rng.choice([1280, 1440, 1920]),
        "plan": PLANS[user % len(PLANS)],
    }
    if event == "Purchase":
        properties["revenue"] = rng.choice([49, 99, 9.99])
    return {"event": event, "properties": properties}


VENDORS = {"PostHog": posthog_record, "Amplitude": amplitude_record, "Mixpanel": mixpanel_record}


def export(vendor: str, lines: int) -> Path:
    """The cached export of ``lines`` JSON lines, written once."""
    path = BENCH_DATA / f"{vendor.lower()}_{lines}.jsonl"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    make = VENDORS[vendor]
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for number in range(lines):
            out.write(json.dumps(make(rng, number)) + "\n")
    tmp.rename(path)
    return path


def read_once(path: Path, reading: str) -> dict[str, object]:
    """One timed read in this process, and a digest of the Parsed it gave (frame, errors, mapping)."""
    sample = sniff(path)
    module = detect(sample)
    readings = {
        "record": lambda: build_by_records(sample, module.EXPORT),
        "column": lambda: module.read(sample, options),
    }
    options = ReadOptions()
    began = time.perf_counter()
    parsed = readings[reading]()
    seconds = time.perf_counter() - began
    digest = hashlib.sha256(parsed.frame.hash_rows(seed=0).to_numpy().tobytes())
    digest.update(repr((parsed.frame.schema, parsed.errors, parsed.mapping, parsed.format)).encode())
    return {"seconds": seconds, "digest": digest.hexdigest()}


def timed_read(path: Path, reading: str) -> dict[str, object]:
    """``read_once`` in a fresh process, as an ingest runs, with the file in the page cache."""
    with path.open("rb") as handle:
        while handle.read(1 << 24):
            pass
    script = Path(__file__).resolve()
    done = subprocess.run(
        [sys.executable, str(script), "--once", reading, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--record", action="store_true", help="write the section into bench/RESULTS.md")
    parser.add_argument("--once", nargs=2, metavar=("READING", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.once:
        print(json.dumps(read_once(Path(args.once[1]), args.once[0])))
        return
    lines = [
        f"Machine: {machine()}; {versions()}; commit {git_commit()}; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "| export | lines | MB | reading | min s | median s | max s | speed-up (median) | same result |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for vendor in VENDORS:
        path = export(vendor, args.lines)
        # Alternated, so that a busy neighbour on a shared machine slows both alike.
        runs = [(timed_read(path, "record"), timed_read(path, "column")) for _ in range(args.runs)]
        before = stats([slow["seconds"] for slow, _ in runs])
        after = stats([fast["seconds"] for _, fast in runs])
        same = len({result["digest"] for run in runs for result in run}) == 1
        size = path.stat().st_size / 2**20
        for name, s, ratio in (
            ("record by record (before)", before, ""),
            ("`read`: by column (after)", after, f"{before['median'] / after['median']:.1f}×"),
        ):
            lines.append(
                f"| {vendor} | {args.lines:,} | {size:,.0f} | {name} | {s['min']:.2f} | {s['median']:.2f} "
                f"| {s['max']:.2f} | {ratio} | {'yes' if same else 'NO'} |"
            )
        print("\n".join(lines), flush=True)
    if args.record:
        write_section("JSON exports", "\n".join(lines))


if __name__ == "__main__":
    main()
