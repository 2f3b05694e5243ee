"""Settings of the processes test_outbox_workers starts: the shipped settings, a short outbox lease (so a
killed worker's events come back within the test), and e-mail written to a log file the test reads."""

from relay.config.settings import *  # noqa: F403

RELAY_OUTBOX_LEASE_SECONDS = 2
MAILERS = {"default": {"BACKEND": "relay.core.tests.outbox_mail.LogBackend"}}
