"""What the dashboard's lists share: a page of rows, and the links in their sortable headers."""

from django.core.paginator import Page, Paginator


def page_of(request, rows, per_page: int) -> Page:
    """The page ?page= asks for; the last one past the end, the first one for nonsense."""
    return Paginator(rows, per_page).get_page(request.GET.get("page"))


def sort_links(sortable, current: str, *, ascending_first=()) -> dict[str, dict]:
    """Per sortable column: the ?sort= value its header links to, and how it sorts now.

    ?sort=<key> sorts ascending, ?sort=-<key> descending. The first click on a column sorts it
    descending (newest, largest first) unless the column is in `ascending_first`."""
    columns = {}
    for key in sortable:
        if current == key:
            columns[key] = {"next": f"-{key}", "aria": "ascending"}
        elif current == f"-{key}":
            columns[key] = {"next": key, "aria": "descending"}
        else:
            columns[key] = {"next": key if key in ascending_first else f"-{key}", "aria": ""}
    return columns
