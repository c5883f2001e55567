"""Credit commitments (信用承诺): portal, desk, public register, API."""

from django.urls import path

from cases.views import commitment as views

urlpatterns = [
    path("", views.my_list, name="commitment_my_list"),
    path("sign/<int:matter_pk>/", views.sign, name="commitment_sign"),
    path("<int:pk>/", views.detail, name="commitment_detail"),
    path("<int:pk>/follow-up/", views.follow_up_upload, name="commitment_follow_up"),
    path("<int:pk>/<slug:step>/", views.commitment_act, name="commitment_act"),
    path(
        "<int:pk>/verifications/<int:verification_pk>/statement/",
        views.verification_statement,
        name="commitment_statement",
    ),
    path("desk/", views.desk, name="commitment_desk"),
    path("desk/register/", views.register, name="commitment_register"),
    path("desk/import/", views.import_file, name="commitment_import"),
    path("desk/import/template.csv", views.import_template, name="commitment_import_template"),
    path("desk/verifications/<int:pk>/", views.verification, name="commitment_verification"),
    path("desk/verifications/<int:pk>/decide/", views.verification_decide, name="commitment_verification_decide"),
    path("desk/verifications/<int:pk>/revocation/", views.revocation_start, name="commitment_revocation_start"),
    path("desk/verifications/<int:pk>/revocation/close/", views.revocation_close, name="commitment_revocation_close"),
]
