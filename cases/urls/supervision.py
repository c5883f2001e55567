"""The supervisor's dashboard across every procedure and officers' reminders."""

from django.urls import path

from cases.views import supervision as views

urlpatterns = [
    path("supervision/", views.dashboard, name="supervision_dashboard"),
    path("supervision/cases/", views.drilldown, name="supervision_cases"),
    path("supervision/export.<str:fmt>", views.export, name="supervision_export"),
    path("reminders/", views.reminders, name="reminders"),
]
