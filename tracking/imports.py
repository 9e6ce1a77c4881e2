"""Shipments from a CSV file: the good rows are imported, the bad ones named with the reason.

Columns (a header row, in any order): order_reference, buyer_email, tracking_number (required),
buyer_name, language (fr/en), carrier, shipped_at (ISO 8601), promised_delivery_date
(YYYY-MM-DD). Used by `manage.py import_shipments` and the dashboard's upload page."""

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django import forms

from storefront_settings.models import AuditAction, Language, Storefront
from storefront_settings.services import audit
from tracking.carriers import Carrier
from tracking.services import shipments

REQUIRED = ("order_reference", "buyer_email", "tracking_number")


class ShipmentRow(forms.Form):
    order_reference = forms.CharField(max_length=200)
    buyer_email = forms.EmailField(max_length=254)  # the model's (RFC 5321)
    tracking_number = forms.CharField(max_length=64)
    buyer_name = forms.CharField(max_length=200, required=False)
    language = forms.ChoiceField(choices=[("", ""), *Language.choices], required=False)
    carrier = forms.ChoiceField(choices=[("", ""), *Carrier.choices], required=False)
    shipped_at = forms.DateTimeField(required=False)
    promised_delivery_date = forms.DateField(required=False, input_formats=["%Y-%m-%d"])


@dataclass
class ImportReport:
    created: int = 0
    existing: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)


def read_rows(text: str) -> tuple[list[dict], str | None]:
    """The CSV's rows as dicts, or an error about the file as a whole."""
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or ())
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        return [], f"the header row lacks {', '.join(missing)}"
    return list(reader), None


def import_rows(
    storefront: Storefront,
    rows: Iterable[dict],
    *,
    progress: Callable[[], None] = lambda: None,
) -> ImportReport:
    report = ImportReport()
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        form = ShipmentRow({key: (value or "").strip() for key, value in row.items() if key})
        if not form.is_valid():
            reasons = "; ".join(
                f"{name}: {' '.join(messages)}" for name, messages in form.errors.items()
            )
            report.errors.append((line, reasons))
        else:
            try:
                shipments.create_shipment(storefront, shipments.NewShipment(**form.cleaned_data))
                report.created += 1
            except shipments.ShipmentExists:
                report.existing += 1
        progress()
    return report


def import_upload(
    *, storefront: Storefront, actor, rows: list[dict], filename: str = ""
) -> ImportReport:
    """The dashboard's upload: the same import as the command (each good row in its own
    transaction, a refused row never written), then one audit row saying who imported what."""
    report = import_rows(storefront, rows)
    audit.record(
        storefront=storefront,
        actor=actor,
        action=AuditAction.SHIPMENTS_IMPORTED,
        filename=filename[:200],
        created=report.created,
        existing=report.existing,
        refused=len(report.errors),
    )
    return report
