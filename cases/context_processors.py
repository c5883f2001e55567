def navigation(request):
    """The navigation bar of every page, by role (cases.navigation)."""
    from cases.navigation import navigation_for

    user = getattr(request, "user", None)
    return {"nav_links": navigation_for(user, path=request.path, query=request.GET.urlencode())}
