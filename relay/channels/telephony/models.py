"""Phone lines, calls from the phone system's webhooks, faxes."""

from django.db import models  # noqa: F401
