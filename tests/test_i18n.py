"""The English catalog is complete and sound, and pages switch language with it.

Chinese is the source language (every msgid is Simplified Chinese); locale/en/LC_MESSAGES/django.po holds the
English. A string someone wraps in gettext / {% translate %} without adding its English would show Chinese to
an English user, so (b) re-extracts the messages from the code and fails with the list of what is missing.
The .po is read with a few lines of our own rather than a new dependency.
"""

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from tests.factories import CreditRecordFactory

CATALOG = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
# The same folders the maintainers' command leaves out (see locale/README.md).
IGNORE = [".venv/*", "var/*", "bench/*", "tests/*"]

# --- a small .po reader ----------------------------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")\s*$')


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), token.strip()[1:-1])


def read_po(path: Path) -> list[dict]:
    """Entries as dicts: msgid, msgid_plural (or None), msgstr (list: one item, or one per plural form),
    flags (set), refs (source references), obsolete (bool). The header entry (msgid "") is left out."""
    entries = []
    for block in re.split(r"\n[ \t]*\n", path.read_text(encoding="utf-8")):
        fields: dict[str, str] = {}
        flags: set[str] = set()
        refs: list[str] = []
        key = None
        obsolete = False
        for line in block.splitlines():
            if line.startswith("#~"):
                obsolete = True
                line = line[2:].lstrip()
            elif line.startswith("#,"):
                flags.update(f.strip() for f in line[2:].split(","))
                continue
            elif line.startswith("#:"):
                refs.extend(line[2:].split())
                continue
            elif line.startswith("#") or not line.strip():
                continue
            match = _KEYWORD.match(line)
            if match:
                key = match.group(1)
                fields[key] = _unquote(match.group(2))
            elif line.startswith('"') and key:
                fields[key] += _unquote(line)
            else:
                raise AssertionError(f"{path}: cannot read line {line!r}")
        if "msgid" not in fields or fields["msgid"] == "":
            continue
        plural = "msgid_plural" in fields
        msgstr = (
            [fields[k] for k in sorted(k for k in fields if k.startswith("msgstr["))]
            if plural
            else [fields.get("msgstr", "")]
        )
        entries.append(
            {
                "msgid": fields["msgid"],
                "msgid_plural": fields.get("msgid_plural"),
                "msgstr": msgstr,
                "flags": flags,
                "refs": refs,
                "obsolete": obsolete,
            }
        )
    return entries


def _untranslated(entries: list[dict]) -> list[dict]:
    return [e for e in entries if not e["obsolete"] and ("fuzzy" in e["flags"] or not all(e["msgstr"]))]


def _describe(entries: list[dict]) -> str:
    return "\n".join(
        f"  {e['msgid']!r}  ({' '.join(e['refs'][:3]) or 'no reference'}{', fuzzy' if 'fuzzy' in e['flags'] else ''})"
        for e in entries
    )


# Python-format placeholders: %(name)s, %(n)d, %(size).1f, and bare %s / %d.
_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?([diouxXeEfFgGcrs%])")


def placeholders(text: str) -> Counter:
    return Counter(m.group(0) for m in _PLACEHOLDER.finditer(text) if m.group(2) != "%")


# --- (a) the catalog itself ------------------------------------------------------------------------------


def test_the_english_catalog_has_no_untranslated_or_fuzzy_entries():
    entries = read_po(CATALOG)
    assert len(entries) > 500, "the catalog looks truncated"
    missing = _untranslated(entries)
    assert not missing, f"{len(missing)} entries in {CATALOG} lack an English translation:\n{_describe(missing)}"
    assert not any(e["obsolete"] for e in entries), "obsolete (#~) entries: run makemessages to drop them"


def test_the_english_catalog_is_all_english():
    """A msgstr left in Chinese (copied from the msgid) is as bad as an empty one."""
    chinese = [e for e in read_po(CATALOG) if any(re.search(r"[\u4e00-\u9fff]", s) for s in e["msgstr"])]
    # Document numbers quoted as examples stay in Chinese: they are what the user will type.
    chinese = [e for e in chinese if not re.search(r"e\.g\. [^ ]*[\u4e00-\u9fff]", "".join(e["msgstr"]))]
    assert not chinese, f"English entries containing Chinese text:\n{_describe(chinese)}"


# --- (d) placeholders ------------------------------------------------------------------------------------


def test_every_translation_keeps_the_placeholders_of_its_msgid():
    wrong = []
    for e in read_po(CATALOG):
        if e["msgid_plural"] is None:
            if placeholders(e["msgstr"][0]) != placeholders(e["msgid"]):
                wrong.append(e)
        elif any(placeholders(s) != placeholders(e["msgid_plural"]) for s in e["msgstr"]):
            wrong.append(e)
    assert not wrong, "msgstr placeholders differ from the msgid's:\n" + "\n".join(
        f"  {e['msgid']!r} -> {e['msgstr']!r}" for e in wrong
    )


def test_the_placeholder_check_notices_a_dropped_or_renamed_name():
    assert placeholders("剩余%(n)s个%(unit)s") == placeholders("%(n)s %(unit)s left")
    assert placeholders("剩余%(n)s个%(unit)s") != placeholders("%(n)s left")
    assert placeholders("大小为%(size).1fMB") != placeholders("is %(size)sMB")


def test_msgfmt_accepts_the_catalog(tmp_path):
    """gettext's own checks: format strings, plural forms, header."""
    result = subprocess.run(
        ["msgfmt", "--check", "-o", str(tmp_path / "django.mo"), str(CATALOG)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


# --- (b) the catalog covers the code ---------------------------------------------------------------------


def test_every_translatable_string_in_the_code_has_an_english_translation(tmp_path, monkeypatch):
    """makemessages into a copy of locale/: whatever comes out untranslated (new) or fuzzy (changed) is a
    string added to the code without its English."""
    base = Path(settings.BASE_DIR)
    locale_copy = tmp_path / "locale"
    shutil.copytree(base / "locale", locale_copy, ignore=shutil.ignore_patterns("*.mo"))
    # makemessages walks the current directory and writes into any locale/ folder it finds above a source
    # file, whatever LOCALE_PATHS says; so it walks a tree of links to the sources, without the real locale/.
    tree = tmp_path / "project"
    tree.mkdir()
    for child in base.iterdir():
        if child.name != "locale" and not child.name.startswith("."):
            (tree / child.name).symlink_to(child)
    monkeypatch.chdir(tree)
    with override_settings(LOCALE_PATHS=[locale_copy]):
        call_command("makemessages", locale=["en"], ignore_patterns=IGNORE, no_wrap=True, symlinks=True, verbosity=0)
    extracted = read_po(locale_copy / "en" / "LC_MESSAGES" / "django.po")
    assert extracted, "makemessages found nothing: was it run from the project root?"
    missing = _untranslated(extracted)
    assert not missing, (
        f"{len(missing)} translatable strings have no English in locale/en/LC_MESSAGES/django.po "
        f"(run the makemessages command in locale/README.md and translate them):\n{_describe(missing)}"
    )
    stray = sorted(str(p) for p in Path(settings.BASE_DIR).glob("*/locale") if p.parent.name != ".venv")
    assert not stray, f"app-level locale folders split the catalog; keep everything in locale/: {stray}"


# --- (c) pages in English and in Chinese -----------------------------------------------------------------


@pytest.fixture
def english_catalog(tmp_path):
    """The current .po compiled into a temporary locale folder, so the pages are checked against the
    catalog as it is now, whether or not `make` has compiled locale/ since the last edit."""
    target = tmp_path / "locale" / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    subprocess.run(["msgfmt", "-o", str(target / "django.mo"), str(CATALOG)], check=True)
    with override_settings(LOCALE_PATHS=[tmp_path / "locale"]):  # also resets Django's translation cache
        yield


def _html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def _chinese_left(html: str, *data: str) -> list[str]:
    """Chinese text left on a page once the data shown on it (names, titles) and the language switch are
    taken out: what remains is interface that was not translated."""
    for value in (*data, "中文"):
        if value:
            html = html.replace(str(value), "")
    return re.findall(r"[^<>\"]{0,20}[\u4e00-\u9fff]+[^<>\"]{0,20}", html)


@pytest.mark.django_db
def test_the_login_page_is_chinese_by_default_and_english_after_switching(client, english_catalog):
    html = _html(client.get(reverse("login")))
    assert 'lang="zh-hans"' in html and "登录" in html and "信用事项办理平台" in html

    # The language switch in the page header: Django's set_language view stores the choice in a cookie.
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert response.status_code == 302 and client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    html = _html(client.get(reverse("login")))
    assert 'lang="en"' in html
    assert "Sign in" in html and "Credit Casework" in html and "Public credit information search" in html
    assert not _chinese_left(html)


@pytest.mark.django_db
def test_the_public_record_page_shows_the_record_in_english(client, record, english_catalog):
    subject = record.subject
    url = reverse("public_subject", args=[subject.pk])

    html = _html(client.get(url))
    assert "公示中的信用信息" in html and "行政处罚信息" in html and "决定文书号" in html

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = _html(client.get(url))
    assert "Publicly displayed credit information" in html
    assert "Administrative penalty information" in html  # the record's kind, a model choice label
    assert "Decision document number" in html and "Unified social credit code" in html
    assert record.title in html  # the data itself is not translated
    data = (
        subject.name,
        subject.legal_representative,
        subject.address,
        record.title,
        record.decision_number,
        record.provider,
        record.legal_basis,
        record.content,
    )
    assert not _chinese_left(html, *data)


@pytest.mark.django_db
def test_the_public_search_answers_in_english(client, english_catalog):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = _html(client.get(reverse("public_search"), {"q": "不存在的公司"}))
    assert "No subject matches “不存在的公司”." in html
    assert not _chinese_left(html, "不存在的公司")


@pytest.mark.django_db
def test_messages_from_code_follow_the_active_language(english_catalog, record):
    """gettext in services and validators: a repair eligibility message, with its placeholders filled."""
    from cases.models import CreditRecord
    from cases.services.repair import repair_eligibility

    unrepairable = CreditRecordFactory(subject=record.subject, provider=record.provider, repairable=False)
    unrepairable = CreditRecord.objects.get(pk=unrepairable.pk)
    with translation.override("en"):
        messages = [str(p.message) for p in repair_eligibility(subject=record.subject, record=unrepairable)]
    assert "Under laws and regulations, this information cannot be repaired." in messages
    with translation.override("zh-hans"):
        messages = [str(p.message) for p in repair_eligibility(subject=record.subject, record=unrepairable)]
    assert "依照法律、法规规定，该信息不可修复。" in messages
