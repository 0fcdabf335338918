"""CRM adapters behind one protocol: the sandbox, Salesforce and HubSpot."""
