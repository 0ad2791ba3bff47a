"""The CDNOW sample (2,357 customers who first bought in the first quarter of 1997, their
6,919 purchases to mid-1998): the data set of the published BG/NBD and Gamma-Gamma fits.
It ships inside the ``lifetimes`` wheel (the test extra); it is read from the installed
files, never committed here."""

from __future__ import annotations

from datetime import date
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

import pytest

CALIBRATION_END = date(1997, 9, 30)


def sample_path() -> Path:
    try:
        package = distribution("lifetimes")
    except PackageNotFoundError:
        pytest.fail("the test extra's 'lifetimes' is not installed (pip install -e '.[dev]')")
    found = next((f for f in package.files or [] if f.name == "CDNOW_sample.txt"), None)
    assert found is not None, "lifetimes ships no CDNOW_sample.txt"
    return Path(str(package.locate_file(found)))


def transactions() -> list[dict[str, Any]]:
    """One row per purchase: customer id, date, amount (dollars, two decimals)."""
    rows = []
    for line in sample_path().read_text(encoding="ascii").splitlines():
        _, customer, day, _, amount = line.split()
        rows.append({"customer": int(customer),
                     "date": date(int(day[:4]), int(day[4:6]), int(day[6:])),
                     "amount": f"{float(amount):.2f}"})
    return rows
