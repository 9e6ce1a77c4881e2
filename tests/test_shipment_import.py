import io
import subprocess
import sys
from pathlib import Path

import pytest

from tracking.imports import import_rows, read_rows
from tracking.models import Shipment

CSV = """order_reference,buyer_email,tracking_number,buyer_name,carrier,promised_delivery_date
ML-1,one@example.com,6A12345678901,Anne,,2026-12-01
ML-2,not-an-email,6A12345678902,Bob,,2026-12-01
ML-3,three@example.com,1Z999AA10123456784,Chloé,ups,
ML-4,four@example.com,XX,Dan,pigeon,tomorrow
ML-1,one@example.com,6A12345678901,Anne,,2026-12-01
"""


@pytest.mark.django_db
def test_good_rows_are_imported_and_bad_ones_named(make_tenant):
    tenant = make_tenant("Aurora", "whsec_auroraauroraaurora")
    rows, error = read_rows(CSV)
    assert error is None
    report = import_rows(tenant.storefront, rows)
    assert (report.created, report.existing) == (2, 1)
    assert [line for line, _ in report.errors] == [3, 5]
    assert "buyer_email" in report.errors[0][1]
    assert "carrier" in report.errors[1][1] and "promised_delivery_date" in report.errors[1][1]
    numbers = set(
        Shipment.objects.for_storefront(tenant.storefront).values_list("tracking_number", flat=True)
    )
    assert numbers == {"6A12345678901", "1Z999AA10123456784"}


def test_a_file_without_the_required_columns_is_refused():
    rows, error = read_rows("order,email\nML-1,a@example.com\n")
    assert rows == [] and "tracking_number" in error


def test_the_command_refuses_a_missing_file_in_one_line_with_exit_2(tmp_path):
    result = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "manage.py",
            "import_shipments",
            "--storefront",
            "nope",
            str(tmp_path / "missing.csv"),
        ],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert io.StringIO(result.stderr).read().startswith("CommandError: no storefront")
