import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

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


@pytest.mark.django_db
def test_the_command_refuses_bad_arguments_with_exit_status_2(tmp_path, make_tenant):
    csv_file = tmp_path / "shipments.csv"
    csv_file.write_text(CSV)
    with pytest.raises(CommandError) as unknown:
        call_command("import_shipments", "--storefront", "nope", str(csv_file))
    assert unknown.value.returncode == 2
    assert str(unknown.value) == "no storefront with the slug 'nope'"
    make_tenant("Aurora", "whsec_auroraauroraaurora")
    with pytest.raises(CommandError) as missing:
        call_command("import_shipments", "--storefront", "aurora", str(tmp_path / "none.csv"))
    assert missing.value.returncode == 2
    assert "cannot read" in str(missing.value)
    assert not Shipment.unscoped.exists()


@pytest.mark.django_db
def test_the_command_imports_and_reports_bad_lines(tmp_path, make_tenant):
    tenant = make_tenant("Aurora", "whsec_auroraauroraaurora")
    csv_file = tmp_path / "shipments.csv"
    csv_file.write_text(CSV)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command(
            "import_shipments", "--storefront", "aurora", str(csv_file), stdout=out, stderr=err
        )
    assert exited.value.code == 1  # some rows were refused
    assert out.getvalue().strip() == "2 imported, 1 already known, 2 refused"
    assert err.getvalue().splitlines()[0].startswith("line 3: buyer_email")
    assert Shipment.objects.for_storefront(tenant.storefront).count() == 2
