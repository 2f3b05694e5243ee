"""Fixed choice sets of the portal and the web forms."""

from django.db import models


class FormKind(models.TextChoices):
    CASE = "case", "Web-to-case"
    LEAD = "lead", "Web-to-lead"
