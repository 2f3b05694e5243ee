"""Reading a CSV file of commerce records into the batch the sync service takes, remembering for every
value the line and column it came from, so that an error is reported where it is in the file.

One row per record, the header naming the fields (the API's field names; empty cells are absent). Orders
have one row per order line: the order's fields repeat on each of its rows, the line's fields are
`line_no`, `product`, `quantity`, `unit_price`. Lines are counted as `csv.reader` counts them (a quoted
cell spanning lines is on the line where its row starts)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from relay.commerce import services

LINE_FIELDS = ("line_no", "product", "quantity", "unit_price")


@dataclass(frozen=True)
class CsvError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return (
            f"line {self.line}, column {self.column}: {self.message}"
            if self.column
            else (f"line {self.line}: {self.message}")
        )


@dataclass
class CsvBatch:
    records: list[dict[str, Any]] = field(default_factory=list)
    # per record: its first line, and where each value came from ("lines.2.product" -> (line, column))
    first_line: list[int] = field(default_factory=list)
    where: list[dict[str, tuple[int, str]]] = field(default_factory=list)
    errors: list[CsvError] = field(default_factory=list)

    def locate(self, error: services.RowError) -> CsvError:
        """Where a sync error of record `index`, field `field` is in the file."""
        if error.index >= len(self.records):
            return CsvError(0, "", error.message)
        spots = self.where[error.index]
        if error.field in spots:
            line, column = spots[error.field]
        else:  # a field that was not in the file (required, or the whole record): its first line
            parts = error.field.split(".")
            prefix = ".".join(parts[:2]) if parts[0] == "lines" and len(parts) > 1 else ""
            line = next((ln for key, (ln, _) in spots.items() if prefix and key.startswith(prefix + ".")), 0)
            line = line or self.first_line[error.index]
            column = "" if parts[-1] == "record" else parts[-1]
        return CsvError(line, column, error.message)


def _schema_fields(kind: str) -> set[str]:
    return set(services.SPECS[kind].schema().fields) - {"lines"}


def read_csv(kind: str, rows: Iterable[list[str]]) -> CsvBatch:
    """`rows`: a csv.reader (its line_num is used when it has one)."""
    batch = CsvBatch()
    reader = iter(rows)
    line_of = (lambda: rows.line_num) if hasattr(rows, "line_num") else None
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        batch.errors.append(CsvError(1, "", "The file is empty: the first line names the columns."))
        return batch
    except csv.Error as exc:
        batch.errors.append(CsvError(1, "", f"Not a readable CSV file: {exc}"))
        return batch
    allowed = _schema_fields(kind) | (set(LINE_FIELDS) if kind == "orders" else set())
    for position, name in enumerate(header):
        if not name:
            batch.errors.append(CsvError(1, f"#{position + 1}", "A column has no name."))
        elif name not in allowed:
            batch.errors.append(CsvError(1, name, "Unknown column."))
        elif header.index(name) != position:
            batch.errors.append(CsvError(1, name, "The column appears twice."))
    if "external_id" not in header:
        batch.errors.append(CsvError(1, "external_id", "The external_id column is required."))
    if batch.errors:
        return batch
    orders: dict[str, int] = {}
    counter = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            batch.errors.append(CsvError(line_of() if line_of else counter + 1, "", f"Unreadable: {exc}"))
            break
        counter += 1
        line = line_of() if line_of else counter
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            batch.errors.append(CsvError(line, "", f"{len(cells)} cells where the header has {len(header)}."))
            continue
        values = {name: cell.strip() for name, cell in zip(header, cells, strict=True) if cell.strip()}
        if kind != "orders":
            batch.records.append(values)
            batch.first_line.append(line)
            batch.where.append({name: (line, name) for name in values})
            continue
        head = {k: v for k, v in values.items() if k not in LINE_FIELDS}
        item = {k: v for k, v in values.items() if k in LINE_FIELDS}
        key = head.get("external_id", "")
        if key not in orders:
            orders[key] = len(batch.records)
            batch.records.append({**head, "lines": []})
            batch.first_line.append(line)
            batch.where.append({name: (line, name) for name in head})
        index = orders[key]
        record = batch.records[index]
        for name, value in head.items():
            if record.get(name) != value:
                batch.errors.append(
                    CsvError(
                        line, name, f"Differs from line {batch.where[index][name][0]} of the same order."
                    )
                    if name in record
                    else CsvError(line, name, "Not on the order's first line.")
                )
        position = len(record["lines"])
        record["lines"].append(item)
        batch.where[index].update({f"lines.{position}.{name}": (line, name) for name in item})
        batch.where[index].setdefault(f"lines.{position}", (line, ""))
    if not batch.records and not batch.errors:
        batch.errors.append(CsvError(2, "", "The file has no records."))
    return batch
