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


def unread_messages(request):
    """The unread count in the top bar, for applicants; counted only when a page shows it."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated or getattr(user, "role", "") != "applicant":
        return {}
    from django.utils.functional import SimpleLazyObject

    from cases.selectors.me import unread_count

    return {"unread_messages": SimpleLazyObject(lambda: unread_count(user=user))}


def identity_provider(request):
    """Whether the login page offers 统一身份认证 (OIDC_ENABLED; off by default)."""
    from django.conf import settings

    return {"oidc_enabled": settings.OIDC_ENABLED}
