from django.urls import path

from notices import views

app_name = "notices"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("verify/", views.verify, name="verify"),
    path("<int:notice_id>/", views.detail, name="detail"),
    path("<int:notice_id>/pdf/", views.download, name="download"),
    path("<int:notice_id>/view/", views.view_pdf, name="view"),
]
