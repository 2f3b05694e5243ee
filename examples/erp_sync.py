#!/usr/bin/env python3
"""A sample ERP/billing sync: pushes a product catalogue, orders, invoices, payments, credit terms and
subscriptions into Relay through its bulk API (POST /api/v1/commerce/<type>/bulk/).

Standard library only. Against `make run` (the demo):

    .venv/bin/relay apitoken erp.sync            # prints a token for the demo's sync account
    python3 examples/erp_sync.py --token rly_...  # --url http://127.0.0.1:8000 by default

Each batch is all or nothing and idempotent by external id: run it twice and the second run reports
every record unchanged. It files its data on a customer of its own, Grace Hopper (account ACC-900001),
created through the parties API the first time; its catalogue rows repeat the demo's (so those are
unchanged) and add a smartwatch. Exit status 1 with the problem document when Relay refuses a batch.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from datetime import UTC, date, datetime, timedelta
from typing import Any

CUSTOMER = "account:ACC-900001"


def request(
    base: str, token: str, method: str, path: str, body: Any, key: str | None = None
) -> tuple[int, Any]:
    if not base.startswith(("http://", "https://")):
        raise SystemExit("--url must be an http:// or https:// address")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    data = json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, headers=headers, method=method)  # noqa: S310 - http(s) only
    try:
        with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def month_start(day: date, back: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - back, 12)
    return date(year, month + 1, 1)


def batches(today: date) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(record type, source system, records), in the order references need them."""
    last, previous = month_start(today, 1), month_start(today, 2)
    bought = datetime.combine(previous + timedelta(days=4), datetime.min.time(), tzinfo=UTC).replace(hour=14)
    catalogue = [
        ("PL-MOB-M", "Mobile Plus 30 GB", "mobile-plans", "Mobile plans", "plan", "29.00"),
        ("HS-PIX-8", "Pixel 8 128 GB", "handsets", "Handsets", "good", "599.00"),
        ("AC-CASE", "Protective case", "accessories", "Accessories", "good", "19.90"),
        ("AC-GLASS", "Screen protector", "accessories", "Accessories", "good", "12.90"),
        ("IN-DEVICE", "Device insurance", "insurance", "Insurance", "add_on", "7.99"),
        ("AC-WATCH", "Smartwatch LTE", "wearables", "Wearables", "good", "249.00"),
    ]
    return [
        (
            "products",
            "erp",
            [
                {
                    "external_id": f"ART-{sku}",
                    "sku": sku,
                    "name": name,
                    "category": code,
                    "category_name": category,
                    "kind": kind,
                    "unit_price": price,
                    "currency": "USD",
                }
                for sku, name, code, category, kind, price in catalogue
            ],
        ),
        (
            "orders",
            "erp",
            [
                {
                    "external_id": "EX-SO-1",
                    "party": CUSTOMER,
                    "ordered_at": bought.isoformat(),
                    "status": "fulfilled",
                    "currency": "USD",
                    "lines": [
                        {"line_no": 1, "product": "PL-MOB-M", "quantity": 1, "unit_price": "29.00"},
                        {"line_no": 2, "product": "HS-PIX-8", "quantity": 1, "unit_price": "599.00"},
                        {"line_no": 3, "product": "AC-CASE", "quantity": 1, "unit_price": "19.90"},
                        {"line_no": 4, "product": "AC-GLASS", "quantity": 1, "unit_price": "12.90"},
                        {"line_no": 5, "product": "IN-DEVICE", "quantity": 1, "unit_price": "7.99"},
                    ],
                }
            ],
        ),
        (
            "invoices",
            "billing",
            [
                {
                    "external_id": f"EX-INV-{month:%Y%m}",
                    "number": f"EX-{month:%Y-%m}",
                    "party": CUSTOMER,
                    "issued_on": month.isoformat(),
                    "due_on": (month + timedelta(days=20)).isoformat(),
                    "amount": "36.99",
                    "currency": "USD",
                }
                for month in (previous, last)
            ],
        ),
        (
            "payments",
            "billing",
            [
                {
                    "external_id": f"EX-PAY-{previous:%Y%m}",
                    "party": CUSTOMER,
                    "invoice": f"EX-INV-{previous:%Y%m}",
                    "received_on": (previous + timedelta(days=15)).isoformat(),
                    "amount": "36.99",
                    "currency": "USD",
                    "method": "card",
                }
            ],
        ),
        (
            "credit-terms",
            "erp",
            [
                {
                    "external_id": "EX-CT-1",
                    "party": CUSTOMER,
                    "credit_limit": "750.00",
                    "currency": "USD",
                    "payment_terms_days": 14,
                    "risk_rating": "low",
                }
            ],
        ),
        (
            "subscriptions",
            "billing",
            [
                {
                    "external_id": "EX-SUB-1",
                    "party": CUSTOMER,
                    "product": "PL-MOB-M",
                    "name": "Mobile Plus 30 GB · +1 415 555 0177",
                    "service_id": "+14155550177",
                    "status": "active",
                    "started_on": bought.date().isoformat(),
                    "recurring_amount": "29.00",
                    "currency": "USD",
                },
                {
                    "external_id": "EX-SUB-2",
                    "party": CUSTOMER,
                    "product": "IN-DEVICE",
                    "name": "Device insurance · Pixel 8",
                    "status": "active",
                    "started_on": bought.date().isoformat(),
                    "recurring_amount": "7.99",
                    "currency": "USD",
                },
            ],
        ),
    ]


def ensure_customer(base: str, token: str) -> None:
    """The example's customer, created once (the Idempotency-Key replays the first answer)."""
    status, body = request(
        base,
        token,
        "POST",
        "/api/v1/parties/",
        {
            "given_name": "Grace",
            "family_name": "Hopper",
            "roles": ["customer"],
            "lifecycle_stage": "use",
            "contact_points": [{"kind": "phone", "raw": "+1 415 555 0177", "label": "mobile"}],
            "identifiers": [{"scheme": "account", "value": "ACC-900001"}],
        },
        key="erp-sync-example:customer:ACC-900001",
    )
    taken = status == 400 and "identifiers.0.value" in (body or {}).get("errors", {})
    if status not in (200, 201) and not taken:  # taken: created earlier by another key or user
        fail("parties", status, body)


def fail(kind: str, status: int, body: Any) -> None:
    print(f"{kind}: HTTP {status}", file=sys.stderr)
    print(json.dumps(body, indent=2), file=sys.stderr)
    sys.exit(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="Relay's address")
    parser.add_argument("--token", required=True, help="a sync account's API token (relay apitoken erp.sync)")
    parser.add_argument("--today", type=date.fromisoformat, default=date.today(), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    base = args.url.rstrip("/")
    ensure_customer(base, args.token)
    for kind, source, records in batches(args.today):
        batch = {"source": source, "records": records}
        status, body = request(base, args.token, "POST", f"/api/v1/commerce/{kind}/bulk/", batch)
        if status != 200:
            fail(kind, status, body)
        print(
            f"{kind:<14} from {source:<8} {body['received']:>3} sent: {body['created']} created, "
            f"{body['updated']} updated, {body['unchanged']} unchanged"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
