"""Look at the first bytes of a file and learn its layout, encoding and delimiter.

Detection looks at content only, never the file name: analysts rename exports freely.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
import zlib
from pathlib import Path

import pyarrow.parquet as pq

from pmkit.sources.base import Rejected, RowError, Sample

HEAD_BYTES = 256 * 1024
PARQUET_MAGIC = b"PAR1"
DELIMITERS = (",", ";", "\t", "|")


def decode(data: bytes) -> tuple[str, str]:
    """Return (text, codec). UTF-8 (with or without BOM) first, then UTF-16 with a BOM, then
    Windows-1252, which Excel on Windows writes for "CSV" and which can decode any byte but five."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="ignore"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="ignore"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the head limit is still UTF-8: the bytes run out in the
        # middle of it. A Windows-1252 letter near the end (`Ä` then a line break) is not.
        if exc.reason == "unexpected end of data" and exc.end == len(data):
            return data[: exc.start].decode("utf-8"), "utf-8"
        # `Zürich` as UTF-8 (c3 bc) before a stray `\xff`: a UTF-8 file with a damaged byte.
        # Read as Windows-1252 it would load as `ZÃ¼rich`, so it is rejected instead.
        if not data[: exc.start].isascii():
            raise Rejected([not_utf8_error(data[:HEADER_BYTES], data[: exc.start], data[exc.start])]) from exc
    return data.decode("cp1252", errors="replace"), "cp1252"


# The header line is looked for in the first 64 KiB, the bad byte's line in the 64 KiB before it.
HEADER_BYTES = 64 * 1024
UTF8_CHUNK_BYTES = 16 << 20


NOT_UTF8 = "which is not UTF-8 though the rest of the file is (the file is damaged or mixes encodings; fix the value"
NOT_CP1252 = "which is neither UTF-8 nor Windows-1252 (a file in another encoding, such as Shift-JIS: open it"


def line_break(head: bytes) -> bytes:
    """The byte that ends a line in a file starting with ``head``: CR alone in classic Mac
    Excel's CSV (no LF anywhere), else LF (CRLF too)."""
    return b"\r" if b"\n" not in head and b"\r" in head else b"\n"


def not_utf8_error(
    head: bytes,
    before: bytes,
    byte: int,
    newlines_before: int | None = None,
    why: str = NOT_UTF8,
    encoding: str = "utf-8",
) -> RowError:
    """The error for a file with a byte that is not in its ``encoding``: ``before`` ends where the
    bad ``byte`` is (at least its line), ``newlines_before`` counts the line breaks
    (``line_break``) before it when ``before`` is not the whole start of the file. Rows are
    counted as lines, header = row 1. The text before the byte is read in the file's encoding: a
    Windows-1252 `Renée` was shown as `Ren�e` (review)."""
    end = line_break(head)
    row = (before.count(end) if newlines_before is None else newlines_before) + 1
    line = before[before.rfind(end) + 1 :].decode(encoding, errors="replace")
    column, value = None, line[-20:]
    if row > 1 and not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"[")):
        header_line = head.split(end, 1)[0].decode(encoding, errors="replace").lstrip("\ufeff")
        delimiter = sniff_delimiter(header_line)
        names = next(csv.reader([header_line], delimiter=delimiter), [])
        # `2026-03-01T11:00:00Z,u2,a,US` before the byte: the 4th field, `US` so far.
        fields = next(csv.reader([line], delimiter=delimiter), []) or [""]
        column = names[len(fields) - 1].strip() if len(fields) <= len(names) else None
        value = fields[-1][-20:]
    return RowError(
        row,
        column,
        f"'{value}' is followed by the byte 0x{byte:02x}, {why} and save the file as UTF-8, e.g. Excel's \"CSV UTF-8\")",
    )


def first_non_utf8(path: Path, end: bytes = b"\n") -> tuple[int, int, bool] | None:
    """Where the first byte that is not UTF-8 is, for a file whose head is UTF-8: (offset, line
    breaks ``end`` before it, whether a multi-byte character came before it), or None when there
    is none. The file is decoded once, in 16 MiB pieces, up to the bad byte."""
    offset, newlines, multibyte, carry = 0, 0, False, b""
    with open(path, "rb") as handle:
        while chunk := handle.read(UTF8_CHUNK_BYTES):
            data = carry + chunk
            try:
                data.decode("utf-8")
                good, carry = len(data), b""
            except UnicodeDecodeError as exc:
                if exc.reason != "unexpected end of data" or exc.end != len(data):
                    newlines += data.count(end, 0, exc.start)
                    return offset + exc.start, newlines, multibyte or not data[: exc.start].isascii()
                good, carry = exc.start, data[exc.start :]  # a character cut by the piece
            newlines += data.count(end, 0, good)
            multibyte = multibyte or not data[:good].isascii()
            offset += good
    return (offset, newlines, multibyte) if carry else None  # the file ends inside a character


def _utf16_without_bom(data: bytes) -> bool:
    r"""Text of two bytes a character with no byte-order mark: a zero in every other byte, as
    plain letters and digits give in UTF-16 LE or BE.

    >>> _utf16_without_bom("event_time,user_id\n".encode("utf-16-le")), _utf16_without_bom(b"event_time,user_id\n")
    (True, False)
    """
    head = data[:4096]
    if len(head) < 16 or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    for zeros, letters in ((head[1::2], head[0::2]), (head[0::2], head[1::2])):
        if zeros.count(0) > 0.9 * len(zeros) and letters.count(0) < 0.1 * len(letters):
            return True
    return False


def looks_binary(data: bytes) -> bool:
    """NUL bytes or many control characters mean this is not a text export (zip, xlsx, image)."""
    if not data:
        return False
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    if b"\x00" in data[:8192]:
        return True
    head = data[:8192]
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    return controls > len(head) * 0.01


def sniff_delimiter(header_line: str) -> str:
    """The delimiter is the candidate that splits the header line into the most fields,
    outside quotes: `event_time;user_id;event` is a `;` file even if a name holds a comma."""
    best, best_count = ",", 0
    for delimiter in DELIMITERS:
        try:
            fields = next(csv.reader([header_line], delimiter=delimiter))
        except (csv.Error, StopIteration):
            continue
        if len(fields) > best_count:
            best, best_count = delimiter, len(fields)
    return best


TOO_DEEP = (
    "this JSON nests deeper than it can be read (over 900 levels); flatten the nested properties and export it again"
)


def first_json_records(text: str, limit: int = 50) -> list[dict]:
    """The first complete JSON objects of a JSON-lines text (the last line may be cut)."""
    records: list[dict] = []
    for number, line in enumerate(text.splitlines()[:limit], start=1):
        line = line.strip()
        if not line:
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            break
        except RecursionError:
            raise Rejected([RowError(number, None, TOO_DEEP)]) from None
        if isinstance(value, dict):
            records.append(value)
    return records


def first_array_records(text: str, limit: int = 50) -> list[dict]:
    """The first complete JSON objects of a JSON array's head (``[{...}, {...}, ...``, cut
    anywhere): a JSON array export is read whole later, its head only tells what it is."""
    decoder = json.JSONDecoder()
    records: list[dict] = []
    at = text.index("[") + 1
    while len(records) < limit:
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        if at >= len(text) or text[at] == "]":
            break
        try:
            value, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            break  # the head ends inside this object
        except RecursionError:
            raise Rejected([RowError(len(records) + 1, None, TOO_DEEP)]) from None
        if isinstance(value, dict):
            records.append(value)
    return records


def _json_sample(path: Path, layout: str, encoding: str, text: str, records: list[dict]) -> Sample:
    """A JSON export's sample: its columns are every key of its first records, in first-seen order."""
    keys: dict[str, None] = {}
    for record in records:
        keys.update(dict.fromkeys(record))
    return Sample(path=path, layout=layout, encoding=encoding, text=text, columns=tuple(keys), records=tuple(records))


# What an archive of exports holds; gzip parts (events.csv.gz) load as they are, other gzip
# files (photos.tar.gz) are no export.
EXPORT_SUFFIXES = tuple(
    f"{name}{gz}" for name in (".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson", ".parquet") for gz in ("", ".gz")
)
SPREADSHEET_ZIP = (
    "this is a zip file, most likely an Excel workbook (.xlsx); open it and save the sheet as CSV "
    "(File > Save as > CSV UTF-8)"
)


def _zip_message(path: Path) -> str:
    """What a zip file is and what to do with it, from the names it lists (nothing is unpacked):
    Amplitude's export API sends its hourly .json.gz files zipped, and was told to save "the
    sheet" as CSV (ingest QA)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [name.lower() for name in archive.namelist() if not name.endswith("/")]
            # OpenDocument's first entry names the kind of document (a few bytes, read as text).
            kind = archive.open("mimetype").read(100).decode("ascii", "replace") if "mimetype" in names else ""
    except (zipfile.BadZipFile, OSError, ValueError, KeyError):
        return SPREADSHEET_ZIP
    if any(name.startswith("xl/") for name in names):
        return SPREADSHEET_ZIP
    if "opendocument.spreadsheet" in kind:  # LibreOffice / OpenDocument (.ods, and .ots templates)
        return (
            "this is an OpenDocument spreadsheet (.ods); open it and save the sheet as CSV (File > Save As > Text CSV)"
        )
    if kind.startswith("application/vnd.oasis.opendocument"):  # a text document (.odt), a slide deck...
        return "this is an OpenDocument file, not a spreadsheet or an export: export the data itself as CSV"
    if any(name.startswith("index/") or name.endswith(".iwa") for name in names):
        return "this is a Numbers document; export it as CSV (File > Export To > CSV)"
    exports = [name for name in names if name.endswith(EXPORT_SUFFIXES)]
    if exports:
        count = f"{len(exports):,} export {'file' if len(exports) == 1 else 'files'}"
        return (
            f"this is a zip archive of {count} (as Amplitude's export sends its hourly .json.gz files): unzip it "
            "and load the files inside (they can go into the inbox together)"
        )
    return "this is a zip archive with no CSV, JSON or Parquet export in it: unzip it and load the exports themselves"


def sniff(path: Path) -> Sample:
    """Read the head of ``path`` and describe it; reject files that cannot be an export."""
    with open(path, "rb") as handle:
        data = handle.read(HEAD_BYTES)
    if data.startswith(b"\x1f\x8b"):  # Amplitude exports hourly .json.gz files
        try:
            data = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16).decompress(data, HEAD_BYTES)
        except zlib.error as exc:
            raise Rejected(
                [RowError(None, None, f"the gzip file cannot be unpacked ({exc}); export it again")]
            ) from exc
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise Rejected(
            [RowError(None, None, "the file is empty (export it again; a CSV needs a header row and at least one row)")]
        )
    if data.startswith(PARQUET_MAGIC):
        try:
            schema = pq.read_schema(path)
        except Exception as exc:  # pyarrow raises several types for damaged files
            raise Rejected(
                [RowError(None, None, f"the Parquet file cannot be read ({exc}); it may be truncated, export it again")]
            ) from exc
        return Sample(path=path, layout="parquet", encoding="binary", text="", columns=tuple(schema.names))
    if data.startswith(b"PK\x03\x04"):  # a zip: an Excel or Numbers file, or an archive of exports
        raise Rejected([RowError(None, None, _zip_message(path))])
    if _utf16_without_bom(data):
        # Called "binary data" and told to save it as CSV, which it already was (ingest QA).
        raise Rejected(
            [
                RowError(
                    None,
                    None,
                    "this looks like UTF-16 text without a byte-order mark, which cannot be read safely; save it "
                    "as CSV UTF-8 (File > Save as > CSV UTF-8), or as UTF-16 with its byte-order mark",
                )
            ]
        )
    if looks_binary(data):
        raise Rejected(
            [
                RowError(
                    None,
                    None,
                    "this is not a text export (it looks like binary data); save it as CSV, JSON lines or Parquet",
                )
            ]
        )
    text, encoding = decode(data)
    stripped = text.lstrip()
    if stripped.startswith("{"):
        records = first_json_records(stripped)
        if not records:
            raise Rejected(
                [
                    RowError(
                        1,
                        None,
                        "the file starts like JSON but its first line is not a complete JSON object (expected one object per line)",
                    )
                ]
            )
        return _json_sample(path, "jsonl", encoding, text, records)
    if stripped.startswith("["):
        return _json_sample(path, "json", encoding, text, first_array_records(stripped))
    header_line = next(iter(text.splitlines()), "")
    delimiter = sniff_delimiter(header_line)
    columns = next(csv.reader(io.StringIO(header_line), delimiter=delimiter), [])
    return Sample(
        path=path,
        layout="csv",
        encoding=encoding,
        text=text,
        delimiter=delimiter,
        columns=tuple(c.strip() for c in columns),
    )
