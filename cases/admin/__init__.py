"""Configuration admin (Chinese): organisations, users, subjects, authorisations, records; audit read-only.

Personal data stays masked here too: the admin is not a way around the 个人信息查询使用登记 (cases.services.
privacy). Identity and phone numbers are write-only fields; lists show them masked.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from cases.forms.records import CreditRecordAdminForm, SubjectAdminForm, UserAddForm, UserEditForm
from cases.identifiers import mask_phone
from cases.models import (
    AuditEvent,
    CreditRecord,
    Organisation,
    RecordChange,
    Subject,
    SubjectAuthorisation,
    SubjectKind,
    User,
)
from cases.services.records import (
    CORRECTABLE_FIELDS,
    EDITABLE_FIELDS,
    WINDOW_FIELDS,
    record_create,
    record_update_fields,
)
from cases.services.subjects import subject_create_enterprise, subject_create_person


def _adopt(obj, saved) -> None:
    """Make the admin's unsaved form instance the row a service saved, so the admin's "added" message,
    log entry and inlines refer to it. Copied past the attribute descriptors: a protected FSM field
    refuses assignment."""
    for field in type(saved)._meta.concrete_fields:
        obj.__dict__[field.attname] = getattr(saved, field.attname)
    obj._state.adding = False
    obj._state.db = saved._state.db


class ReadOnlyAdminMixin:
    """Rows that only services write (and whose history matters) are shown, never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "short_name", "kind", "district", "parent", "notice_prefix", "is_active")
    list_filter = ("kind", "is_active", "district")
    search_fields = ("name", "short_name", "uscc")
    autocomplete_fields = ("parent",)

    def has_delete_permission(self, request, obj=None):
        # Cases and records belong to organisations (新官要理旧账): deactivate instead of deleting.
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserAddForm
    list_display = ("username", "display_name", "role", "organisation", "phone_masked", "is_active")
    list_filter = ("role", "organisation__kind", "is_active", "is_staff")
    search_fields = ("username", "display_name", "organisation__name")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation",)
    ordering = ("username",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("身份与机构"), {"fields": ("display_name", "role", "organisation", "new_phone", "email")}),
        (_("权限"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "display_name",
                    "role",
                    "organisation",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    @admin.display(description=_("手机号"))
    def phone_masked(self, obj):
        return mask_phone(obj.phone)


class SubjectAuthorisationInline(admin.TabularInline):
    model = SubjectAuthorisation
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "basis", "scope", "status", "valid_from", "valid_until", "revoked_at")


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    form = SubjectAdminForm
    list_display = ("name", "kind", "public_identifier_display", "district", "organisation")
    list_filter = ("kind", "district")
    # "=id_number": exact match only (the full number is kept for matching), never a partial search.
    search_fields = ("name", "=uscc", "=id_number")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation",)
    inlines = [SubjectAuthorisationInline]
    fieldsets = (
        (None, {"fields": ("kind", "name", "uscc", "new_id_number")}),
        (_("其他信息"), {"fields": ("legal_representative", "address", "district", "organisation")}),
    )

    @admin.display(description=_("统一社会信用代码/证件号"))
    def public_identifier_display(self, obj):
        return obj.public_identifier

    def save_model(self, request, obj, form, change):
        if change:  # no update service yet: details and a replaced ID number are saved as entered
            super().save_model(request, obj, form, change)
        elif obj.kind == SubjectKind.INDIVIDUAL:
            _adopt(
                obj,
                subject_create_person(
                    actor=request.user,
                    name=obj.name,
                    id_number=obj.id_number,
                    address=obj.address,
                    district=obj.district,
                ),
            )
        else:
            _adopt(
                obj,
                subject_create_enterprise(
                    actor=request.user,
                    name=obj.name,
                    uscc=obj.uscc or "",
                    kind=obj.kind,
                    legal_representative=obj.legal_representative,
                    address=obj.address,
                    district=obj.district,
                    organisation=obj.organisation,
                ),
            )

    def has_delete_permission(self, request, obj=None):
        # A subject's records and cases are kept (PROTECT); nothing about a subject is erased from here.
        return False


@admin.register(SubjectAuthorisation)
class SubjectAuthorisationAdmin(admin.ModelAdmin):
    list_display = ("user", "subject", "basis", "scope", "status", "valid_from", "valid_until", "revoked_at")
    list_filter = ("basis", "scope", "status")
    search_fields = ("user__username", "user__display_name", "subject__name", "=subject__uscc")
    list_select_related = ("user", "subject")
    autocomplete_fields = ("user", "subject")

    def has_delete_permission(self, request, obj=None):
        # Revoke (revoked_at) rather than delete, so who could act for a subject, and when, stays known.
        return False


class RecordChangeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = RecordChange
    extra = 0
    fields = ("changed_at", "field", "old_value", "new_value", "reason", "case_reference", "actor")
    readonly_fields = fields


@admin.register(CreditRecord)
class CreditRecordAdmin(admin.ModelAdmin):
    """Records are created and corrected through the record services (display window from the rule set,
    field-level history, audit). The display state is never edited here: only the case procedures
    (objection, repair, revocation, expiry) move it."""

    form = CreditRecordAdminForm
    list_display = ("title", "subject", "kind", "severity", "provider", "decision_date", "display_state")
    list_filter = ("display_state", "kind", "severity", "provider")
    search_fields = ("title", "decision_number", "subject__name", "=subject__uscc")
    list_select_related = ("subject", "provider")
    autocomplete_fields = ("subject", "provider")
    date_hierarchy = "decision_date"
    inlines = [RecordChangeInline]
    # What a correction may change, the display window apart (it is computed when a record is created).
    _common = tuple(name for name in CORRECTABLE_FIELDS if name not in WINDOW_FIELDS)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("subject", *self._common)
        return ("subject", "display_state", *self._common, *WINDOW_FIELDS, "change_reason")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("subject", "display_state")

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            changes = {name: data[name] for name in form.changed_data if name in EDITABLE_FIELDS}
            if changes:
                _adopt(
                    obj,
                    record_update_fields(actor=request.user, record=obj, changes=changes, reason=data["change_reason"]),
                )
        else:
            _adopt(
                obj,
                record_create(
                    actor=request.user, subject=data["subject"], **{name: data[name] for name in self._common}
                ),
            )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("seq", "at", "actor_label", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    search_fields = ("=object_id", "actor_label", "action")
    date_hierarchy = "at"
    fields = ("seq", "at", "actor", "actor_label", "action", "object_type", "object_id", "data", "prev_hash", "hash")
    readonly_fields = fields

    def get_actions(self, request):
        # No bulk delete: the log is append-only (and the queryset refuses anyway).
        return {}


# Commitment matters (procedure 3) and API clients live in their own modules.
from cases.admin import api, commitment  # noqa: E402, F401
