from django.db import models


class Role(models.TextChoices):
    AGENT = "agent", "Agent"
    SUPERVISOR = "supervisor", "Supervisor"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Administrator"
    AUDITOR = "auditor", "Auditor (read-only)"
