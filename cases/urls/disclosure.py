"""双公示 intake by departments."""

from django.urls import path

from cases.views import disclosure as views

urlpatterns = [
    path("records/intake/", views.intake, name="disclosure_intake"),
    path("records/intake/import/", views.import_file, name="disclosure_import"),
    path("records/<int:pk>/correct/", views.correct, name="disclosure_correct"),
    path("records/<int:pk>/revoke/", views.revoke, name="disclosure_revoke"),
]
