"""Mailboxes, inbound and outbound e-mail, quarantine, templates and signatures."""

from django.db import models  # noqa: F401
