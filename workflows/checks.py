from django.core import checks


@checks.register()
def calendar_years_known(app_configs, **kwargs):
    """Warn administrators when next year's holiday arrangement has not been entered yet."""
    from workflows.calendar import calendar_alarm_message

    try:
        message = calendar_alarm_message()
    except Exception:  # database not migrated yet: nothing to say
        return []
    return [checks.Warning(message, id="workflows.W001")] if message else []
