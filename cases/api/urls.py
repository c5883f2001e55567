from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from cases.api import public, views

urlpatterns = [
    path("openapi.json", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("records/", views.RecordListView.as_view(), name="api_records"),
    path("records/<int:pk>/", views.RecordDetailView.as_view(), name="api_record"),
    path("records/<int:pk>/corrections/", views.RecordCorrectionView.as_view(), name="api_record_correct"),
    path("records/<int:pk>/revocation/", views.RecordRevocationView.as_view(), name="api_record_revoke"),
    path("cases/", views.CaseListView.as_view(), name="api_cases"),
    path("cases/<str:tracking_number>/", views.CaseDetailView.as_view(), name="api_case"),
    path("tasks/", views.TaskListView.as_view(), name="api_tasks"),
    path("events/", views.EventListView.as_view(), name="api_events"),
    path("webhooks/", views.WebhookListView.as_view(), name="api_webhooks"),
    path("webhooks/<int:pk>/", views.WebhookDetailView.as_view(), name="api_webhook"),
    path("commitments/", views.CommitmentRegisterView.as_view(), name="api_commitments"),
    path("commitments/imports/", views.CommitmentImportView.as_view(), name="api_commitment_imports"),
    path("public/notices/verification/", public.NoticeVerificationView.as_view(), name="api_notice_verification"),
]
