def navigation(request):
    """The navigation bar of every page, by role (cases.navigation), and whether the user has an inbox (pages
    link to it only then)."""
    from cases.navigation import navigation_for
    from cases.policy import takes_tasks

    user = getattr(request, "user", None)
    return {
        "nav_links": navigation_for(user, path=request.path, query=request.GET.urlencode()),
        "has_inbox": takes_tasks(user),
    }
