"""政务失信 rectification (PROCEDURES.md §4)."""

from django.urls import path

from cases.views import rectification as views

urlpatterns = [
    path("rectification/", views.case_list, name="rectification_list"),
    path("rectification/new/", views.intake, name="rectification_intake"),
    path("rectification/<int:pk>/", views.case_detail, name="rectification_case"),
    path("rectification/<int:pk>/<slug:step>/", views.case_act, name="rectification_act"),
    path(
        "rectification/<int:pk>/attachments/<int:attachment_pk>/",
        views.attachment_download,
        name="rectification_attachment",
    ),
]
