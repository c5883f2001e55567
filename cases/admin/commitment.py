"""Admin for commitment matters (administrators define them per department) and department API tokens.

Matters are saved through ``matter_save`` (audit, sampling seed); tokens are issued by the
``commitment_api_token`` command, which shows the secret once — here they can only be looked at and revoked.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from cases.models import CommitmentMatter, DepartmentApiToken
from cases.services.commitment.bulk_import import api_token_revoke
from cases.services.commitment.lifecycle import matter_save


@admin.register(CommitmentMatter)
class CommitmentMatterAdmin(admin.ModelAdmin):
    list_display = ("title", "code", "department", "type", "verification", "verify_within", "sample_ratio", "is_active")
    list_filter = ("type", "verification", "department", "is_active")
    search_fields = ("title", "code")
    list_select_related = ("department",)

    def has_delete_permission(self, request, obj=None):
        return False  # commitments refer to it; deactivate instead

    def save_model(self, request, obj, form, change):
        saved = matter_save(actor=request.user, matter=obj)
        obj.pk = saved.pk


@admin.register(DepartmentApiToken)
class DepartmentApiTokenAdmin(admin.ModelAdmin):
    list_display = ("organisation", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = (
        "organisation",
        "name",
        "prefix",
        "secret_sha256",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("吊销所选令牌"))
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(actor=request.user, token=token)
        messages.success(request, _("已吊销。"))
