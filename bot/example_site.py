"""The custom field ids of the example site the bundled payloads in bot/examples/ come from.

The sandbox Jira seeds these ids, and `uzibot plan --example-site` reads the bundled payloads
with them; on a real site the ids are resolved from GET /rest/api/3/field or configured.
"""

from __future__ import annotations

EXAMPLE_FIELD_IDS: dict[str, str] = {
    "Request Type": "customfield_10010",
    "Praktijknaam": "customfield_10050",
    "Abonneenummer": "customfield_10051",
    "HIS/AIS-leverancier": "customfield_10052",
    "Soort wijziging": "customfield_10053",
    "Oude waarde": "customfield_10054",
    "Nieuwe waarde": "customfield_10055",
}


def example_field_id(name: str) -> int:
    """The numeric part of an example field's id, e.g. 10050 for Praktijknaam."""
    return int(EXAMPLE_FIELD_IDS[name].removeprefix("customfield_"))
