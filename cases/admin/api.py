"""API clients: issued here or by ``manage.py api_client issue`` (the key is shown once), revoked here or by
``manage.py api_client revoke``; never edited or deleted (audit rows refer to them)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from cases.models import ApiClient, ApiScope, Organisation
from cases.services.api_clients import api_client_issue, api_client_revoke


class ApiClientIssueForm(forms.ModelForm):
    organisation = forms.ModelChoiceField(
        label=_("机构"),
        queryset=Organisation.objects.filter(
            kind__in=[Organisation.Kind.DEPARTMENT, Organisation.Kind.CREDIT_CENTRE], is_active=True
        ),
    )
    scopes = forms.MultipleChoiceField(
        label=_("权限范围"), choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiClient
        fields = ["organisation", "name", "scopes", "expires_at", "rate_per_minute"]


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ("organisation", "name", "prefix", "scopes", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("organisation",)
    search_fields = ("name", "prefix")
    list_select_related = ("organisation",)
    actions = ["revoke"]
    readonly_fields = (
        "organisation",
        "name",
        "prefix",
        "scopes",
        "user",
        "rate_per_minute",
        "expires_at",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    exclude = ("secret_sha256",)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiClientIssueForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["organisation", "name", "scopes", "expires_at", "rate_per_minute"]
        return list(self.readonly_fields)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            client, key = api_client_issue(
                actor=request.user,
                organisation=data["organisation"],
                name=data["name"],
                scopes=data["scopes"],
                expires_at=data.get("expires_at"),
                rate_per_minute=data.get("rate_per_minute") or 600,
            )
        except (ValidationError, PermissionDenied) as exc:
            raise PermissionDenied(" ".join(getattr(exc, "messages", [str(exc)]))) from exc
        obj.pk = client.pk
        messages.warning(request, _("接口密钥（只显示这一次，请立即保存）：%(key)s") % {"key": key})

    @admin.action(description=_("吊销所选接口密钥"))
    def revoke(self, request, queryset):
        for client in queryset.filter(revoked_at__isnull=True):
            api_client_revoke(actor=request.user, client=client)
        messages.success(request, _("已吊销。"))
