"""A local HubSpot CRM API (v3 objects, owners, v4 associations) seeded from a World, kept in memory: `api` serves
it, `specs` and `table` hold the portal's objects, `replies` HubSpot's error bodies, `admin` the tests' controls."""

from localapi.hubspot.api import HubSpotAPI
from localapi.hubspot.specs import contacts_spec

__all__ = ["HubSpotAPI", "contacts_spec"]
