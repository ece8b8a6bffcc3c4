"""CSV and XLSX writers that never hold a whole export in memory.

CSV is produced as a generator of text chunks (a Flask streaming response, or a file). XLSX is written by
openpyxl in write-only mode (rows go to a temporary file as they come) and then streamed from that file.
Cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR at the start) are prefixed with an
apostrophe: exported titles are user content.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_CHUNK_ROWS = 1000
FILE_CHUNK_BYTES = 64 * 1024

Sheet = tuple[str, Sequence[str], Iterable[Sequence]]  # (title, header, rows)


def cell(value):
    """One value as a spreadsheet should get it: text made inert, times as ISO 8601, Decimals exact."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence], *, bom: bool = True,
               progress: Callable[[int], None] | None = None) -> Iterator[str]:
    """The CSV as text chunks of CSV_CHUNK_ROWS rows; a UTF-8 BOM first so spreadsheets read CJK text right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    if bom:
        yield "\ufeff"
    pending = 0
    for row in rows:
        writer.writerow([cell(v) for v in row])
        pending += 1
        if pending == CSV_CHUNK_ROWS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if progress:
                progress(pending)
            pending = 0
    yield buffer.getvalue()
    if progress and pending:
        progress(pending)


def write_xlsx(target, sheets: Iterable[Sheet], *, progress: Callable[[int], None] | None = None) -> None:
    """Write the sheets to `target` (a path or a binary file) with openpyxl's write-only workbook."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append(list(header))
        pending = 0
        for row in rows:
            sheet.append([cell(v) for v in row])
            pending += 1
            if progress and pending == CSV_CHUNK_ROWS:
                progress(pending)
                pending = 0
        if progress and pending:
            progress(pending)
    workbook.save(target)


def xlsx_chunks(sheets: Iterable[Sheet]) -> Iterator[bytes]:
    """Build the workbook in a temporary file, stream it, and remove the file (also when the client leaves)."""
    handle, path = tempfile.mkstemp(prefix="innobridge-export-", suffix=".xlsx")
    os.close(handle)
    try:
        write_xlsx(path, sheets)
        with open(path, "rb") as stream:
            while chunk := stream.read(FILE_CHUNK_BYTES):
                yield chunk
    finally:
        os.unlink(path)


XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"
