"""`relay import-commerce`: the same sync from CSV; errors with line and column; nothing written on error."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from relay.commerce.models import Order, OrderLine, Product, Subscription
from relay.commerce.tests.test_services import snapshot

pytestmark = pytest.mark.django_db

PRODUCTS = """external_id,sku,name,category,category_name,kind,unit_price,currency
P-1,HS-PIXEL,Pixel handset,handsets,Handsets,good,599.00,USD
P-2,AC-CASE,"Phone case, black",accessories,Accessories,good,19.90,USD
P-3,PL-UNL,Mobile Unlimited,mobile-plans,Mobile plans,plan,45.00,USD
"""
ORDERS = """external_id,party,ordered_at,status,currency,line_no,product,quantity,unit_price
O-1,account:ACC-1,2026-10-03T10:00:00Z,fulfilled,USD,1,HS-PIXEL,1,599.00
O-1,account:ACC-1,2026-10-03T10:00:00Z,fulfilled,USD,2,AC-CASE,2,19.90
O-2,account:ACC-2,2026-11-12T09:30:00Z,fulfilled,USD,1,AC-CASE,1,19.90
"""


def run(tmp_path, kind, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(
            "import-commerce",
            kind,
            str(path),
            "--source",
            "erp",
            "--user",
            "erp.sync",
            stdout=out,
            stderr=err,
        )
    except CommandError as exc:
        return out.getvalue() + err.getvalue(), str(exc)
    return out.getvalue() + err.getvalue(), None


def test_an_import_creates_then_changes_nothing(tmp_path, erp, ada, bob, owners):
    out, error = run(tmp_path, "products", PRODUCTS)
    assert error is None and "3 records, 3 created, 0 updated, 0 unchanged" in out
    assert Product.objects.get(sku="AC-CASE").name == "Phone case, black"
    out, error = run(tmp_path, "orders", ORDERS)
    assert error is None and "2 records, 2 created" in out
    assert [
        (line.order.external_id, line.line_no)
        for line in OrderLine.objects.order_by("order__external_id", "line_no")
    ] == [
        ("O-1", 1),
        ("O-1", 2),
        ("O-2", 1),
    ]
    before = snapshot()
    out, _ = run(tmp_path, "orders", ORDERS)
    assert "0 created, 0 updated, 2 unchanged" in out
    assert snapshot() == before
    assert set(Order.history.values_list("history_origin", flat=True)) == {"command"}


def test_bad_cells_are_reported_with_line_and_column_and_nothing_is_written(tmp_path, erp, ada, owners):
    text = PRODUCTS.replace("19.90,USD", "19.9x,USD").replace(
        "mobile-plans,Mobile plans,plan", "mobile-plans,Mobile plans,gizmo"
    )
    out, error = run(tmp_path, "products", text)
    assert error == "2 error(s) in " + str(tmp_path / "data.csv") + "; nothing was written."
    assert "line 3, column unit_price: A valid number is required." in out
    assert 'line 4, column kind: "gizmo" is not a valid choice.' in out
    assert Product.objects.count() == 0


def test_order_lines_point_at_their_own_line(tmp_path, erp, ada, bob, owners):
    run(tmp_path, "products", PRODUCTS)
    before = snapshot()
    text = ORDERS.replace("2,AC-CASE,2,19.90", "2,NOPE,2,19.90").replace("account:ACC-2", "account:ACC-404")
    out, error = run(tmp_path, "orders", text)
    assert "line 3, column product: No product with SKU NOPE." in out
    assert "line 4, column party: No party with account:ACC-404." in out
    assert error and snapshot() == before


def test_a_missing_required_column_is_reported_on_the_rows_line(tmp_path, erp, ada, owners):
    run(tmp_path, "products", PRODUCTS)
    text = "external_id,party,name,status,started_on\nS-1,account:ACC-1,Line,suspended,2025-01-01\n"
    out, error = run(tmp_path, "subscriptions", text)
    assert "line 2, column currency: This field is required." in out and error
    out, error = run(
        tmp_path,
        "subscriptions",
        text.replace("started_on\n", "started_on,currency\n").replace("01\n", "01,USD\n"),
    )
    assert "line 2, column status_reason: A suspension needs a reason." in out and error
    assert Subscription.objects.count() == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: The file is empty"),
        ("external_id,sku,colour\n", "line 1, column colour: Unknown column."),
        ("sku,name\nX,Y\n", "line 1, column external_id: The external_id column is required."),
        ("external_id,sku\nP-1,A,extra\n", "line 2: 3 cells where the header has 2."),
        ("external_id,sku,sku\n", "line 1, column sku: The column appears twice."),
        ("external_id,sku\n", "line 2: The file has no records."),
    ],
)
def test_malformed_files(tmp_path, erp, text, message):
    out, error = run(tmp_path, "products", text)
    assert message in out and error


def test_an_order_whose_rows_disagree(tmp_path, erp, ada, owners):
    run(tmp_path, "products", PRODUCTS)
    text = ORDERS.replace("2026-10-03T10:00:00Z,fulfilled,USD,2", "2026-10-04T10:00:00Z,fulfilled,USD,2")
    out, _ = run(tmp_path, "orders", text)
    assert "line 3, column ordered_at: Differs from line 2 of the same order." in out


def test_unknown_user_file_and_source(tmp_path, erp, agent):
    with pytest.raises(CommandError, match="No active user"):
        call_command("import-commerce", "products", "x.csv", "--source", "erp", "--user", "nobody")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command(
            "import-commerce", "products", str(tmp_path / "none.csv"), "--source", "erp", "--user", "erp.sync"
        )
    (tmp_path / "p.csv").write_text(PRODUCTS)
    with pytest.raises(CommandError, match="source"):
        call_command(
            "import-commerce", "products", str(tmp_path / "p.csv"), "--source", "E R P", "--user", "erp.sync"
        )
    with pytest.raises(CommandError, match="sync account"):
        call_command(
            "import-commerce", "products", str(tmp_path / "p.csv"), "--source", "erp", "--user", "agent"
        )
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command(
            "import-commerce", "products", str(tmp_path / "bin.csv"), "--source", "erp", "--user", "erp.sync"
        )
