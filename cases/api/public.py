"""Public endpoints, no key: notice verification (number + code, optionally the file itself). Rate limited per
address on the shared cache; the answer carries no personal data (no addressee, no content)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import parsers
from rest_framework.response import Response

from cases.api import serializers as s
from cases.api.base import ApiView
from cases.api.problems import Problem, both
from cases.selectors.track import track_lookup
from notices.selectors import notice_for_verification
from notices.verification import verify_upload


def _answer(notice, check=None) -> dict:
    if notice is None:
        return {
            "valid": False,
            "number": "",
            "title": "",
            "issuer": "",
            "issued_at": None,
            "status": "",
            "sha256": "",
            "file_matches": None,
            "signature": None,
        }
    return {
        "valid": notice is not None and (check is None or check.is_original),
        "number": notice.number,
        "title": notice.kind_title,
        "issuer": notice.issuer.name,
        "issued_at": notice.issued_at,
        "status": notice.status,
        "sha256": notice.sha256,
        "file_matches": None if check is None else check.hash_matches,
        "signature": None if check is None else check.signature_dict(),
    }


class NoticeVerificationView(ApiView):
    is_public = True
    required_scopes = {}
    authentication_classes = []
    parser_classes = [parsers.MultiPartParser]
    max_body_bytes = 12 * 1024 * 1024  # a notice is well under 1 MB; a few MB of slack for scans

    @extend_schema(
        operation_id="public_notice_verify",
        auth=[],
        parameters=[
            OpenApiParameter(
                "number", OpenApiTypes.STR, required=True, description="文书编号，〔〕[]［］及全角数字均可"
            ),
            OpenApiParameter("code", OpenApiTypes.STR, required=True, description="验证码"),
        ],
        responses=s.VerificationSerializer,
    )
    def get(self, request):
        """公开：按文书编号和验证码核验文书（不需要密钥，限频）。"""
        number, code = self._ask(request.query_params)
        return Response(_answer(notice_for_verification(number=number, code=code)))

    @extend_schema(
        operation_id="public_notice_verify_file",
        auth=[],
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "number": {"type": "string"},
                    "code": {"type": "string"},
                    "file": {"type": "string", "format": "binary"},
                },
                "required": ["number", "code", "file"],
            }
        },
        responses=s.VerificationSerializer,
    )
    def post(self, request):
        """公开：上传PDF，核对其哈希与签发记录并验证电子签名。"""
        number, code = self._ask(request.data)
        upload = request.data.get("file")
        if upload is None or not hasattr(upload, "read"):
            raise Problem(
                400, _("请上传文书PDF文件。"), code="invalid", errors=[("file", *both(_("请上传文书PDF文件。")))]
            )
        notice = notice_for_verification(number=number, code=code)
        check = verify_upload(notice=notice, data=upload.read()) if notice is not None else None
        return Response(_answer(notice, check))

    @staticmethod
    def _ask(data) -> tuple[str, str]:
        number = str(data.get("number", "") or "")[:60]
        code = str(data.get("code", "") or "")[:32]
        errors = []
        if not number.strip():
            errors.append(("number", *both(_("请填写文书编号。"))))
        if not code.strip():
            errors.append(("code", *both(_("请填写验证码。"))))
        if errors:
            raise Problem(400, _("请填写文书编号和验证码。"), code="invalid", errors=errors)
        return number, code


class CaseTrackView(ApiView):
    """办件查询 by 办件编号 + 查询码, the same look-up as /track/ (cases.selectors.track)."""

    is_public = True
    required_scopes = {}
    authentication_classes = []

    @extend_schema(
        operation_id="public_case_track",
        auth=[],
        parameters=[
            OpenApiParameter("number", OpenApiTypes.STR, required=True, description="办件编号"),
            OpenApiParameter("code", OpenApiTypes.STR, required=True, description="查询码"),
        ],
        responses=s.TrackSerializer,
    )
    def get(self, request):
        """公开：按办件编号和查询码查询办理进度（不需要密钥，限频，不含个人信息）。"""
        number = str(request.query_params.get("number", ""))[:40]
        code = str(request.query_params.get("code", ""))[:40]
        if not number.strip() or not code.strip():
            raise Problem(
                400,
                _("请填写办件编号和查询码。"),
                code="invalid",
                errors=[("number", *both(_("请填写办件编号和查询码。")))],
            )
        result = track_lookup(number=number, code=code)
        if result is None:
            return Response(
                {
                    "found": False,
                    "procedure": "",
                    "tracking_number": "",
                    "state_label": "",
                    "step": None,
                    "steps": None,
                    "step_label": "",
                    "received_on": None,
                    "closed_on": None,
                }
            )
        return Response(
            {
                "found": True,
                "procedure": result.procedure.code,
                "tracking_number": result.tracking_number,
                "state_label": str(result.state_label),
                "step": result.step,
                "steps": result.steps,
                "step_label": str(result.step_label),
                "received_on": result.received_on,
                "closed_on": result.closed_on,
            }
        )
