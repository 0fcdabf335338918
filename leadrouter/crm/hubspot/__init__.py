"""HubSpot: client.py (auth, HTTP, retries), search.py (fresh searches from a cursor), mapping.py (pure:
payloads ⇄ the canonical frame)."""
