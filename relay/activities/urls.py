from django.urls import path

from relay.activities import views

app_name = "activities"
urlpatterns = [
    path("parties/<int:pk>/timeline/", views.party_timeline, name="party_timeline"),
    path("parties/<int:pk>/log/", views.interaction_log, name="interaction_log"),
    path("parties/<int:pk>/note/", views.note_add, name="note_add"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
]
