"""Sites the Miner's tests share."""

from __future__ import annotations

import pytest

from calltally.directory.models import Extension


@pytest.fixture
def ipo(make_site, spool):
    """A Polish IP Office site (access code 0, four-digit extensions 4001-4005), as the
    fixture avaya_ipo_smdr.txt expects."""
    site = make_site("WAW", driver="avaya_ipo", country="PL", timezone="Europe/Warsaw", currency="PLN",
                     internal_digits_min=4, internal_digits_max=4, access_codes=["0"])
    Extension.objects.bulk_create([Extension(site=site, number=str(n)) for n in range(4001, 4006)])
    return site
