"""Fixtures for the partner-event tests: a signed client per kind of partner."""

from __future__ import annotations

import pytest

from tests.partners.helpers import PartnerClient, new_partner


@pytest.fixture
def immigration(client, svc) -> PartnerClient:
    return PartnerClient(client, *new_partner(svc, "immigration"))


@pytest.fixture
def destination(client, svc) -> PartnerClient:
    return PartnerClient(client, *new_partner(svc, "destination"))
