"""Salesforce: session.py (login, which failures are retried), client.py (SOQL, paging, writes, retries),
mapping.py (pure: records ⇄ the canonical frame)."""
