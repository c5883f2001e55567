"""Where the keys and certificates that sign notices live (NOTICE_PKI_DIR, outside the repository).

Layout: ``ca/cert.pem`` (the CA every notice's certificate chains to), ``ca/key.pem`` (only with the demo CA),
``orgs/<organisation id>/cert.pem`` and ``key.pem`` (the issuing organisation's signing key and certificate).
``manage.py notice_pki`` makes a demo CA and one certificate per issuing organisation; in production each
organisation's own certificate (issued by a recognised CA under the 电子签名法) is placed there instead, or the key
stays in an HSM (NOTICE_SIGNING_PKCS11_*; README, "Signed notices").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings


class SigningUnavailable(Exception):
    """No key or certificate to sign with: the notice cannot be issued (it is retried, then marked failed)."""


@dataclass(frozen=True)
class OrgCredentials:
    key_path: Path
    cert_path: Path
    ca_path: Path


def pki_dir() -> Path:
    return Path(settings.NOTICE_PKI_DIR)


def ca_cert_path() -> Path:
    return pki_dir() / "ca" / "cert.pem"


def trust_roots() -> list[x509.Certificate]:
    path = ca_cert_path()
    if not path.is_file():
        return []
    return x509.load_pem_x509_certificates(path.read_bytes())


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.chmod(mode)
    tmp.replace(path)  # atomic: two workers making the same file never leave half of one


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def demo_ca_ensure(name: str = "信用事项办理平台演示根证书（仅供测试）") -> Path:
    """Create the demo CA once; returns its certificate's path."""
    cert_path, key_path = ca_cert_path(), pki_dir() / "ca" / "key.pem"
    if cert_path.is_file() and key_path.is_file():
        return cert_path
    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"), x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(key_path, _pem_key(key), 0o600)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert_path


def org_paths(organisation) -> tuple[Path, Path]:
    base = pki_dir() / "orgs" / str(organisation.pk)
    return base / "key.pem", base / "cert.pem"


def org_certificate_issue(organisation) -> OrgCredentials:
    """A signing certificate for ``organisation`` from the demo CA (refused without the demo CA's key)."""
    ca_key_path = pki_dir() / "ca" / "key.pem"
    if not ca_key_path.is_file() or not ca_cert_path().is_file():
        raise SigningUnavailable(f"no certificate for {organisation} and no demo CA key in {pki_dir()}")
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(ca_cert_path().read_bytes())
    key = _key()
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation.name),
            x509.NameAttribute(NameOID.COMMON_NAME, organisation.name),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3 * 365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_path, cert_path = org_paths(organisation)
    _write(key_path, _pem_key(key), 0o600)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return OrgCredentials(key_path, cert_path, ca_cert_path())


def org_credentials(organisation, *, issue_if_missing: bool = True) -> OrgCredentials:
    key_path, cert_path = org_paths(organisation)
    if key_path.is_file() and cert_path.is_file():
        return OrgCredentials(key_path, cert_path, ca_cert_path())
    if issue_if_missing and settings.NOTICE_PKI_DEMO:
        demo_ca_ensure()  # normally made at install time (manage.py notice_pki); a fresh demo makes it here
        return org_certificate_issue(organisation)
    raise SigningUnavailable(f"no signing key and certificate for {organisation} under {pki_dir()}")
