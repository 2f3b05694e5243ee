"""factory_boy factories for the foundation models. Apps' own factories live in <app>/tests/factories.py."""

from __future__ import annotations

import factory
from django.utils import timezone
from django.utils.text import slugify

from relay.accounts.choices import Role
from relay.accounts.models import Department, User
from relay.activities.choices import Direction, EntryKind
from relay.activities.models import TimelineEntry
from relay.core.choices import Channel
from relay.customers.choices import ContactKind, PartyKind
from relay.customers.models import ContactPoint, ExternalIdentifier, IdentifierScheme, Party, Relationship
from relay.customers.normalize import build_search_text, fold


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Department {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda o: f"{o.username}@relay.test")
    role = Role.AGENT
    password = factory.django.Password("relay-test-pass")

    @factory.post_generation
    def departments(self, create: bool, extracted: list[Department] | None, **kwargs: object) -> None:
        if create and extracted:
            self.departments.set(extracted)


class PartyFactory(factory.django.DjangoModelFactory):
    """A bare party row. Use the services (party_create) when a test is about creating parties."""

    class Meta:
        model = Party

    kind = PartyKind.PERSON
    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    display_name = factory.LazyAttribute(
        lambda o: f"{o.given_name} {o.family_name}".strip() or o.organisation_name
    )
    name_key = factory.LazyAttribute(lambda o: fold(o.display_name))
    search_text = factory.LazyAttribute(
        lambda o: build_search_text(names=[o.display_name], emails=[], phones=[], identifiers=[])
    )


class OrganisationFactory(PartyFactory):
    kind = PartyKind.ORGANISATION
    given_name = ""  # type: ignore[assignment]
    family_name = ""  # type: ignore[assignment]
    organisation_name = factory.Faker("company")
    display_name = factory.LazyAttribute(lambda o: o.organisation_name)


class ContactPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPoint

    party = factory.SubFactory(PartyFactory)
    kind = ContactKind.EMAIL
    raw = factory.Sequence(lambda n: f"person{n}@example.com")
    normalized = factory.LazyAttribute(lambda o: o.raw.lower())


class IdentifierSchemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdentifierScheme
        django_get_or_create = ("code",)

    code = "account"
    name = "Account number"
    is_sensitive = False


class ExternalIdentifierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExternalIdentifier

    party = factory.SubFactory(PartyFactory)
    scheme = factory.SubFactory(IdentifierSchemeFactory)
    value = factory.Sequence(lambda n: f"A-{n:06d}")


class RelationshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Relationship

    person = factory.SubFactory(PartyFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    job_title = factory.Faker("job")


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimelineEntry

    party = factory.SubFactory(PartyFactory)
    kind = EntryKind.INTERACTION
    channel = Channel.PHONE
    direction = Direction.INBOUND
    subject = factory.Faker("sentence", nb_words=5)
    body = factory.Faker("paragraph")
    occurred_at = factory.LazyFunction(timezone.now)


class NoteFactory(InteractionFactory):
    kind = EntryKind.NOTE
    channel = ""  # type: ignore[assignment]
    direction = Direction.INTERNAL
