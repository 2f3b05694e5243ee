from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "relay.cases"
    label = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from relay.accounts.models import Department
        from relay.cases import permissions  # noqa: F401  (registers the rules and the row scopes)
        from relay.cases.models import (
            BusinessCalendar,
            CaseCategory,
            CaseStatus,
            DepartmentCalendar,
            RoutingRule,
            SlaPolicy,
        )
        from relay.core import config_cache

        # what the cases app caches per configuration generation (rules, default statuses, policies, the
        # calendars, the confidential categories)
        config_cache.watch(
            RoutingRule, Department, CaseStatus, SlaPolicy, BusinessCalendar, DepartmentCalendar, CaseCategory
        )
