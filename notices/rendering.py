"""Notice → HTML (Django templates) → PDF (WeasyPrint, A4, CJK font embedded).

Free text written by applicants (reasons, material lists, names) reaches these documents. Django's
autoescaping keeps it text, and WeasyPrint is given a URL fetcher that serves the project's own static files
and nothing else, so no notice can make the renderer reach the network or read a file outside static
(DESIGN.md, "Notices"). The GB 2312 cut of Noto Serif CJK SC (built at install time into static/fonts/notice/)
is fetched through it; the full Noto CJK, for rarer characters, comes from fontconfig.
"""

from __future__ import annotations

import logging
import mimetypes
import posixpath
from pathlib import Path
from urllib.parse import unquote, urlencode, urlsplit

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from notices import kinds, seal
from workflows.rules import public_citation

logger = logging.getLogger("casework.notices")

# Relative URLs in the notice HTML ({% static %} gives "/static/…") resolve against this base; the fetcher
# maps file:///static/… to the static roots below, never to the real file system path.
BASE_URL = "file:///"


class StaticOnlyURLFetcher(URLFetcher):
    """Serves ``data:`` URLs and files under the static roots for ``/static/`` paths; refuses the rest."""

    def __init__(self):
        super().__init__(allowed_protocols={"data"}, allow_redirects=False)
        self.refused: list[str] = []

    @staticmethod
    def static_roots() -> list[Path]:
        roots = [Path(p) for p in getattr(settings, "STATICFILES_DIRS", [])]
        if getattr(settings, "STATIC_ROOT", None):
            roots.append(Path(settings.STATIC_ROOT))
        return [r.resolve() for r in roots]

    def _static_file(self, url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return None
        static_prefix = "/" + urlsplit(settings.STATIC_URL).path.strip("/") + "/"
        path = unquote(parts.path)
        if not path.startswith(static_prefix):
            return None
        relative = posixpath.normpath(path[len(static_prefix) :])
        if relative.startswith(("..", "/")) or relative in (".", ""):
            return None
        for root in self.static_roots():
            candidate = (root / relative).resolve()
            # resolve() follows symlinks: the final file must still lie inside the root.
            if candidate.is_file() and candidate.is_relative_to(root):
                return candidate
        return None

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        found = self._static_file(url)
        if found is None:
            self.refused.append(url)
            logger.warning("notice renderer refused to fetch %s", url)
            raise ValueError(f"notice renderer may not fetch {url}")
        content_type = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, found.read_bytes(), headers={"Content-Type": content_type})


def verification_url(notice) -> str:
    """The address printed at the foot of the notice. SITE_URL (e.g. https://credit.zhengzhou.gov.cn) makes
    it absolute; without it the path alone is printed."""
    path = reverse("notices:verify")
    return getattr(settings, "SITE_URL", "").rstrip("/") + path


def verification_link(notice) -> str:
    """What the QR code opens: the verification page with this notice's number and code filled in."""
    query = urlencode({"number": notice.number, "code": notice.verification_code})
    return f"{verification_url(notice)}?{query}"


def addressee_name(notice) -> str:
    if notice.context.get("addressee_name"):
        return notice.context["addressee_name"]
    if notice.addressee_organisation_id:
        return notice.addressee_organisation.name
    if notice.addressee_subject_id:
        return notice.addressee_subject.name
    if notice.addressee_user_id:
        return str(notice.addressee_user)
    return ""


def _rule_set(notice):
    case = notice.case
    return getattr(case, "rule_set", None) if case is not None else None


def template_context(notice) -> dict:
    kind = kinds.get_kind(notice.kind)
    rule_set = _rule_set(notice)
    ctx = dict(notice.context)
    issued_on = timezone.localdate(notice.issued_at) if notice.issued_at else timezone.localdate()
    return {
        "notice": notice,
        "kind": kind,
        "title": kind.title,
        "issuer": notice.issuer,
        "c": ctx,
        "addressee_name": addressee_name(notice),
        "issued_on": issued_on,
        "legal_basis": public_citation(
            ctx.get("legal_basis")
            or (rule_set.citation if rule_set is not None and kind.basis_from_rule_set else "")
            or str(kind.legal_basis)
        ),
        "remedies": kinds.remedy_periods(rule_set, ctx) if kind.adverse else None,
        "verification_url": verification_url(notice),
        # Drawn, not fetched: the seal is inline SVG, the QR code an inline PNG (notices/seal.py).
        "seal_svg": mark_safe(seal.seal_svg(notice.issuer.name)),  # noqa: S308 — built from escaped text
        "qr_img": mark_safe(seal.qr_img(verification_link(notice))) if notice.number else "",  # noqa: S308
        "superseded_number": notice.supersedes.number if notice.supersedes_id else "",
        "site_url": settings.SITE_URL.rstrip("/"),
    }


def html_for(notice) -> str:
    """The notice as HTML. Always in Chinese: the issued document is the legal original, whatever language
    the worker or the requesting user has active."""
    kind = kinds.get_kind(notice.kind)
    with translation.override("zh-hans"):
        return render_to_string(kind.template_name, template_context(notice))


_font_config: FontConfiguration | None = None


def font_config() -> FontConfiguration:
    """One fontconfig configuration per process, reused by every render: building one loads the system's font
    list, and the notice fonts of @font-face are registered in it once instead of on every page."""
    global _font_config
    if _font_config is None:
        _font_config = FontConfiguration()
    return _font_config


def pdf_bytes(html: str, *, url_fetcher: URLFetcher | None = None) -> bytes:
    fetcher = url_fetcher or StaticOnlyURLFetcher()
    return HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf(font_config=font_config())
