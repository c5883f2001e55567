"""办事指南: public pages, one per matter."""

from django.urls import path

from cases.views import guide as views

urlpatterns = [
    path("guide/", views.index, name="guide_index"),
    path("guide/<str:procedure>/<str:kind>/", views.matter, name="guide_matter"),
]
