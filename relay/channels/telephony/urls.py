from django.urls import path

from relay.channels.telephony import views, webhooks

app_name = "telephony"
urlpatterns = [
    # machines (signed, CSRF-exempt)
    path("twilio/voice", webhooks.twilio_voice, name="twilio_voice"),
    path("twilio/status", webhooks.twilio_status, name="twilio_status"),
    path("hooks/call", webhooks.call_hook, name="call_hook"),
    path("hooks/fax", webhooks.fax_hook, name="fax_hook"),
    # staff
    path("pops/<int:pk>/", views.pop, name="pop"),
    path("calls/<int:pk>/", views.call_detail, name="call_detail"),
    path("calls/<int:pk>/case/", views.start_case, name="start_case"),
    path("dial/", views.dial, name="dial"),
]
