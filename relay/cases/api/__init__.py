"""The cases REST API (docs/adr/0006-rest-api.md, "Cases")."""

from relay.cases.api.views import CaseCategoryViewSet, CaseStatusViewSet, CaseViewSet

__all__ = ["CaseCategoryViewSet", "CaseStatusViewSet", "CaseViewSet"]
