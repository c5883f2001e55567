"""Credit repair (信用修复): the applicant's portal and the department's desk."""

from django.urls import path

from cases.views import repair as views

urlpatterns = [
    path("", views.my_list, name="repair_my_list"),
    path("records/<int:record_pk>/apply/", views.apply, name="repair_apply"),
    path("<int:pk>/", views.status, name="repair_status"),
    path("<int:pk>/edit/", views.edit, name="repair_edit"),
    path("<int:pk>/supplement/", views.supplement, name="repair_supplement"),
    path("<int:pk>/withdraw/", views.withdraw, name="repair_withdraw"),
    path("<int:pk>/chase/", views.chase, name="repair_chase"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download, name="repair_attachment"),
    path("desk/", views.desk_queue, name="repair_desk"),
    path("desk/<int:pk>/", views.desk_case, name="repair_desk_case"),
    path("desk/<int:pk>/<slug:step>/", views.desk_act, name="repair_desk_act"),
]
