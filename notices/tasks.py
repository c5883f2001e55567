"""django-q2 entry points. They take ids, reload, and call a service; running one twice is harmless."""

from notices.services import notice_render, notice_render_due


def render_notice(notice_id: int) -> str | None:
    notice = notice_render(notice_id=notice_id)
    return notice.number if notice is not None else None


def render_due_notices() -> int:
    """Scheduled sweep (e.g. every minute): notices whose job was lost or whose worker died."""
    return notice_render_due()
