"""Local servers that speak the Salesforce REST and HubSpot CRM v3 APIs, for tests, benchmarks and demos.

They keep their state in memory, reproduce the vendors' documented payloads and error shapes, and can
inject faults (429/5xx, expired sessions, row locks) so the real client libraries are tested over HTTP.
"""
