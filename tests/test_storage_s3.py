"""Issued PDFs and uploads on S3-compatible object storage (STORAGE_URL), against a real S3 server (moto's server
mode on 127.0.0.1), still served only through the permission-checked views."""

import hashlib
import os
import subprocess
import sys

import boto3
import pytest
from django.urls import reverse

from cases.services import repair as svc
from notices.models import Notice
from tests.factories import CreditRecordFactory
from tests.servers import ROOT, s3_env, s3_server
from tests.test_repair_views import submit_case, tiny_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(enterprise, market_bureau, rule_sets):
    return CreditRecordFactory(subject=enterprise, provider=market_bureau)


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with s3_server(tmp_path_factory.mktemp("moto")) as (endpoint, bucket):
        yield endpoint, bucket


@pytest.fixture
def on_s3(s3, settings, tmp_path):
    endpoint, bucket = s3
    local = tmp_path / "private"
    settings.PRIVATE_STORAGE_ROOT = local
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "location": "files",
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "access_key": "test",
                "secret_key": "test",
                "default_acl": None,
                "file_overwrite": False,
            },
        },
    }
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )

    def keys() -> set[str]:
        return {
            obj["Key"]
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for obj in page.get("Contents", [])
        }

    return keys, local


def test_uploads_and_issued_notices_go_to_the_bucket_and_download_only_through_the_views(
    on_s3, client, applicant, other_applicant, handler, record, django_capture_on_commit_callbacks
):
    keys, local = on_s3
    application = submit_case(applicant, record)
    with django_capture_on_commit_callbacks(execute=True):
        svc.repair_accept(actor=handler, application=application)

    attachment = application.attachments.get()
    notice = Notice.objects.get(object_id=application.pk, kind="repair_accepted", status=Notice.Status.ISSUED)
    assert {f"files/{attachment.file.name}", f"files/{notice.pdf.name}"} <= keys()
    assert not local.exists() or not any(local.rglob("*"))  # nothing on this machine's disk

    client.force_login(applicant)
    pdf = client.get(reverse("notices:download", args=[notice.pk]))
    assert pdf.status_code == 200
    body = b"".join(pdf.streaming_content)
    assert body.startswith(b"%PDF") and hashlib.sha256(body).hexdigest() == notice.sha256
    upload = client.get(reverse("repair_attachment", args=[application.pk, attachment.pk]))
    assert upload.status_code == 200 and b"".join(upload.streaming_content) == tiny_pdf()

    client.force_login(other_applicant)
    assert client.get(reverse("notices:download", args=[notice.pk])).status_code == 404
    assert client.get(reverse("repair_attachment", args=[application.pk, attachment.pk])).status_code == 404


def test_healthz_checks_the_bucket(on_s3, client, settings, s3):
    assert client.get("/healthz").json()["checks"]["storage"]["status"] == "ok"

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {**settings.STORAGES["default"]["OPTIONS"], "bucket_name": "no-such-bucket"},
        },
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"]["status"] == "down"


def test_storage_url_configures_the_bucket_and_refuses_unknown_parameters(s3):
    endpoint, bucket = s3
    script = "from django.conf import settings; import json; print(json.dumps(settings.STORAGES['default']))"
    base = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **s3_env(endpoint, bucket)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f'"bucket_name": "{bucket}"' in result.stdout and f'"endpoint_url": "{endpoint}"' in result.stdout
    assert '"location": "files"' in result.stdout

    bad = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", "STORAGE_URL": f"s3://{bucket}?endpoint=x"},
    )
    assert bad.returncode != 0 and "STORAGE_URL has unknown parameters: endpoint" in bad.stderr
