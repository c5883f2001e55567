from django.conf import settings
from django.conf.urls.i18n import i18n_patterns  # noqa: F401  (kept for later language-prefixed pages)
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cases.views import commitment as commitment_views
from cases.views import records as case_views
from config import health, twofactor

admin.site.site_header = "信用事项办理平台 · 管理后台"
admin.site.site_title = "信用事项办理平台"
admin.site.index_title = "系统配置"


def mounted(prefix: str, *names: str) -> list:
    """The url modules ``cases/urls/<name>.py`` under one prefix, in this order (the first match wins)."""
    return [path(prefix, include(f"cases.urls.{name}")) for name in names]


urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Django's own password views with our Chinese templates (templates/registration/).
    path("accounts/password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"
    ),
    path("accounts/2fa/setup/", twofactor.setup, name="twofactor_setup"),
    path("accounts/2fa/verify/", twofactor.verify, name="twofactor_verify"),
    path("healthz", health.healthz, name="healthz"),
    *mounted("", "accounts", "me", "track"),
    path("notices/", include("notices.urls")),
    path("platform/outbox/", include("cases.urls.outbox")),
    path("inbox/", include("cases.urls.inbox")),
    path("repair/", include("cases.urls.repair")),
    path("commitments/", include("cases.urls.commitment")),
    path("public/commitments/", commitment_views.public_register, name="commitment_register_public"),
    path("api/v1/", include("cases.api.urls")),
    path("objection/", include("cases.urls.objection")),
    *mounted("", "rectification", "supervision", "disclosure", "statistics", "guide", "ratings", "reports"),
    path("", case_views.home, name="home"),
    path("", include("cases.urls.records")),
]

if settings.OIDC_ENABLED:
    # 统一身份认证: mozilla-django-oidc's authenticate/callback/logout views (settings, "OIDC").
    urlpatterns.insert(0, path("oidc/", include("mozilla_django_oidc.urls")))
