"""Tables that departments upload (commitments to register in bulk, decisions to disclose): reading the file
as text before its rows are checked by the service that imports them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# What a department's spreadsheet program writes when it saves a CSV: UTF-8 (with or without the BOM that
# Excel puts first) or, on a Chinese-language Windows, GB18030 (a superset of GBK and GB2312).
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


def decode_csv(data: bytes) -> str:
    """The text of an uploaded CSV file, in the first of CSV_ENCODINGS that decodes it whole."""
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(_("CSV文件编码无法识别，请使用UTF-8。"), code="bad_encoding")
