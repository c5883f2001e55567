"""Login protection: django-axes lockout per account and per address, with a Chinese page saying when to retry."""

import math

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.conf import settings
from django.shortcuts import render
from django.utils import timezone


class LoginLockoutBackend(AxesStandaloneBackend):
    """django-axes' gate, for logins that come with a request (every web login does).

    A call without a request — a management command, a script, the test client's login() — is not a login over
    the network and cannot be locked out by address; the password backends after this one still check it.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_response(request, original_response=None, credentials=None):
    # Every failure during a lockout restarts the cool-off (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT), so
    # the wait counts from now.
    cool_off = get_cool_off(request) or settings.AXES_COOLOFF_TIME
    retry_at = timezone.localtime(timezone.now() + cool_off)
    context = {
        "retry_at": retry_at,
        "minutes": math.ceil(cool_off.total_seconds() / 60),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
    }
    return render(request, "registration/locked_out.html", context, status=429)
