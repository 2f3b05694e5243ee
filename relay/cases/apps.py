from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "relay.cases"
    label = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from relay.accounts.models import Department
        from relay.cases import permissions  # noqa: F401  (registers the rules and the row scopes)
        from relay.cases.models import BusinessCalendar, CaseStatus, RoutingRule, SlaPolicy
        from relay.core import config_cache

        # what the case services cache per configuration generation (rules, default statuses, policies)
        config_cache.watch(RoutingRule, Department, CaseStatus, SlaPolicy, BusinessCalendar)
