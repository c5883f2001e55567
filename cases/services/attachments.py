"""Uploads: checked by content, size-limited, stored outside the web root (DESIGN.md, "Bad input")."""

from __future__ import annotations

import hashlib
import uuid

import filetype
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from cases.models import Attachment
from cases.services.audit import audit_log

# What an applicant may upload: PDF scans and photos. Checked by the file's bytes, never by its name.
ALLOWED_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def sniff_upload(uploaded) -> tuple[str, bytes]:
    """Return (mime type, content) or raise a ValidationError saying exactly what is wrong."""
    size = uploaded.size
    limit = settings.MAX_UPLOAD_BYTES
    if size == 0:
        raise ValidationError(_("文件“%(name)s”是空文件。") % {"name": uploaded.name}, code="empty_file")
    if size > limit:
        raise ValidationError(
            _("文件“%(name)s”大小为%(size).1fMB，超过%(limit).0fMB的上限。")
            % {"name": uploaded.name, "size": size / 1048576, "limit": limit / 1048576},
            code="file_too_large",
        )
    content = b"".join(uploaded.chunks())
    kind = filetype.guess(content)
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise ValidationError(
            _("文件“%(name)s”的内容不是PDF、JPEG或PNG格式（按文件内容识别，而非扩展名）。") % {"name": uploaded.name},
            code="file_type",
        )
    return kind.mime, content


def attachment_add(*, actor, case: models.Model, purpose: str, uploaded) -> Attachment:
    mime, content = sniff_upload(uploaded)
    digest = hashlib.sha256(content).hexdigest()
    # No savepoint (issue 15): a failure here rolls back the caller's whole step; nobody catches it and goes on.
    with transaction.atomic(savepoint=False):
        attachment = Attachment(
            content_type=ContentType.objects.get_for_model(case),
            object_id=case.pk,
            purpose=purpose,
            original_name=uploaded.name[:200],
            mime_type=mime,
            size=len(content),
            sha256=digest,
            uploaded_by=actor,
        )
        # A random stored name: the applicant's file name never becomes a path.
        from django.core.files.base import ContentFile

        attachment.file.save(f"{uuid.uuid4().hex}.{ALLOWED_TYPES[mime]}", ContentFile(content), save=False)
        try:
            attachment.save()
            audit_log(
                actor=actor,
                action="attachment.add",
                obj=attachment,
                data={
                    "case": f"{attachment.content_type.model}:{case.pk}",
                    "purpose": purpose,
                    "sha256": digest,
                    "size": len(content),
                    "mime": mime,
                },
            )
        except Exception:
            attachment.file.delete(save=False)
            raise
    return attachment
