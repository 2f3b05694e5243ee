from __future__ import annotations

import factory

from relay.channels.email.models import EmailTemplate, Mailbox, Signature
from relay.core.testing.factories import DepartmentFactory


class MailboxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mailbox

    name = factory.Sequence(lambda n: f"Mailbox {n}")
    address = factory.Sequence(lambda n: f"box{n}@relay.localhost")
    department = factory.SubFactory(DepartmentFactory)


class EmailTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailTemplate

    department = factory.SubFactory(DepartmentFactory)
    name = factory.Sequence(lambda n: f"Template {n}")
    subject = "About your case {{ case_number }}"
    body = "Dear {{ customer_name }},\n\nAbout {{ case_subject }}: we are on it.\n\n{{ agent_name }}"


class SignatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signature

    department = factory.SubFactory(DepartmentFactory)
    body = "{{ agent_name }}\n{{ department }}, Relay Telecom"
