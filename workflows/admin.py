"""Administrators' pages for the calendar, clocks and rule sets.

Calendar changes go through ``workflows.services.calendar`` (version bump, recomputation of open clocks,
audit); clocks are read-only here (they change only through case services); rule sets are loaded from
versioned files by ``manage.py load_rule_sets`` and shown read-only, so a running case's parameters can never
be edited in place (PROCEDURES.md: "changing law = adding a rule set").
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from workflows.models import CalendarOverride, CalendarVersion, CalendarYear, Clock, ClockPause, RuleParameter, RuleSet
from workflows.selectors import clock_status
from workflows.services.calendar import (
    calendar_override_delete,
    calendar_override_save,
    calendar_year_delete,
    calendar_year_save,
)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "source", "imported_at"]
    search_fields = ["source"]

    def get_readonly_fields(self, request, obj=None):
        return ["year", "imported_at"] if obj else ["imported_at"]

    def save_model(self, request, obj, form, change):
        calendar_year_save(actor=request.user, year=obj.year, source=obj.source)

    def delete_model(self, request, obj):
        calendar_year_delete(actor=request.user, calendar_year=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            calendar_year_delete(actor=request.user, calendar_year=obj)


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    list_display = ["date", "weekday", "is_workday", "name", "source", "updated_at"]
    list_filter = ["is_workday", "name"]
    search_fields = ["name", "source"]
    date_hierarchy = "date"
    readonly_fields = ["updated_at"]

    @admin.display(description=_("星期"))
    def weekday(self, obj):
        return [_("星期一"), _("星期二"), _("星期三"), _("星期四"), _("星期五"), _("星期六"), _("星期日")][
            obj.date.weekday()
        ]

    def save_model(self, request, obj, form, change):
        saved = calendar_override_save(
            actor=request.user,
            date=obj.date,
            is_workday=obj.is_workday,
            name=obj.name,
            source=obj.source,
            override=obj if change else None,
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        calendar_override_delete(actor=request.user, override=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            calendar_override_delete(actor=request.user, override=obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never edited here: derived state (calendar version, clocks) and law (rule sets, changed only by
    loading a new versioned set, so running deadlines never move)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CalendarVersion)
class CalendarVersionAdmin(ReadOnlyAdmin):
    list_display = ["id", "version", "changed_at"]
    readonly_fields = ["id", "version", "changed_at"]


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ClockPauseInline(_ReadOnlyInline):
    model = ClockPause
    fields = ["reason_code", "reason", "paused_on", "resumed_on", "paused_by", "resumed_by"]
    readonly_fields = fields


@admin.register(Clock)
class ClockAdmin(ReadOnlyAdmin):
    list_display = [
        "label",
        "purpose",
        "kind",
        "unit",
        "budget",
        "extension_days",
        "start_date",
        "due_date",
        "provisional",
        "is_paused",
        "stopped_at",
        "organisation",
    ]
    list_filter = [
        "kind",
        "unit",
        "provisional",
        "is_paused",
        ("stopped_at", admin.EmptyFieldListFilter),
        "organisation",
    ]
    search_fields = ["label", "purpose", "citation"]
    date_hierarchy = "due_date"
    list_select_related = ["organisation"]
    inlines = [ClockPauseInline]
    readonly_fields = ["explanation"]

    @admin.display(description=_("计算说明"))
    def explanation(self, obj):
        return clock_status(obj).explanation

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Clock._meta.concrete_fields] + ["explanation"]


class RuleParameterInline(_ReadOnlyInline):
    model = RuleParameter
    fields = ["key", "value", "unit", "description", "citation"]
    readonly_fields = fields


@admin.register(RuleSet)
class RuleSetAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "effective_from", "effective_until", "citation"]
    search_fields = ["code", "name", "citation"]
    inlines = [RuleParameterInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in RuleSet._meta.concrete_fields]


@admin.register(RuleParameter)
class RuleParameterAdmin(ReadOnlyAdmin):
    list_display = ["rule_set", "key", "value", "unit", "description", "citation"]
    list_filter = ["rule_set"]
    search_fields = ["key", "description", "citation"]
    list_select_related = ["rule_set"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in RuleParameter._meta.concrete_fields]
