from django.urls import path

from cases.views import records as views

urlpatterns = [
    # The public credit website: anonymous, public records only.
    path("public/", views.public_search, name="public_search"),
    path("public/subjects/<int:pk>/", views.public_subject, name="public_subject"),
    # Portal (applicants) and desk (staff): the same pages, scoped by cases.policy.
    path("desk/", views.desk, name="desk"),
    path("subjects/", views.subject_list, name="subject_list"),
    path("subjects/<int:pk>/", views.subject_detail, name="subject_detail"),
    path("subjects/<int:pk>/reveal-id/", views.subject_reveal_id, name="subject_reveal_id"),
    path("subjects/<int:pk>/lookups/", views.subject_lookups, name="subject_lookups"),
    path("records/", views.record_list, name="record_list"),
    path("records/<int:pk>/", views.record_detail, name="record_detail"),
]
