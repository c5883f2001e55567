"""API v1 endpoints. Thin: they authenticate, check the scope, validate the shape, then call the services and
selectors the pages call (no second implementation of a rule)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiRequest, extend_schema
from rest_framework import exceptions, parsers, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from cases.api import serializers as s
from cases.api.auth import client_of
from cases.api.base import ApiView
from cases.api.parsers import checked_json, read_limited
from cases.api.problems import Problem, both, from_validation_error
from cases.identifiers import validate_uscc
from cases.models import ApiScope, CommitmentImport, CommitmentMatter, CreditRecord, Subject
from cases.models.outbox import TOPIC_LABELS
from cases.selectors import cases as case_sel
from cases.selectors import events as event_sel
from cases.selectors import records as record_sel
from cases.services import records as record_svc
from cases.services import webhooks as webhook_svc
from cases.services.commitment import bulk_import as imp
from cases.services.subjects import normalise_code, subject_create_enterprise, subject_create_person

IDEMPOTENCY_PARAM = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="每个 POST 必填；重试时使用同一个键，将得到第一次的响应，不会重复创建。",
)


class Cursor(CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-pk"


class AscendingCursor(Cursor):
    ordering = "pk"


def _paginate(view, qs, serializer, pagination=Cursor):
    paginator = pagination()
    page = paginator.paginate_queryset(qs, view.request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


class NotFoundView(ApiView):
    is_public = True
    authentication_classes = []
    schema = None  # not an operation

    def initial(self, request, *args, **kwargs):
        raise exceptions.NotFound()


# --- records --------------------------------------------------------------------------------------------


def _subject_for(*, actor, name: str, code: str) -> Subject:
    """The subject with this code, registered now if the platform does not know it yet."""
    code = normalise_code(code)
    found = Subject.objects.filter(uscc=code).first() or Subject.objects.filter(id_number=code).first()
    if found is not None:
        return found
    try:
        try:
            validate_uscc(code)
        except ValidationError:
            return subject_create_person(actor=actor, name=name, id_number=code)
        return subject_create_enterprise(actor=actor, name=name, uscc=code)
    except ValidationError as exc:
        raise from_validation_error(ValidationError({"subject_code": exc.messages[0]}), status_code=400) from exc


class RecordListView(ApiView):
    required_scopes = {"GET": ApiScope.RECORDS_READ, "POST": ApiScope.RECORDS_WRITE}

    @extend_schema(
        operation_id="records_list",
        parameters=[
            OpenApiParameter("display_state", OpenApiTypes.STR, enum=[c for c, _l in s.DisplayState.choices]),
            OpenApiParameter("q", OpenApiTypes.STR, description="事项名称、文书号或主体名称"),
        ],
        responses=s.page_of(s.RecordSerializer),
    )
    def get(self, request):
        """本机构的信用记录（按权限范围）。"""
        state = request.query_params.get("display_state", "")
        if state and state not in s.DisplayState.values:
            raise Problem(
                400, _("公示状态无效。"), code="invalid", errors=[("display_state", *both(_("公示状态无效。")))]
            )
        qs = record_sel.record_list_for_user(
            user=request.user, query=request.query_params.get("q", "")[:100], display_state=state
        )
        return _paginate(self, qs.order_by("-pk"), s.RecordSerializer)

    @extend_schema(
        operation_id="records_create",
        parameters=[IDEMPOTENCY_PARAM],
        request=s.RecordCreateSerializer,
        responses={201: s.RecordSerializer},
    )
    def post(self, request):
        """新增一条本部门认定的信用记录（与后台相同的 record_create）。"""
        client = client_of(request)

        def create():
            data = dict(self.validated(s.RecordCreateSerializer, request.data))
            subject = _subject_for(actor=request.user, name=data.pop("subject_name"), code=data.pop("subject_code"))
            # The rest is the record's content and whether it may be repaired, as record_create takes them.
            record = record_svc.record_create(actor=request.user, subject=subject, provider=client.organisation, **data)
            record = record_sel.record_get_for_user(user=request.user, pk=record.pk)
            return Response(s.RecordSerializer(record).data, status=status.HTTP_201_CREATED)

        return self.idempotent(request, create)


class RecordDetailView(ApiView):
    required_scopes = {"GET": ApiScope.RECORDS_READ}

    @extend_schema(operation_id="records_retrieve", responses=s.RecordSerializer)
    def get(self, request, pk: int):
        return Response(s.RecordSerializer(record_sel.record_get_for_user(user=request.user, pk=pk)).data)


def _own_record(request, pk: int) -> CreditRecord:
    record = record_sel.record_get_for_user(user=request.user, pk=pk)
    client = client_of(request)
    if record.provider_id != client.organisation_id:
        raise Http404  # a record the client may read but did not provide is not its to change
    return record


class RecordCorrectionView(ApiView):
    required_scopes = {"POST": ApiScope.RECORDS_WRITE}

    @extend_schema(
        operation_id="records_correct",
        parameters=[IDEMPOTENCY_PARAM],
        request=s.RecordCorrectionSerializer,
        responses={200: s.RecordSerializer},
    )
    def post(self, request, pk: int):
        """更正信用记录（河南省社会信用条例第41条），逐字段留痕。"""

        def correct():
            record = _own_record(request, pk)
            data = dict(self.validated(s.RecordCorrectionSerializer, request.data))
            reason, reference = data.pop("reason"), data.pop("case_reference", "")
            record_svc.record_update_fields(
                actor=request.user, record=record, changes=data, reason=reason, case_reference=reference
            )
            return Response(s.RecordSerializer(record_sel.record_get_for_user(user=request.user, pk=pk)).data)

        return self.idempotent(request, correct)


class RecordRevocationView(ApiView):
    required_scopes = {"POST": ApiScope.RECORDS_WRITE}

    @extend_schema(
        operation_id="records_revoke",
        parameters=[IDEMPOTENCY_PARAM],
        request=s.RecordRevocationSerializer,
        responses={200: s.RecordSerializer},
    )
    def post(self, request, pk: int):
        """撤销信用记录。"""

        def revoke():
            record = _own_record(request, pk)
            data = self.validated(s.RecordRevocationSerializer, request.data)
            record_svc.record_revoke(
                actor=request.user, record=record, reason=data["reason"], case_reference=data["case_reference"]
            )
            return Response(s.RecordSerializer(record_sel.record_get_for_user(user=request.user, pk=pk)).data)

        return self.idempotent(request, revoke)


# --- cases, tasks ---------------------------------------------------------------------------------------


def _case_row(case, procedure: str) -> dict:
    return {
        "procedure": procedure,
        "tracking_number": case.tracking_number,
        "state": case.state,
        "state_label": str(case.get_state_display()),
        "subject": case.subject.name,
        "received_at": case.received_at,
    }


class CaseListView(ApiView):
    required_scopes = {"GET": ApiScope.CASES_READ}

    @extend_schema(
        operation_id="cases_list",
        parameters=[OpenApiParameter("procedure", OpenApiTypes.STR, enum=list(case_sel.CASE_MODELS), required=True)],
        responses=s.page_of(s.CaseSerializer),
    )
    def get(self, request):
        """本机构办理的办件及其状态。"""
        procedure = request.query_params.get("procedure", "")
        if procedure not in case_sel.CASE_MODELS:
            raise Problem(
                400, _("请指定办理程序。"), code="invalid", errors=[("procedure", *both(_("请指定办理程序。")))]
            )
        paginator = Cursor()
        page = paginator.paginate_queryset(
            case_sel.case_list_for_user(user=request.user, procedure=procedure), request, view=self
        )
        return paginator.get_paginated_response([_case_row(c, procedure) for c in page])


class CaseDetailView(ApiView):
    required_scopes = {"GET": ApiScope.CASES_READ}

    @extend_schema(operation_id="cases_retrieve", responses=s.CaseDetailSerializer)
    def get(self, request, tracking_number: str):
        """一件办件的状态和已签发的文书。"""
        case = case_sel.case_get_for_user(user=request.user, tracking_number=tracking_number[:32])
        row = _case_row(case, case.procedure)
        row["notices"] = s.NoticeSerializer(case_sel.notices_of_case(user=request.user, case=case), many=True).data
        return Response(row)


class TaskListView(ApiView):
    required_scopes = {"GET": ApiScope.CASES_READ}

    @extend_schema(operation_id="tasks_list", responses=s.page_of(s.TaskSerializer))
    def get(self, request):
        """本机构办件的待办环节。"""
        paginator = Cursor()
        page = paginator.paginate_queryset(case_sel.open_tasks_for_user(user=request.user), request, view=self)
        rows = []
        for task in page:
            model = task.process.artifact_content_type.model_class()
            procedure = next((p for p, m in case_sel.CASE_MODELS.items() if m is model), "")
            case = model.objects.filter(pk=task.process.artifact_object_id).only("tracking_number").first()
            rows.append(
                {
                    "id": task.pk,
                    "procedure": procedure,
                    "tracking_number": case.tracking_number if case else None,
                    "step": str(task.flow_task.task_title or task.flow_task.name) if task.flow_task else "",
                    "created": task.created,
                }
            )
        return paginator.get_paginated_response(rows)


# --- the platform: events and webhooks ------------------------------------------------------------------


class EventListView(ApiView):
    required_scopes = {"GET": ApiScope.EVENTS_READ}

    @extend_schema(
        operation_id="events_list",
        parameters=[OpenApiParameter("topic", OpenApiTypes.STR, enum=sorted(TOPIC_LABELS))],
        responses=s.page_of(s.EventSerializer),
    )
    def get(self, request):
        """平台事件流（推送事件），按产生顺序，游标分页：保存 next 地址，下次从那里继续。"""
        topic = request.query_params.get("topic", "")
        if topic and topic not in TOPIC_LABELS:
            raise Problem(400, _("事件类型无效。"), code="invalid", errors=[("topic", *both(_("事件类型无效。")))])
        return _paginate(
            self, event_sel.events_for_user(user=request.user, topic=topic), s.EventSerializer, AscendingCursor
        )


def _webhook_row(sub, *, secret: bool = False) -> dict:
    row = {
        "id": sub.pk,
        "url": sub.url,
        "topics": sub.topics,
        "created_at": sub.created_at,
        "active": sub.cancelled_at is None,
    }
    if secret:
        row["secret"] = sub.secret
    return row


class WebhookListView(ApiView):
    required_scopes = {"GET": ApiScope.WEBHOOKS, "POST": ApiScope.WEBHOOKS}

    @extend_schema(operation_id="webhooks_list", responses=s.page_of(s.WebhookSerializer))
    def get(self, request):
        paginator = Cursor()
        page = paginator.paginate_queryset(event_sel.webhooks_for_client(client=client_of(request)), request, view=self)
        return paginator.get_paginated_response([_webhook_row(w) for w in page])

    @extend_schema(
        operation_id="webhooks_create",
        parameters=[IDEMPOTENCY_PARAM],
        request=s.WebhookSerializer,
        responses={201: s.WebhookCreatedSerializer},
    )
    def post(self, request):
        """订阅事件推送：每个事件以 HMAC-SHA256 签名 POST 到该地址，失败按退避重试。"""

        def create():
            data = self.validated(s.WebhookSerializer, request.data)
            sub = webhook_svc.webhook_subscribe(client=client_of(request), url=data["url"], topics=data["topics"])
            return Response(_webhook_row(sub, secret=True), status=status.HTTP_201_CREATED)

        return self.idempotent(request, create)


class WebhookDetailView(ApiView):
    required_scopes = {"GET": ApiScope.WEBHOOKS, "DELETE": ApiScope.WEBHOOKS}

    @extend_schema(operation_id="webhooks_retrieve", responses=s.WebhookSerializer)
    def get(self, request, pk: int):
        return Response(_webhook_row(event_sel.webhook_get_for_client(client=client_of(request), pk=pk)))

    @extend_schema(operation_id="webhooks_destroy", responses={204: None})
    def delete(self, request, pk: int):
        client = client_of(request)
        webhook_svc.webhook_cancel(client=client, subscription=event_sel.webhook_get_for_client(client=client, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- commitments ----------------------------------------------------------------------------------------


class NDJSONParser(parsers.BaseParser):
    """One commitment per line, read in chunks as it arrives (a 200,000-row batch is never one JSON document)."""

    media_type = "application/x-ndjson"

    def parse(self, stream, media_type=None, parser_context=None):
        view, request = parser_context["view"], parser_context["request"]
        data = read_limited(stream, view.max_body_bytes, request)
        rows = []
        for line_no, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            rows.append(checked_json(line, field=f"line[{line_no}]"))
            if len(rows) > imp.MAX_ROWS:
                raise Problem(413, _("单次最多导入%(n)s行。"), params={"n": imp.MAX_ROWS}, code="too_many_rows")
        return {"commitments": rows}


def _import(request, rows) -> Response:
    client = client_of(request)
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise Problem(
            400,
            _('请求体须为 {"commitments": [...]}，每项为一个对象。'),
            code="invalid",
            errors=[("commitments", *both(_("须为对象数组。")))],
        )
    if not rows:
        raise Problem(
            400, _("没有要登记的承诺。"), code="empty", errors=[("commitments", *both(_("没有要登记的承诺。")))]
        )
    if len(rows) > imp.MAX_ROWS:
        raise Problem(413, _("单次最多导入%(n)s行。"), params={"n": imp.MAX_ROWS}, code="too_many_rows")
    try:
        result = imp.commitments_import(
            actor=request.user,
            department=client.organisation,
            raw_rows=rows,
            source=CommitmentImport.Source.API,
            api_client=client,
        )
    except imp.ImportRefused as exc:
        problem = Problem(
            422,
            _("导入未执行：%(n)s处错误，请修改后重新提交（所有行均未写入）。"),
            params={"n": len(exc.row_errors)},
            code="rows_invalid",
            errors=[(f"commitments[{e.row - 1}].{_column_key(e.column)}", *both(e.message)) for e in exc.row_errors],
        )
        raise problem from exc
    return Response(
        {
            "batch": result.batch.pk if result.batch else None,
            "created": result.created,
            "subjects_created": result.subjects_created,
            "events": result.events,
            "duplicates": result.duplicates,
        },
        status=status.HTTP_201_CREATED,
    )


def _column_key(column: str) -> str:
    for key, names in imp.COLUMNS.items():
        if column in names or column == key:
            return key
    return column


class CommitmentImportView(ApiView):
    """Bulk registration: one request is one batch, written all or nothing."""

    required_scopes = {"POST": ApiScope.COMMITMENTS_WRITE}
    parser_classes = [NDJSONParser, *ApiView.parser_classes]
    max_body_bytes = 128 * 1024 * 1024  # 200,000 rows of ~400 bytes with room to spare

    @extend_schema(
        operation_id="commitments_import",
        parameters=[IDEMPOTENCY_PARAM],
        request={
            "application/json": s.CommitmentBatchRequestSerializer,
            "application/x-ndjson": OpenApiRequest(OpenApiTypes.STR),
        },
        responses={201: s.CommitmentBatchSerializer},
    )
    def post(self, request):
        """批量登记信用承诺：application/json 或逐行 application/x-ndjson（最多20万行），全部写入或全部不写入。"""

        def create():
            body = request.data
            rows = body.get("commitments") if isinstance(body, dict) else None
            with transaction.atomic():
                return _import(request, rows)

        return self.idempotent(request, create)


class CommitmentRegisterView(ApiView):
    required_scopes = {"POST": ApiScope.COMMITMENTS_WRITE}

    @extend_schema(
        operation_id="commitments_create",
        parameters=[IDEMPOTENCY_PARAM],
        request=s.CommitmentRowSerializer,
        responses={201: s.CommitmentBatchSerializer},
    )
    def post(self, request):
        """登记一份信用承诺（与批量导入相同的校验和写入）。"""

        def create():
            row = dict(self.validated(s.CommitmentRowSerializer, request.data))
            return _import(request, [row])

        return self.idempotent(request, create)


__all__ = ["CommitmentMatter"]
