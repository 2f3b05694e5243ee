"""The staff side of the commerce data: the party page's commerce panel (loaded by HTMX after the page,
so the 360 page's own query budget does not change) and the same panel as a page of its own. Thin: the
selector reads; a party the user may not see is a 404. The panel ends with what the party is likely to
buy next (relay.recommendations)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from relay.accounts.models import User
from relay.accounts.permissions import VIEW_CUSTOMERS, has_capability
from relay.commerce import selectors
from relay.core.ui import is_partial
from relay.customers.models import Party
from relay.recommendations.selectors import recommendations_for


def _actor(request: HttpRequest) -> User:
    if not has_capability(request.user, VIEW_CUSTOMERS):
        raise PermissionDenied("Your account has no staff role.")
    return request.user  # type: ignore[return-value]


@login_required
@require_GET
def party_panel(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    party = Party.objects.restrict(actor, "view").filter(pk=pk).first()
    if party is None:
        raise Http404("No such customer.")
    context = {
        "party": party,
        "commerce": selectors.party_commerce(actor=actor, party=party),
        "recommendations": recommendations_for(actor=actor, party=party),  # explained, never owned
    }
    template = "commerce/_party_panel.html" if is_partial(request) else "commerce/party_account.html"
    return render(request, template, context)
