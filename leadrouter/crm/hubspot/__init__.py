"""HubSpot: client.py (auth, HTTP, retries), search.py (fresh searches from a cursor), history.py (first
touches, rejections, outcomes), mapping.py (pure: payloads ⇄ the canonical frame)."""
