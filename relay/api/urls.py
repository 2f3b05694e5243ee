from typing import Any

from django.conf import settings
from django.urls import include, path, re_path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from relay.accounts.api import DepartmentViewSet, UserViewSet
from relay.activities.api import AttachmentViewSet, InteractionViewSet, NoteViewSet
from relay.api.errors import not_found
from relay.cases.api import CaseCategoryViewSet, CaseStatusViewSet, CaseViewSet
from relay.cases.routing_api import RoutingRuleViewSet
from relay.cases.sla_api import (
    BusinessCalendarViewSet,
    DepartmentCalendarViewSet,
    SlaAlertViewSet,
    SlaClockViewSet,
    SlaPolicyViewSet,
)
from relay.commerce.api import (
    AccountView,
    CreditTermsViewSet,
    InvoiceViewSet,
    OrderViewSet,
    PaymentViewSet,
    ProductViewSet,
    SubscriptionViewSet,
)
from relay.customers.api import ContactPointViewSet, IdentifierViewSet, PartyViewSet, RelationshipViewSet
from relay.notifications.api import NotificationPreferenceViewSet, NotificationViewSet

# URL resolution tries the patterns in order, about 1 µs each: the busiest resources come first, and there
# are no format-suffix (`.json`) twins (SimpleRouter, no API root view).
router = SimpleRouter()  # every path ends in a slash, as the OpenAPI document and the links give them
router.register("parties", PartyViewSet, basename="party")
router.register("cases", CaseViewSet, basename="case")
router.register("interactions", InteractionViewSet, basename="interaction")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("contact-points", ContactPointViewSet, basename="contactpoint")
router.register("relationships", RelationshipViewSet, basename="relationship")
router.register("identifiers", IdentifierViewSet, basename="identifier")
router.register("notes", NoteViewSet, basename="note")
router.register("attachments", AttachmentViewSet, basename="attachment")
router.register("users", UserViewSet, basename="user")
router.register("departments", DepartmentViewSet, basename="department")
router.register("notification-preferences", NotificationPreferenceViewSet, basename="notificationpreference")
router.register("routing-rules", RoutingRuleViewSet, basename="routingrule")
router.register("case-categories", CaseCategoryViewSet, basename="casecategory")
router.register("case-statuses", CaseStatusViewSet, basename="casestatus")
router.register("sla-policies", SlaPolicyViewSet, basename="slapolicy")
router.register("business-calendars", BusinessCalendarViewSet, basename="businesscalendar")
router.register("department-calendars", DepartmentCalendarViewSet, basename="departmentcalendar")
router.register("sla-clocks", SlaClockViewSet, basename="slaclock")
router.register("sla-alerts", SlaAlertViewSet, basename="slaalert")
router.register("commerce/products", ProductViewSet, basename="commerce-product")
router.register("commerce/orders", OrderViewSet, basename="commerce-order")
router.register("commerce/invoices", InvoiceViewSet, basename="commerce-invoice")
router.register("commerce/payments", PaymentViewSet, basename="commerce-payment")
router.register("commerce/credit-terms", CreditTermsViewSet, basename="commerce-creditterms")
router.register("commerce/subscriptions", SubscriptionViewSet, basename="commerce-subscription")

# Swagger UI from drf-spectacular-sidecar, served by us. The split view serves its start-up script as a
# separate file, so script-src stays 'self'; the page's one inline style carries the CSP nonce.
_DOCS_CSP: dict[str, Any] = {**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.NONCE]}
docs = csp_override(_DOCS_CSP)(
    SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html")
)

app_name = "api"
urlpatterns = [
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="schema"),
    path("docs", docs, name="docs"),
    path("commerce/accounts/<int:pk>/", AccountView.as_view(), name="commerce-account-detail"),
    path("", include(router.urls)),
    re_path(r"^(?P<path>.*)$", not_found, name="not-found"),
]
