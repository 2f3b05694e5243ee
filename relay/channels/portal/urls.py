"""The customer portal (/portal/...) and the web forms (/forms/...), included at the site root.

ACCESS says who may reach each URL name; relay/channels/portal/tests/test_access.py fails when a pattern
is not listed, and checks each class against anonymous visitors, customers and staff."""

from django.urls import path

from relay.channels.portal import views
from relay.channels.portal.choices import FormKind

app_name = "portal"

PUBLIC = "public"  # anyone: the sign-in pages
CUSTOMER = "customer"  # a signed-in customer, only their own parties' cases (else 404)
WEBFORM = "webform"  # anyone, cross-site: form key + token + honeypot + rate limit, no CSRF cookie
MANAGER = "manager"  # staff with portal.manage_webforms (managers, admins); others get a 404

ACCESS: dict[str, str] = {
    "start": PUBLIC,
    "sent": PUBLIC,
    "link": PUBLIC,
    "sign_out": PUBLIC,
    "cases": CUSTOMER,
    "case_new": CUSTOMER,
    "case": CUSTOMER,
    "case_reply": CUSTOMER,
    "attachment": CUSTOMER,
    "webform_case": WEBFORM,
    "webform_lead": WEBFORM,
    "webform_case_token": WEBFORM,
    "webform_lead_token": WEBFORM,
    "webforms": MANAGER,
    "webform_toggle": MANAGER,
}

urlpatterns = [
    path("portal/", views.start, name="start"),
    path("portal/sent/", views.sent, name="sent"),
    path("portal/link/<str:token>/", views.link, name="link"),
    path("portal/sign-out/", views.sign_out, name="sign_out"),
    path("portal/cases/", views.cases, name="cases"),
    path("portal/cases/new/", views.case_new, name="case_new"),
    path("portal/cases/<int:pk>/", views.case_detail, name="case"),
    path("portal/cases/<int:pk>/reply/", views.case_reply, name="case_reply"),
    path("portal/files/<int:pk>/", views.attachment, name="attachment"),
    path("forms/", views.webform_list, name="webforms"),
    path("forms/<int:pk>/active/", views.webform_toggle, name="webform_toggle"),
    *[
        p
        for kind in FormKind.values
        for p in (
            path(f"forms/{kind}/<slug:key>/", views.webform_submit, {"kind": kind}, name=f"webform_{kind}"),
            path(
                f"forms/{kind}/<slug:key>/token.js",
                views.webform_token_js,
                {"kind": kind},
                name=f"webform_{kind}_token",
            ),
        )
    ],
]
