from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "relay.accounts"
    label = "accounts"

    def ready(self) -> None:
        from relay.accounts import permissions  # noqa: F401  (registers the rules)
