"""The sandbox CRM's users: the sales team and queues that the example roster (config/roster.yaml) routes to."""

from __future__ import annotations

import pandas as pd

USERS = pd.DataFrame(
    [
        ("005000000000001", "Maya Chen", "senior_ae", "NA"),
        ("005000000000002", "Diego Ramirez", "senior_ae", "NA"),
        ("005000000000003", "Priya Nair", "senior_ae", "EMEA"),
        ("005000000000004", "Lukas Weber", "senior_ae", "EMEA"),
        ("005000000000005", "Hana Sato", "senior_ae", "APAC"),
        ("005000000000006", "Mateo Silva", "senior_ae", "LATAM"),
        ("005000000000007", "Jordan Blake", "ae", "NA"),
        ("005000000000008", "Aisha Okafor", "ae", "NA"),
        ("005000000000009", "Tom Becker", "ae", "NA"),
        ("005000000000010", "Sofia Rossi", "ae", "EMEA"),
        ("005000000000011", "Oliver Smith", "ae", "EMEA"),
        ("005000000000012", "Wei Zhang", "ae", "APAC"),
        ("005000000000013", "Camila Souza", "ae", "LATAM"),
        ("005000000000014", "Rachel Adams", "vp_sales", "NA"),
        ("00G000000000001", "Nurture Sequence", "queue", ""),
        ("00G000000000002", "Support Queue", "queue", ""),
        ("00G000000000003", "Partnerships Queue", "queue", ""),
        ("00G000000000004", "Inbound Triage", "queue", ""),
    ],
    columns=["id", "name", "role", "region"],
)
USERS["email"] = USERS["name"].str.lower().str.replace(" ", ".") + "@sandbox-sales.example"
USERS["active"] = 1
DEFAULT_QUEUE = "00G000000000004"  # where web-to-lead puts new leads before routing
