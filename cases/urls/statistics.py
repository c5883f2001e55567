"""Public lateness statistics."""

from django.urls import path

from cases.views import statistics as views

urlpatterns = [
    path("public/statistics/", views.public_statistics, name="public_statistics"),
]
