"""Registration and authorisation (issue 12, item 1)."""

from django.urls import path

from cases.views import accounts as views

urlpatterns = [
    path("accounts/register/", views.register, name="register"),
    path("accounts/register/confirm/", views.register_confirm, name="register_confirm"),
    path("me/enterprises/register/", views.enterprise_register, name="enterprise_register"),
    path("me/subjects/<int:pk>/agents/", views.subject_agents, name="subject_agents"),
    path("me/subjects/<int:pk>/agents/<int:auth_pk>/revoke/", views.agent_revoke, name="agent_revoke"),
    path("platform/authorisations/", views.review_list, name="authorisation_review_list"),
    path("platform/authorisations/<int:auth_pk>/", views.review_detail, name="authorisation_review"),
    path(
        "platform/authorisations/<int:auth_pk>/files/<int:attachment_pk>/",
        views.review_attachment,
        name="authorisation_attachment",
    ),
]
