"""A fields file with one custom field of each type, as an anonymised B2C export would need it."""

from __future__ import annotations

from pathlib import Path

FIELDS_YAML = """required: []
custom:
  - {name: occupation, type: category, known_at: arrival, values: [Student, Engineer, Unemployed],
     column: What is your current occupation, salesforce: Occupation__c, hubspot: occupation}
  - {name: time_on_site, type: number, known_at: arrival, column: Total Time Spent on Website,
     salesforce: Time_On_Site__c}
  - {name: repeat_visitor, type: boolean, known_at: arrival, column: Repeat Visitor}
  - {name: lead_quality, type: category, known_at: later, column: Lead Quality, hubspot: lead_quality}
  - {name: last_activity, type: date, known_at: later, column: Last Activity}
"""


def write_fields(tmp_path: Path, text: str = FIELDS_YAML) -> Path:
    """text saved as tmp_path/fields.yaml; its path."""
    path = tmp_path / "fields.yaml"
    path.write_text(text)
    return path
