"""The central customer file: parties, how to reach them, who they are to each other and to us."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from relay.core.audit import AuditedHistory
from relay.core.choices import Channel
from relay.core.models import (
    ProvenanceModel,
    RestrictedQuerySet,
    TimeStampedModel,
    VersionedModel,
    entered_by_index,
)
from relay.customers.choices import ContactKind, ContactLabel, LifecycleStage, PartyKind, PartyRole


class Tag(TimeStampedModel):
    name = models.CharField(max_length=50, unique=True)
    slug = models.SlugField(max_length=50, unique=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


LIST_COLUMNS = ["primary_phone", "primary_email", "role_codes", "tag_names"]


class PartyQuerySet(RestrictedQuerySet):
    pass


class Party(VersionedModel, ProvenanceModel):
    """A person or an organisation we deal with, in any role: the one file every department reads."""

    kind = models.CharField(max_length=12, choices=PartyKind.choices, default=PartyKind.PERSON)
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    organisation_name = models.CharField(max_length=200, blank=True)
    display_name = models.CharField(max_length=255, editable=False)
    # casefolded display name: the sort key of lists and the prefix index of short searches; compared byte
    # by byte on both databases (COLLATE "C" on PostgreSQL, migration 0006: an AlterField must keep it)
    name_key = models.CharField(max_length=255, editable=False)
    birth_date = models.DateField(null=True, blank=True)
    website = models.URLField(blank=True)
    industry = models.CharField(max_length=100, blank=True)
    about = models.TextField(blank=True)
    preferred_channel = models.CharField(max_length=12, choices=Channel.choices, blank=True)
    lifecycle_stage = models.CharField(max_length=12, choices=LifecycleStage.choices, blank=True)
    lifecycle_cycle = models.PositiveIntegerField(default=0)
    owner = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_parties",
        db_index=False,  # party_owner_idx (owner, name_key, id) serves every lookup by owner
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="parties")
    # lower-cased names, e-mails, phone digits and public identifiers; trigram-indexed (docs/adr/0003)
    search_text = models.TextField(blank=True, editable=False)
    # what a list line shows, derived by the services with search_text: a page of the list is one query
    primary_phone = models.CharField(max_length=20, blank=True, editable=False, help_text="E.164")
    primary_email = models.CharField(max_length=254, blank=True, editable=False)
    role_codes = models.CharField(max_length=60, blank=True, editable=False, help_text="Comma-separated")
    tag_names = models.TextField(blank=True, editable=False, help_text="Comma-separated")

    objects = PartyQuerySet.as_manager()
    history = AuditedHistory(
        excluded_fields=["search_text", "name_key", *LIST_COLUMNS],
    )

    class Meta:
        verbose_name_plural = "parties"
        ordering = ["name_key", "id"]
        indexes = [
            models.Index(fields=["name_key", "id"], name="party_name_key_idx"),
            models.Index(fields=["updated_at", "id"], name="party_updated_idx"),
            models.Index(fields=["created_at", "id"], name="party_created_idx"),
            # the "owner" filter names one: parties nobody owns (imported lists, most of a large file) are
            # not in it, and cost no index entry
            models.Index(
                fields=["owner", "name_key", "id"], condition=Q(owner__isnull=False), name="party_owner_idx"
            ),
            models.Index(fields=["lifecycle_stage", "name_key", "id"], name="party_stage_idx"),
            entered_by_index("party_entered_by_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(display_name=""),
                name="party_has_a_name",
                violation_error_message="A name is required.",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def is_person(self) -> bool:
        return self.kind == PartyKind.PERSON

    def compute_display_name(self) -> str:
        if self.kind == PartyKind.ORGANISATION:
            return self.organisation_name.strip()
        return " ".join(p for p in (self.given_name.strip(), self.family_name.strip()) if p)


class PartyRoleAssignment(models.Model):
    """The roles a party plays for us: customer, prospect, partner, supplier (several at once)."""

    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=12, choices=PartyRole.choices)
    since = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["party", "role"], name="party_role_unique")]
        indexes = [models.Index(fields=["role", "party"], name="party_role_idx")]

    def __str__(self) -> str:
        return f"{self.party_id}:{self.role}"


class LifecycleChange(models.Model):
    """Dated history of lifecycle stages. A new cycle (an upgrade) starts again at `consider`."""

    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="lifecycle_changes")
    stage = models.CharField(max_length=12, choices=LifecycleStage.choices)
    cycle = models.PositiveIntegerField()
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=255, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["party", "entered_at", "id"]
        indexes = [models.Index(fields=["party", "entered_at"], name="lifecycle_party_idx")]

    def __str__(self) -> str:
        return f"{self.stage} (cycle {self.cycle})"


class ContactPoint(VersionedModel, ProvenanceModel):
    """A phone number, e-mail address or postal address of a party.

    `raw` keeps what the user typed; `normalized` is E.164 for phones and the lower-cased address for
    e-mails, indexed for the caller lookup and for matching incoming mail.
    """

    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="contact_points")
    kind = models.CharField(max_length=10, choices=ContactKind.choices)
    label = models.CharField(max_length=10, choices=ContactLabel.choices, default=ContactLabel.MAIN)
    raw = models.CharField(max_length=255, blank=True)
    # kind and normalized: COLLATE "C" on PostgreSQL (migration 0006), only ever compared for equality
    normalized = models.CharField(max_length=255, blank=True)
    is_primary = models.BooleanField(default=False)
    # postal addresses
    street = models.CharField(max_length=255, blank=True)
    locality = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")

    objects = RestrictedQuerySet.as_manager()
    history = AuditedHistory(indexed=("party",))  # a party's history tab

    class Meta:
        ordering = ["party", "kind", "-is_primary", "id"]
        indexes = [
            # the normalised number or e-mail first: lookups are equalities on both either way, and the
            # build sorts 40 % faster than with the three-valued kind first (most comparisons end in the
            # first column)
            models.Index(fields=["normalized", "kind"], name="contact_lookup_idx"),
            entered_by_index("contact_entered_by_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["party", "kind", "normalized"],
                condition=~Q(kind="address"),
                name="contact_unique_per_party",
                violation_error_message="This party already has that contact point.",
            ),
        ]

    def __str__(self) -> str:
        return self.display_value

    @property
    def display_value(self) -> str:
        if self.kind == ContactKind.ADDRESS:
            return ", ".join(
                p for p in (self.street, self.postal_code, self.locality, self.region, self.country) if p
            )
        return self.raw or self.normalized


class Relationship(VersionedModel, ProvenanceModel):
    """A person's link to an organisation, with their job title there."""

    person = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="employments")
    organisation = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="people")
    job_title = models.CharField(max_length=150, blank=True)
    department = models.CharField(max_length=150, blank=True)
    is_primary_contact = models.BooleanField(default=False)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    history = AuditedHistory(indexed=("person", "organisation"))

    class Meta:
        ordering = ["organisation", "person"]
        indexes = [entered_by_index("relationship_entered_by_idx")]
        constraints = [
            models.UniqueConstraint(fields=["person", "organisation"], name="relationship_unique"),
            models.CheckConstraint(
                condition=~Q(person=models.F("organisation")), name="relationship_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.job_title or 'member'} at {self.organisation}"


class IdentifierScheme(TimeStampedModel):
    """A kind of external identifier: account number, tax ID, citizen number. Sensitive ones are masked."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    is_sensitive = models.BooleanField(default=False)
    pattern = models.CharField(max_length=200, blank=True, help_text="Optional regular expression")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ExternalIdentifier(VersionedModel, ProvenanceModel):
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="identifiers")
    scheme = models.ForeignKey(IdentifierScheme, on_delete=models.PROTECT, related_name="identifiers")
    value = models.CharField(max_length=100)

    objects = RestrictedQuerySet.as_manager()
    history = AuditedHistory(indexed=("party",))

    class Meta:
        ordering = ["scheme__name", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "value"],
                name="identifier_unique_per_scheme",
                violation_error_message="Another party already has this identifier.",
            )
        ]
        indexes = [
            models.Index(fields=["value"], name="identifier_value_idx"),
            entered_by_index("identifier_entered_by_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.scheme.code}:{self.value}"

    def masked_value(self) -> str:
        return "•" * max(len(self.value) - 4, 2) + self.value[-4:] if len(self.value) > 4 else "••••"
