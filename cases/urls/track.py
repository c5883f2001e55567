from django.urls import path

from cases.views import track as views

urlpatterns = [path("track/", views.track, name="track")]
