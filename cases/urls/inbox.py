"""The officers' inbox (待办) across procedures."""

from django.urls import path

from cases.views import inbox as views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("tasks/<int:task_id>/claim/", views.claim, name="inbox_claim"),
    path("tasks/<int:task_id>/release/", views.release, name="inbox_release"),
    path("tasks/<int:task_id>/assign/", views.assign, name="inbox_assign"),
    path("assign/", views.assign_bulk, name="inbox_assign_bulk"),
    path("delegations/", views.delegations, name="inbox_delegations"),
    path("delegations/<int:pk>/cancel/", views.delegation_cancel, name="inbox_delegation_cancel"),
]
