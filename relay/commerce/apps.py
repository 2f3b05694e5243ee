from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "relay.commerce"
    label = "commerce"
    verbose_name = "Commerce"

    def ready(self) -> None:
        from relay.commerce import permissions  # noqa: F401  (registers the rules and the row scopes)
