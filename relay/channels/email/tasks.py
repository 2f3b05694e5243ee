"""Background jobs of the e-mail transports: the IMAP polls (every minute, from relay/config/huey.py)."""

from __future__ import annotations

from django.tasks import task

from relay.channels.email import imap


@task
def imap_poll_due() -> int:
    """Enqueue one poll for each IMAP-enabled active mailbox, so that a slow or failing server holds up
    only its own mailbox; how many were enqueued. A poll that finds its mailbox taken by another poller
    (an earlier poll still running, or `relay imap idle`) skips it."""
    count = 0
    for mailbox in imap.pollable_mailboxes():
        imap_poll.enqueue(mailbox.pk)
        count += 1
    return count


@task
def imap_poll(mailbox_id: int) -> str:
    """Take in what is new in one mailbox's IMAP folder; the outcome as text. Never fails for the
    server's faults (they are recorded on the mailbox), so it is not retried for them."""
    from relay.channels.email.models import Mailbox

    try:
        return imap.poll_mailbox(mailbox_id).as_text()
    except Mailbox.DoesNotExist:  # deleted since the poll was enqueued: nothing to retry
        return f"mailbox {mailbox_id} no longer exists"
