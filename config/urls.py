from django.conf.urls.i18n import i18n_patterns  # noqa: F401  (kept for later language-prefixed pages)
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cases.views import commitment as commitment_views
from cases.views import records as case_views

admin.site.site_header = "信用事项办理平台 · 管理后台"
admin.site.site_title = "信用事项办理平台"
admin.site.index_title = "系统配置"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("notices/", include("notices.urls")),
    path("platform/outbox/", include("cases.urls.outbox")),
    path("repair/", include("cases.urls.repair")),
    path("commitments/", include("cases.urls.commitment")),
    path("public/commitments/", commitment_views.public_register, name="commitment_register_public"),
    path("api/commitments/", commitment_views.api_commitments, name="commitment_api"),
    path("objection/", include("cases.urls.objection")),
    path("", include("cases.urls.rectification")),
    path("", include("cases.urls.supervision")),
    path("", case_views.home, name="home"),
    path("", include("cases.urls.records")),
]
