"""Mailboxes, inbound and outbound e-mail, quarantine, templates and signatures (mounted at /mail/)."""

from django.urls import path

from relay.channels.email import views

app_name = "email"
urlpatterns = [
    path("inbound/<str:secret>/", views.inbound, name="inbound"),
    path("mailboxes/", views.mailboxes, name="mailboxes"),
    path("mailboxes/new/", views.mailbox_new, name="mailbox_new"),
    path("mailboxes/<int:pk>/", views.mailbox_edit, name="mailbox_edit"),
    path("mailboxes/<int:pk>/messages/", views.mailbox_messages, name="mailbox_messages"),
    path("quarantine/", views.quarantine, name="quarantine"),
    path("quarantine/<int:pk>/", views.quarantine_detail, name="quarantine_detail"),
    path("quarantine/<int:pk>/raw/", views.quarantine_raw, name="quarantine_raw"),
    path(
        "quarantine/<int:pk>/<str:action>/",
        views.quarantine_action,
        name="quarantine_action",
    ),
    path("messages/<int:pk>/raw/", views.message_raw, name="message_raw"),
    path("messages/<int:pk>/retry/", views.message_retry, name="message_retry"),
    path("cases/<int:pk>/reply/", views.reply, name="reply"),
    path("cases/<int:pk>/templates/<int:template_pk>/", views.template_preview, name="template_preview"),
    path("templates/", views.templates, name="templates"),
    path("templates/new/", views.template_new, name="template_new"),
    path("templates/<int:pk>/", views.template_edit, name="template_edit"),
    path("templates/<int:pk>/delete/", views.template_delete, name="template_delete"),
    path("signatures/<int:department_pk>/", views.signature_edit, name="signature_edit"),
]
