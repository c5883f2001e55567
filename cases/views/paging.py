"""Pages of long lists without counting them.

Django's Paginator counts the whole list to number its pages: at 100,000 open cases (or a register of a
million commitments) that COUNT(*) costs more than the page itself (issue 15 item 5: a list's first page in
≤ 100 ms). A list nobody pages to the end needs only "is there a next page?": read one row more than the
page holds. The pagination partial then shows "第 n 页" without the total.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace


class CountFreePage(Sequence):
    """The slice of Django's Page API the templates use (pagination partial, object_list, number)."""

    def __init__(self, rows: list, number: int, per_page: int):
        self._has_next = len(rows) > per_page
        self.object_list = rows[:per_page]
        self.number = number
        self.paginator = SimpleNamespace(num_pages=None, count=None, per_page=per_page)

    def __len__(self) -> int:
        return len(self.object_list)

    def __getitem__(self, index):
        return self.object_list[index]

    def has_next(self) -> bool:
        return self._has_next

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self._has_next or self.number > 1

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    def start_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + 1 if self.object_list else 0


def count_free_page(request, queryset, per_page: int) -> CountFreePage:
    """The requested page (``?page=n``, anything else is page 1) of ``queryset``: per_page + 1 rows read."""
    try:
        number = max(int(request.GET.get("page", 1)), 1)
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * per_page
    return CountFreePage(list(queryset[start : start + per_page + 1]), number, per_page)
