"""The party page's account panel ends with what the party is likely to buy next, explained."""

from __future__ import annotations

import pytest
from django.test import Client

from relay.recommendations import services

pytestmark = pytest.mark.django_db


def test_the_account_panel_proposes_what_ada_is_likely_to_buy_next(agent, shop):
    services.train()
    client = Client()
    client.force_login(agent)
    html = client.get(f"/commerce/parties/{shop['ada'].pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "Likely to buy next" in html and "Protective case" in html
    assert "80 % of customers who bought Pixel 8 also bought Protective case" in html
    assert 'class="text-break">Pixel 8</span><span class="text-nowrap">' not in html.split("Likely")[1]


def test_no_suggestion_without_a_trained_run(agent, shop):
    client = Client()
    client.force_login(agent)
    html = client.get(f"/commerce/parties/{shop['ada'].pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "Likely to buy next" not in html and "Pixel 8" in html  # the purchase, no suggestion
