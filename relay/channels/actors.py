"""The accounts that channels act as when no staff member does: a message arrives by e-mail, a call
from the phone system, a case from the customer portal. Services always take an actor (GUIDE.md, 3.2),
so each channel has its own system account: the history then says "E-mail gateway opened the case", and
such an account can never sign in (no usable password, no departments, so nothing is ever assigned to it).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from relay.accounts.choices import Role
from relay.accounts.models import User

# username -> the name shown in histories and on the timeline
CHANNEL_ACCOUNTS = {
    "relay-email": "E-mail gateway",
    "relay-phone": "Phone system",
    "relay-fax": "Fax gateway",
    "relay-portal": "Customer portal",
    "relay-webform": "Web form",
}


def channel_actor(username: str) -> User:
    """The system account for a channel (created on first use). Role manager: it may open cases in any
    department and create the sender's party, which is what a channel does on the customer's behalf."""
    if username not in CHANNEL_ACCOUNTS:
        raise ValueError(f"unknown channel account {username!r}")
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    user = User(username=username, first_name=CHANNEL_ACCOUNTS[username], role=Role.MANAGER)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # another process created it first
        return User.objects.get(username=username)
    return user
