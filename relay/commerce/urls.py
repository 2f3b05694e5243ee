from django.urls import path

from relay.commerce import views

app_name = "commerce"
urlpatterns = [
    path("parties/<int:pk>/", views.party_panel, name="party_panel"),
]
