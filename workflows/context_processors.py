def calendar_alarm(request):
    """Show administrators and staff that deadlines are provisional until next year's calendar arrives."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated or getattr(user, "role", "applicant") == "applicant":
        return {}
    from workflows.calendar import calendar_alarm_message

    return {"calendar_alarm": calendar_alarm_message()}
