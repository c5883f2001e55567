"""Objections (异议处理): the applicant's portal and the platform/provider/supervisor desk."""

from django.urls import path

from cases.views import objection as views

urlpatterns = [
    path("", views.my_list, name="objection_my_list"),
    path("records/<int:record_pk>/new/", views.file, name="objection_file"),
    path("<int:pk>/", views.status, name="objection_status"),
    path("<int:pk>/review/", views.request_review, name="objection_review"),
    path("<int:pk>/withdraw/", views.withdraw, name="objection_withdraw"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download, name="objection_attachment"),
    path("<int:pk>/notices/<int:notice_pk>/", views.notice_download, name="objection_notice"),
    path("desk/", views.desk_queue, name="objection_desk"),
    path("desk/<int:pk>/", views.desk_case, name="objection_desk_case"),
    path("desk/<int:pk>/<slug:step>/", views.desk_act, name="objection_desk_act"),
]
