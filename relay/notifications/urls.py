from django.urls import path

from relay.notifications import views

app_name = "notifications"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/badge/", views.badge, name="badge"),
    path("inbox/read-all/", views.mark_all_read, name="mark_all_read"),
    path("inbox/preferences/", views.preferences, name="preferences"),
    path("inbox/<int:pk>/read/", views.mark_read, name="mark_read"),
    path("inbox/<int:pk>/open/", views.open_notification, name="open"),
]
