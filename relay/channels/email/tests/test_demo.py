from __future__ import annotations

import pytest

from relay.channels.email.demo import load_demo_email
from relay.channels.email.models import EmailMessage, Mailbox

pytestmark = pytest.mark.django_db


def test_the_demo_mailbox_and_conversation(departments, admin_user, agent):
    case = load_demo_email(admin=admin_user, departments=departments)
    again = load_demo_email(admin=admin_user, departments=departments)
    assert Mailbox.objects.get().address == "support@relay.localhost"
    assert again == case
    inbound = EmailMessage.objects.filter(case=case, direction="inbound")
    assert inbound.count() == 2
    assert EmailMessage.objects.filter(case=case, direction="outbound", is_auto_reply=False).count() == 1
