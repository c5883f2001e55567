"""好差评."""

from django.urls import path

from cases.views import ratings as views

urlpatterns = [
    path("ratings/follow-ups/", views.follow_ups, name="rating_follow_ups"),
    path("ratings/follow-ups/<int:pk>/close/", views.follow_up_close, name="rating_follow_up_close"),
    path("ratings/<str:procedure>/<int:pk>/", views.rate, name="rating_rate"),
]
