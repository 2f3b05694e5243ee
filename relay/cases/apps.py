from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "relay.cases"
    label = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from relay.cases import permissions  # noqa: F401  (registers the rules and the row scopes)
