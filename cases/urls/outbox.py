from django.urls import path

from cases.views import outbox as outbox_views

app_name = "outbox"

urlpatterns = [
    path("", outbox_views.outbox_list, name="list"),
    path("<int:pk>/retry/", outbox_views.outbox_retry_view, name="retry"),
]
