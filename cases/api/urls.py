from django.urls import path, re_path, register_converter
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from cases.api import public, views


class IdConverter:
    """A database id: at most 18 digits, so no value overflows a bigint on its way to PostgreSQL."""

    regex = "[0-9]{1,18}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


register_converter(IdConverter, "id")

urlpatterns = [
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("records/", views.RecordListView.as_view(), name="api_records"),
    path("records/<id:pk>/", views.RecordDetailView.as_view(), name="api_record"),
    path("records/<id:pk>/corrections/", views.RecordCorrectionView.as_view(), name="api_record_correct"),
    path("records/<id:pk>/revocation/", views.RecordRevocationView.as_view(), name="api_record_revoke"),
    path("cases/", views.CaseListView.as_view(), name="api_cases"),
    path("cases/<str:tracking_number>/", views.CaseDetailView.as_view(), name="api_case"),
    path("tasks/", views.TaskListView.as_view(), name="api_tasks"),
    path("events/", views.EventListView.as_view(), name="api_events"),
    path("webhooks/", views.WebhookListView.as_view(), name="api_webhooks"),
    path("webhooks/<id:pk>/", views.WebhookDetailView.as_view(), name="api_webhook"),
    path("commitments/", views.CommitmentRegisterView.as_view(), name="api_commitments"),
    path("commitments/imports/", views.CommitmentImportView.as_view(), name="api_commitment_imports"),
    path("public/notices/verification/", public.NoticeVerificationView.as_view(), name="api_notice_verification"),
    path("public/cases/track/", public.CaseTrackView.as_view(), name="api_case_track"),
    # Anything else under /api/v1/ is a problem+json 404, never the pages' HTML one.
    re_path(r"^.*$", views.NotFoundView.as_view()),
]
