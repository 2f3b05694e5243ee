"""What every view of the agent console shares: the signed-in staff member, the case (a 404 when it is not
visible), and the answer to a stale write."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, QueryDict

from relay.accounts.models import User
from relay.accounts.permissions import VIEW_CUSTOMERS, has_capability
from relay.cases import selectors
from relay.cases.models import Case

CONFLICT = (
    "Someone else changed this case while you were working on it. Nothing you typed is lost: check the "
    "case as it is now, then send again to apply yours."
)


def actor_of(request: HttpRequest) -> User:
    user = request.user
    if not has_capability(user, VIEW_CUSTOMERS):
        raise PermissionDenied("Your account has no staff role.")
    return user  # type: ignore[return-value]


def case_or_404(actor: User, pk: int) -> Case:
    try:
        return selectors.case_get(actor=actor, pk=pk)
    except Case.DoesNotExist as exc:
        raise Http404("No such case.") from exc


def require(actor: User, perm: str) -> None:
    """The role check that decides whether a page is offered at all (the services check every write)."""
    if not actor.has_perm(perm):
        raise PermissionDenied


def with_version(data: QueryDict, version: int) -> QueryDict:
    copy = data.copy()
    copy["version"] = str(version)
    return copy
