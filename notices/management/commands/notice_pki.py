"""Make the demo CA and a signing certificate for every organisation that issues notices (NOTICE_PKI_DIR).

Safe to run again: existing keys and certificates are kept. For production, put each organisation's own
certificate and key under orgs/<id>/ (or use PKCS#11) and the CA that issued them under ca/cert.pem.
"""

from django.core.management.base import BaseCommand

from cases.models import Organisation
from notices import pki


class Command(BaseCommand):
    help = "Create the demo CA and one signing certificate per organisation under NOTICE_PKI_DIR."

    def handle(self, *args, **options):
        ca = pki.demo_ca_ensure()
        made = 0
        for org in Organisation.objects.filter(is_active=True).order_by("pk"):
            key_path, cert_path = pki.org_paths(org)
            if not (key_path.is_file() and cert_path.is_file()):
                pki.org_certificate_issue(org)
                made += 1
        self.stdout.write(f"demo CA: {ca}; {made} organisation certificate(s) issued under {pki.pki_dir()}")
