"""A local Salesforce org: `api` serves OAuth, SOQL query/queryMore, sObject Collections and describe; `records`
writes query results as the REST API does; `storage` keeps the sObjects in SQLite; `admin` holds the tests'
controls. SOQL is checked and translated by localapi.soql."""

from localapi.salesforce.api import SalesforceAPI

__all__ = ["SalesforceAPI"]
