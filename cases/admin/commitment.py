"""Admin for commitment matters (administrators define them per department); saved through ``matter_save``
(audit, sampling seed). The departments' API keys are API clients (cases/admin/api.py)."""

from django.contrib import admin

from cases.models import CommitmentMatter
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
