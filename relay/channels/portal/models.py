"""Customer portal accounts, one-time sign-in links, web forms."""

from django.db import models  # noqa: F401
