"""Reading and writing the tables people and account codes travel in: CSV, TSV, XLSX.

A file is read whole into rows of text cells, each with the row number a
spreadsheet shows it at (the header is row 1). Whatever is wrong with the file
as a whole — too big, not a table, not in the expected encoding — raises
``FileRefused`` with a message for the user; what is wrong with a row is the
importer's business.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
FORMATS = ("csv", "tsv", "xlsx")
TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1", "on", "x", "si", "sì", "oui", "ja"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "0", "off", "non", "nein"})


class FileRefused(Exception):
    """A file that cannot be read as a table; the message says why."""


@dataclass
class Table:
    format: str
    headers: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (row number, cells)
    delimiter: str = ""

    def __len__(self) -> int:
        return len(self.rows)


def header_key(text: str) -> str:
    """A header as compared: lower case, letters and digits only ("First name" → "firstname")."""
    return re.sub(r"[^0-9a-z]", "", (text or "").strip().lower())


def match_headers(headers: list[str], aliases: dict[str, str]) -> tuple[dict[str, int], list[str]]:
    """Column index of each known column, and the headers nobody knows.

    ``aliases`` maps header keys (see ``header_key``) to canonical column names.
    """
    found: dict[str, int] = {}
    unknown = []
    for index, header in enumerate(headers):
        key = header_key(header)
        if not key:
            continue
        name = aliases.get(key)
        if name is None:
            unknown.append(header)
            continue
        if name in found:
            raise FileRefused(f"columns {headers[found[name]]!r} and {header!r} both give {name}; keep one.")
        found[name] = index
    return found, unknown


def parse_bool(text: str, default: bool) -> bool:
    value = (text or "").strip().lower()
    if not value:
        return default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ValueError(f"{text!r} is not yes or no (use yes/no, true/false or 1/0)")


# --- reading ------------------------------------------------------------------

def read_table(path: Path, encoding: str | None = None, file_format: str | None = None) -> Table:
    """The table in a CSV, TSV or XLSX file, told apart by content and name."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FileRefused(f"cannot read {path}: {exc.strerror}") from None
    if not path.is_file():
        raise FileRefused(f"{path} is not a file")
    if size > MAX_FILE_BYTES:
        raise FileRefused(
            f"{path} is {size / 1048576:.1f} MB; files over {MAX_FILE_BYTES // 1048576} MB are refused. "
            "Split it into smaller files."
        )
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise FileRefused(f"cannot read {path}: {exc.strerror}") from None
    if not data.strip():
        raise FileRefused(f"{path} is empty")
    suffix = path.suffix.lower()
    kind = file_format or _kind(data, suffix)
    if kind == "xlsx":
        return read_xlsx(data, path.name)
    return read_text(data, path.name, encoding=encoding, tabs=(kind == "tsv"))


def _kind(data: bytes, suffix: str) -> str:
    if data.startswith(b"PK\x03\x04"):
        if suffix == ".ods":
            raise FileRefused("OpenDocument spreadsheets (.ods) are not read; save the sheet as XLSX or CSV.")
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused("this is an old Excel 97-2003 workbook (.xls); save it as XLSX or CSV.")
    if suffix in {".xlsx", ".xlsm"}:
        raise FileRefused("the file is named .xlsx but is no XLSX workbook (it is not a ZIP archive).")
    if suffix in {".tsv", ".tab"}:
        return "tsv"
    return "csv"


def decode(data: bytes, name: str, encoding: str | None = None) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"  # Excel's "Unicode text": UTF-16 with a byte order mark
    elif data.startswith(b"\xef\xbb\xbf") and encoding in (None, "utf-8", "utf8"):
        encoding = "utf-8-sig"
    encoding = encoding or "utf-8"
    try:
        text = data.decode(encoding)
    except LookupError:
        raise FileRefused(f"{encoding!r} is not an encoding Python knows (try utf-8 or cp1252)") from None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileRefused(
            f"{name} is not {encoding} text: byte 0x{data[exc.start]:02x} on line {line} cannot be read. "
            "Save the file as UTF-8 (Excel: \"CSV UTF-8\"), or give its encoding, e.g. --encoding cp1252."
        ) from None
    if "\x00" in text:
        raise FileRefused(f"{name} is not a text table (it contains NUL bytes); use CSV, TSV or XLSX.")
    return text


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header line: the most frequent of , ; and tab outside quotes."""
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            if ch in "\r\n":
                break
            if ch in counts:
                counts[ch] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_text(data: bytes, name: str, encoding: str | None = None, tabs: bool = False) -> Table:
    text = decode(data, name, encoding)
    delimiter = "\t" if tabs else ""
    # Excel writes (and honours) a first line "sep=;" naming the delimiter.
    first_line, _, rest = text.partition("\n")
    match = re.fullmatch(r"sep=(.)\r?", first_line)
    if match:
        delimiter, text = match.group(1), rest
    delimiter = delimiter or sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True,
                        skipinitialspace=False, strict=False)
    return _collect(_csv_rows(reader, name), "tsv" if delimiter == "\t" else "csv", delimiter, name)


def _csv_rows(reader, name: str) -> Iterable[list[str]]:
    try:
        yield from reader
    except csv.Error as exc:
        raise FileRefused(f"{name} is not a readable CSV file near line {reader.line_num}: {exc}") from None


def read_xlsx(data: bytes, name: str) -> Table:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise FileRefused(f"{name} is not a readable XLSX workbook ({exc or type(exc).__name__}).") from None
    try:
        if not workbook.worksheets:
            raise FileRefused(f"{name} has no worksheet")
        sheet = workbook.worksheets[0]
        rows = ([_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True))
        return _collect(rows, "xlsx", "", name)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileRefused(f"{name} is not a readable XLSX workbook ({exc or type(exc).__name__}).") from None
    finally:
        workbook.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _collect(rows: Iterable[list[str]], kind: str, delimiter: str, name: str) -> Table:
    """The first non-blank row is the header; blank rows are counted, not kept."""
    table: Table | None = None
    for number, cells in enumerate(rows, start=1):
        cells = [(c or "").strip() for c in cells]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if table is None:
            table = Table(format=kind, headers=cells, delimiter=delimiter)
            continue
        if len(table.rows) >= MAX_ROWS:
            raise FileRefused(f"{name} has more than {MAX_ROWS:,} rows; split it into smaller files.")
        table.rows.append((number, cells))
    if table is None:
        raise FileRefused(f"{name} has no header row")
    return table


# --- writing ------------------------------------------------------------------

def write_table(headers: list[str], rows: Iterable[list[str]], file_format: str, target, bom: bool = False) -> int:
    """Write a table; ``target`` is a path (any format) or a text stream (CSV/TSV). Returns the rows written."""
    if file_format not in FORMATS:
        raise ValueError(f"unknown format {file_format!r}")
    if file_format == "xlsx":
        return _write_xlsx(headers, rows, target)
    delimiter = "\t" if file_format == "tsv" else ","
    if isinstance(target, str | Path):
        with open(target, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
            return _write_csv(headers, rows, handle, delimiter)
    if bom:
        target.write("\ufeff")
    return _write_csv(headers, rows, target, delimiter)


def _write_csv(headers, rows, handle, delimiter: str) -> int:
    writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


def _write_xlsx(headers, rows, target) -> int:
    import xlsxwriter

    if not isinstance(target, str | Path):
        raise ValueError("XLSX is written to a file; give --output FILE")
    workbook = xlsxwriter.Workbook(str(target), {"constant_memory": True, "strings_to_numbers": False,
                                                 "strings_to_formulas": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet("people" if "username" in headers else "data")
    bold = workbook.add_format({"bold": True})
    text = workbook.add_format({"num_format": "@"})
    sheet.freeze_panes(1, 0)
    for col, header in enumerate(headers):
        sheet.write_string(0, col, header, bold)
    count = 0
    for count, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            # Written as text, so numbers keep their leading zeros (0123, 0039…).
            if value != "":
                sheet.write_string(count, col, str(value), text)
    workbook.close()
    return count
