def navigation(request):
    """The navigation bar of every page, by role (cases.navigation)."""
    from cases.navigation import navigation_for

    user = getattr(request, "user", None)
    return {"nav_links": navigation_for(user, path=request.path, query=request.GET.urlencode())}


def unread_messages(request):
    """The unread count in the top bar, for applicants; counted only when a page shows it."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated or getattr(user, "role", "") != "applicant":
        return {}
    from django.utils.functional import SimpleLazyObject

    from cases.selectors.me import unread_count

    return {"unread_messages": SimpleLazyObject(lambda: unread_count(user=user))}
