"""信用报告: the applicant's free credit reports (河南省社会信用条例 Art 40)."""

from django.urls import path

from cases.views import reports as views

urlpatterns = [
    path("me/report/", views.me_report, name="me_report"),
]
