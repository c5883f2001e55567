"""Idle sessions end: an officer's after SESSION_IDLE_STAFF_MINUTES (30), an applicant's after 2 hours.

An unattended office screen must not stay signed in to personal data (GB/T 22239-2019 8.1.4.1 登录连接超时自动退出).
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils.translation import gettext as _

from cases.models import Role

LAST_SEEN = "casework_last_seen"
# Writing the session on every request costs a database write; a minute's precision is enough.
TOUCH_EVERY = 60


def idle_limit(user) -> int:
    if getattr(user, "role", None) == Role.APPLICANT and not user.is_staff:
        return settings.SESSION_IDLE_APPLICANT_SECONDS
    return settings.SESSION_IDLE_STAFF_SECONDS


class IdleSessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            limit = idle_limit(user)
            last_seen = request.session.get(LAST_SEEN)
            if last_seen is not None and now - last_seen > limit:
                logout(request)
                messages.info(
                    request,
                    _("您已超过%(minutes)d分钟未操作，为保护信息安全已自动退出，请重新登录。")
                    % {"minutes": limit // 60},
                )
                return redirect_to_login(request.get_full_path())
            if last_seen is None or now - last_seen >= TOUCH_EVERY:
                request.session[LAST_SEEN] = now
                # the stored session (and its cookie) ends with the idle limit too
                request.session.set_expiry(limit)
        return self.get_response(request)
