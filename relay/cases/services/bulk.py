"""Bulk actions of the queue (assign, transfer, close several cases): supervisors and above, all or
nothing. Each case goes through the same service as one at a time, so it writes the same event, timeline
entry, history and notices; a refusal or a stale version of any one case undoes them all."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db import transaction

from relay.accounts.models import Department, User
from relay.cases.models import Case
from relay.cases.services._base import _require
from relay.cases.services.handling import case_assign, case_close, case_transfer
from relay.core.exceptions import ApplicationError, ConflictError

# (case, the version the client saw)
BulkItems = Sequence[tuple[Case, int | None]]
_MAX_BULK = 500


def _each(actor: User, items: BulkItems, action: Callable[[Case, int | None], Case]) -> list[Case]:
    _require(actor, "cases.bulk_change_case")
    if not items:
        raise ApplicationError("Choose at least one case.", errors={"cases": ["Choose at least one case."]})
    if len(items) > _MAX_BULK:
        raise ApplicationError(
            "Too many cases at once.", errors={"cases": [f"At most {_MAX_BULK} cases at a time."]}
        )
    done: list[Case] = []
    for case, version in sorted(items, key=lambda item: item[0].pk):  # one lock order: no deadlocks
        try:
            done.append(action(case, version))
        except ConflictError:
            raise
        except ApplicationError as exc:
            raise ApplicationError(
                f"{case.number}: {exc.message}", errors=exc.errors, status=exc.status
            ) from exc
    return done


@transaction.atomic
def case_bulk_assign(*, actor: User, cases: BulkItems, assignee: User | None) -> list[Case]:
    return _each(
        actor,
        cases,
        lambda case, version: case_assign(
            actor=actor, case=case, assignee=assignee, expected_version=version
        ),
    )


@transaction.atomic
def case_bulk_transfer(
    *,
    actor: User,
    cases: BulkItems,
    department: Department | None = None,
    assignee: User | None = None,
    reason: str,
    note: str,
) -> list[Case]:
    def transfer(case: Case, version: int | None) -> Case:
        return case_transfer(
            actor=actor,
            case=case,
            department=department,
            assignee=assignee,
            reason=reason,
            note=note,
            expected_version=version,
        )

    return _each(actor, cases, transfer)


@transaction.atomic
def case_bulk_close(*, actor: User, cases: BulkItems, note: str = "") -> list[Case]:
    return _each(
        actor,
        cases,
        lambda case, version: case_close(actor=actor, case=case, expected_version=version, note=note),
    )
