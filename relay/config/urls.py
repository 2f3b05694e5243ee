from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from relay.core import views as core_views

# Resolution walks these in order: the API and the busiest pages first (ordering changes no URL).
urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("api/v1/", include("relay.api.urls")),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", core_views.home, name="home"),
    path("", include("relay.customers.urls")),
    path("", include("relay.activities.urls")),
    path("", include("relay.notifications.urls")),
    path("cases/", include("relay.cases.urls")),
    path("routing/", include("relay.cases.routing_urls")),
    path("sla/", include("relay.cases.sla_urls")),
    path("mail/", include("relay.channels.email.urls")),
    path("phone/", include("relay.channels.telephony.urls")),
    path("push/", include("relay.channels.push.urls")),
    path("commerce/", include("relay.commerce.urls")),
    path("", include("relay.channels.portal.urls")),  # /portal/ and /forms/
    path("admin/", admin.site.urls),
]
