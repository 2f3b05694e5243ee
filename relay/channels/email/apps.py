from django.apps import AppConfig


class EmailConfig(AppConfig):
    name = "relay.channels.email"
    label = "email"
    verbose_name = "E-mail"

    def ready(self) -> None:
        from relay.channels.email import permissions  # noqa: F401  (registers the rules and row scopes)
        from relay.channels.email.models import EmailTemplate, Signature
        from relay.channels.email.services import sending
        from relay.core import config_cache, outbox

        outbox.register_deliverer("email", sending.deliver_event)
        config_cache.watch(EmailTemplate, Signature)  # the acknowledgement's template and signature
