from django.db import models


class PartyKind(models.TextChoices):
    PERSON = "person", "Person"
    ORGANISATION = "organisation", "Organisation"


class PartyRole(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    PROSPECT = "prospect", "Prospect"
    PARTNER = "partner", "Partner"
    SUPPLIER = "supplier", "Supplier"


class LifecycleStage(models.TextChoices):
    """Where the customer is in a buying cycle. An upgrade starts a new cycle at CONSIDER."""

    CONSIDER = "consider", "Consider"
    PURCHASE = "purchase", "Purchase"
    SET_UP = "set_up", "Set up"
    USE = "use", "Use"
    RETIRED = "retired", "Retired"


class ContactKind(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "E-mail"
    ADDRESS = "address", "Postal address"


class ContactLabel(models.TextChoices):
    MAIN = "main", "Main"
    MOBILE = "mobile", "Mobile"
    HOME = "home", "Home"
    WORK = "work", "Work"
    BILLING = "billing", "Billing"
    FAX = "fax", "Fax"
    OTHER = "other", "Other"
