# ruff: noqa: F811  (pytest fixtures imported from tests.test_notices)
"""Signed notices (issue 14 items 5 and 6): PAdES-B-B by the issuing organisation, checked with poppler's pdfsig
against the demo CA; a drawn seal and a QR code; signing failures never issue; the public verification page
reads any bracket form and tells whether an uploaded file is the original."""

import hashlib
import subprocess
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from notices import pki, rendering
from notices.models import Notice
from notices.services import notice_render
from tests.test_notices import issued, pdf_text, request_notice, storage  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def nss_trusting_demo_ca(tmp_path, _notice_pki):
    """An NSS database (what pdfsig checks certificates with) that trusts the demo CA and nothing else."""
    db = tmp_path / "nssdb"
    db.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(
        ["certutil", "-A", "-d", f"sql:{db}", "-n", "casework-demo-ca", "-t", "CT,C,C", "-i", str(pki.ca_cert_path())],
        check=True,
        capture_output=True,
    )
    return db


def pdfsig(path, nssdir) -> str:
    return subprocess.run(
        ["pdfsig", "-nssdir", f"sql:{nssdir}", str(path)], capture_output=True, text=True, check=False
    ).stdout


def test_an_issued_notice_is_signed_by_its_issuer_and_chains_to_the_demo_ca(issued, nss_trusting_demo_ca):
    notice = issued()
    report = pdfsig(notice.pdf.path, nss_trusting_demo_ca)
    assert "Signature is Valid." in report
    assert "Certificate is Trusted." in report
    assert "Signer Certificate Common Name: 郑州市市场监督管理局" in report
    assert "ETSI.CAdES.detached" in report  # PAdES
    assert "Total document signed" in report
    # The hash on record is the signed file's.
    with notice.pdf.open("rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == notice.sha256


def test_a_file_changed_after_signing_fails_pdfsig(issued, nss_trusting_demo_ca, tmp_path):
    notice = issued()
    data = bytearray(open(notice.pdf.path, "rb").read())
    # Change one byte inside the signed range (the document's first object), keeping the length.
    at = data.index(b"obj") + 10
    data[at] = ord("A") if data[at] != ord("A") else ord("B")
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(bytes(data))
    assert "Signature is Valid." not in pdfsig(changed, nss_trusting_demo_ca)


def test_the_seal_is_drawn_and_the_qr_code_opens_the_filled_in_verification_page(issued, client):
    notice = issued()
    html = rendering.html_for(notice)
    assert "（印章）" not in html and 'class="seal-svg"' in html and "#d40000" in html
    for ch in "郑州市市场监督管理局":
        assert f">{ch}</text>" in html  # the name around the ring
    link = rendering.verification_link(notice)
    assert "number=" in link and "code=" in link
    # The QR code encodes exactly that link (segno's own rendering of it is embedded, one pixel a module, drawn
    # without interpolation).
    from notices.seal import qr_img

    assert qr_img(link) in html and 'src="data:image/png;base64,' in qr_img(link)
    response = client.get(link.split("://", 1)[-1].split("/", 1)[-1].join(["/", ""]))
    assert response.status_code == 200 and notice.sha256 in response.content.decode()
    assert "（印章）" not in pdf_text(notice.pdf.path)
    # In the PDF: one square image, one pixel a module, not interpolated (sharp modules on paper).
    images = subprocess.run(["pdfimages", "-list", notice.pdf.path], capture_output=True, text=True, check=True)
    rows = [line.split() for line in images.stdout.splitlines()[2:] if line.strip()]
    assert len(rows) == 1 and rows[0][3] == rows[0][4] and rows[0][9] == "no", images.stdout


def test_a_renewed_certificate_signs_the_next_notice(issued, nss_trusting_demo_ca):
    """The signer is kept between notices (notices/signing.py) but follows its files: after the organisation's
    key and certificate are replaced, the next notice is signed with the new ones."""
    from cryptography import x509
    from pyhanko.pdf_utils.reader import PdfFileReader

    def signer_serial(notice) -> int:
        with notice.pdf.open("rb") as fh:
            return PdfFileReader(BytesIO(fh.read())).embedded_signatures[0].signer_cert.serial_number

    first = issued()
    _key_path, cert_path = pki.org_paths(first.issuer)
    assert signer_serial(first) == x509.load_pem_x509_certificate(cert_path.read_bytes()).serial_number
    pki.org_certificate_issue(first.issuer)  # renewal: a new key pair and certificate in place of the old
    renewed = x509.load_pem_x509_certificate(cert_path.read_bytes()).serial_number
    second = issued(trigger="after-renewal")
    assert signer_serial(second) == renewed != signer_serial(first)
    assert "Signature is Valid." in pdfsig(second.pdf.path, nss_trusting_demo_ca)


def test_a_failure_to_sign_is_a_failure_to_issue(request_notice, settings, tmp_path):
    settings.NOTICE_PKI_DIR = tmp_path / "empty"
    settings.NOTICE_PKI_DEMO = False  # production: no demo CA to fall back on
    settings.NOTICE_MAX_ATTEMPTS = 2
    notice = request_notice()
    for _attempt in range(2):
        with pytest.raises(pki.SigningUnavailable):
            notice_render(notice_id=notice.pk)
        Notice.objects.filter(pk=notice.pk).update(claimed_at=None)
    notice.refresh_from_db()
    # Numbered (the number is what is signed), but never issued: no file, no hash; staff are alerted.
    assert notice.status == Notice.Status.FAILED and not notice.sha256 and not notice.pdf and not notice.is_issued
    assert "SigningUnavailable" in notice.last_error
    from cases.models import AuditEvent

    assert AuditEvent.objects.filter(action="notice.failed", object_id=str(notice.pk)).count() == 1


@pytest.mark.parametrize(
    "typed",
    [
        lambda n: n,
        lambda n: n.replace("〔", "[").replace("〕", "]"),
        lambda n: n.replace("〔", "［").replace("〕", "］"),
        lambda n: n.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        lambda n: " " + n.replace("〔", "[").replace("〕", "]").translate(str.maketrans("0123", "０１２３")) + " ",
    ],
)
def test_the_verification_page_reads_any_bracket_and_digit_form(client, issued, typed):
    notice = issued()
    response = client.get(reverse("notices:verify"), {"number": typed(notice.number), "code": notice.verification_code})
    assert response.status_code == 200 and notice.sha256 in response.content.decode()


def upload(client, notice, data: bytes):
    return client.post(
        reverse("notices:verify"),
        {
            "number": notice.number,
            "code": notice.verification_code,
            "file": SimpleUploadedFile("notice.pdf", data, content_type="application/pdf"),
        },
    )


def test_an_uploaded_original_is_confirmed_and_a_changed_copy_is_not(client, issued):
    notice = issued()
    original = open(notice.pdf.path, "rb").read()
    body = upload(client, notice, original).content.decode()
    assert "您上传的文件是本平台签发的原件" in body and "郑州市市场监督管理局" in body
    # An incremental update appended after signing (the classic way to alter a signed PDF).
    from pypdf import PdfWriter

    writer = PdfWriter(BytesIO(original), incremental=True)
    writer.add_metadata({"/Title": "改过的文书"})
    out = BytesIO()
    writer.write(out)
    body = upload(client, notice, out.getvalue()).content.decode()
    assert "您上传的文件不是原件" in body
    # Another notice's genuine file under this number and code is not this notice.
    other = issued(trigger="another")
    body = upload(client, notice, open(other.pdf.path, "rb").read()).content.decode()
    assert "不是该编号的原件" in body
    # Not a PDF at all.
    assert "您上传的文件不是原件" in upload(client, notice, b"hello").content.decode()


def test_verification_is_rate_limited(client, issued, settings):
    from django.core.cache import cache

    cache.clear()
    settings.NOTICE_VERIFY_PER_MINUTE = 3
    notice = issued()
    codes = [
        client.get(reverse("notices:verify"), {"number": notice.number, "code": notice.verification_code}).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    cache.clear()


def test_the_public_api_verifies_a_file_without_a_key(client, issued):
    notice = issued()
    response = client.post(
        reverse("api_notice_verification"),
        {
            "number": notice.number.replace("〔", "[").replace("〕", "]"),
            "code": notice.verification_code,
            "file": SimpleUploadedFile("n.pdf", open(notice.pdf.path, "rb").read(), content_type="application/pdf"),
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["valid"] and body["file_matches"] and body["signature"]["intact"] and body["signature"]["trusted"]
    assert body["signature"]["signer"] == "郑州市市场监督管理局"
    assert "addressee" not in str(body) and notice.addressee_subject.name not in str(body)


def test_every_notice_the_demo_issues_passes_pdfsig_and_the_verification_upload(
    client, storage, nss_trusting_demo_ca, settings
):
    """Issue 14's "done when": the demo's notices, rendered as the worker renders them, are each signed by
    their issuer, chain to the demo CA, and are recognised as originals when uploaded to /notices/verify/."""
    from django.core.cache import cache
    from django.core.management import call_command

    call_command("load_demo", verbosity=0)
    settings.NOTICE_VERIFY_PER_MINUTE = 10_000
    cache.clear()
    for pending in Notice.objects.exclude(status=Notice.Status.ISSUED):
        notice_render(notice_id=pending.pk)  # what the worker does after the demo's commits
    notices = list(Notice.objects.all())
    assert len(notices) >= 5 and all(n.status == Notice.Status.ISSUED for n in notices)
    for notice in notices:
        report = pdfsig(notice.pdf.path, nss_trusting_demo_ca)
        assert "Signature is Valid." in report and "Certificate is Trusted." in report, notice.number
        body = upload(client, notice, open(notice.pdf.path, "rb").read()).content.decode()
        assert "您上传的文件是本平台签发的原件" in body, notice.number
    cache.clear()
