"""Salesforce: client.py (login, SOQL, paging, retries), mapping.py (pure: records ⇄ the canonical frame)."""
