"""Choice sets shared across apps."""

from django.db import models


class Channel(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "E-mail"
    WEB = "web", "Web"
    CHAT = "chat", "Chat"
    SMS = "sms", "SMS"
    FAX = "fax", "Fax"
    LETTER = "letter", "Letter"
    IN_PERSON = "in_person", "In person"
