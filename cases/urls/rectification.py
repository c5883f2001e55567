"""政务失信 rectification, the supervisor's dashboard and officers' reminders."""

from django.urls import path

from cases import rectification_views as views

urlpatterns = [
    path("rectification/", views.case_list, name="rectification_list"),
    path("rectification/new/", views.intake, name="rectification_intake"),
    path("rectification/<int:pk>/", views.case_detail, name="rectification_case"),
    path("rectification/<int:pk>/<slug:step>/", views.case_act, name="rectification_act"),
    path("supervision/", views.dashboard, name="supervision_dashboard"),
    path("supervision/cases/", views.drilldown, name="supervision_cases"),
    path("supervision/export.<str:fmt>", views.export, name="supervision_export"),
    path("reminders/", views.reminders, name="reminders"),
]
