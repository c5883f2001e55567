"""The personal centre and messages (issue 12, items 2 and 3)."""

from django.urls import path

from cases.views import me as views

urlpatterns = [
    path("me/", views.me, name="me"),
    path("me/messages/", views.message_list, name="me_messages"),
    path("me/messages/preferences/", views.message_preferences, name="me_message_preferences"),
    path("me/messages/<int:pk>/", views.message_detail, name="me_message"),
]
