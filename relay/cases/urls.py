from django.urls import path

from relay.cases import sla_report_views, views
from relay.cases.views.case import ACTIONS, QUICK

app_name = "cases"
urlpatterns = [
    path("", views.my_cases, name="my_cases"),
    path("queue/<slug:slug>/", views.queue, name="queue"),
    # the SLA in daily work (issue 4): a department's at-risk and breached lists, the dropped-balls report
    path("queue/<slug:slug>/at-risk/", sla_report_views.sla_list, {"which": "at_risk"}, name="queue_at_risk"),
    path(
        "queue/<slug:slug>/breached/", sla_report_views.sla_list, {"which": "breached"}, name="queue_breached"
    ),
    path("sla/dropped-balls/", sla_report_views.dropped_balls, name="dropped_balls"),
    path("new/", views.case_new, name="case_new"),
    path("new/from-call/", views.case_from_call, name="from_call"),
    path("new/from-call/caller/", views.caller_lookup, name="caller_lookup"),
    # Case.get_absolute_url and every notice point here
    path("<int:pk>/", views.case_detail, name="case_detail"),
    path("<int:pk>/follow-up/", views.case_follow_up, name="follow_up"),
    *(path(f"<int:pk>/{a}/", views.case_action, {"action": a}, name=a.replace("-", "_")) for a in ACTIONS),
    *(path(f"<int:pk>/{a}/", views.case_quick, {"action": a}, name=a) for a in QUICK),
]
