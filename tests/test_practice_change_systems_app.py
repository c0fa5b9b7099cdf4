"""Every practice-change reply names the practice's system and says what it means for it.

Through the real app and the fake Jira, for each kind of change and three systems (Promedico
ASP uploads itself, CGM Huisarts sends the certificate, Bricks has no alternative login).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from tests.fakejira import FakeJira
from tests.harness import load_fixture, make_harness

FIXTURE = {
    "abonneenummer": "practice_change-abonneenummer-promedico",
    "practice_name": "practice_change-practice_name-promedico",
    "contract_holder": "practice_change-contract_holder-omnihis",
    "card_holder": "practice_change-card_holder-cgm-huisarts",
}
OPTION = {"Promedico ASP": "10100", "CGM Huisarts": "10101", "Bricks": "10107"}
CERTIFICATE = {
    "Promedico ASP": "*Opslaan en afronden*",
    "CGM Huisarts": "stuurt het",
    "Bricks": "met u af",
}


@pytest.mark.parametrize("system", list(OPTION))
@pytest.mark.parametrize("kind", list(FIXTURE))
def test_reply_names_the_system_and_what_it_means(
    fake_jira: FakeJira, tmp_path: Path, kind: str, system: str
) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = copy.deepcopy(load_fixture(FIXTURE[kind]))
    payload["issue"]["fields"]["customfield_10052"] = {"value": system, "id": OPTION[system]}
    h.seed(payload)
    assert h.post(payload, delivery_id=f"{kind}-{system}").status_code == 202
    assert h.drain() == 1
    [reply] = fake_jira.comments(payload["issue"]["key"], public=True)
    text = str(reply.body)
    assert f"Uw praktijk werkt met {system}." in text
    # 1. Can patients still log in?
    if system == "Bricks":
        assert "Met Bricks is er helaas geen andere manier om in te loggen" in text
        assert "Uw patiënten kunnen in die periode dus niet inloggen op het portaal" in text
        assert "gebruikersnaam en wachtwoord" not in text
    else:
        assert "Met hun eigen gebruikersnaam en wachtwoord lukt inloggen wel gewoon" in text
        assert "Bricks" not in text
    # 2. How new patients are linked meanwhile.
    if system == "Bricks":
        assert "nieuwe patiënten koppelen kan pas weer zodra de koppeling aan staat" in text
    else:
        assert f"oude koppelmethode via {system}" in text
        assert "*Help* en daarna *Handleiding*" in text
    # 3. A new certificate may be needed: how it reaches the desk for this system.
    certificate = re.search(r"nieuw(e)? (UZI-server)?certificaat", text) is not None
    assert certificate == (kind in ("abonneenummer", "practice_name"))
    if certificate:
        assert CERTIFICATE[system] in text and f"samen met {system}" in text
    assert "Welk HIS of AIS gebruikt u?" not in text
