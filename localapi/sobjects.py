"""Describe schemas of the sObjects the local Salesforce serves: field names, SOAP types, filterable/sortable,
and the objects a reference field points to.

Source: Salesforce's Object Reference (developer.salesforce.com/docs/atlas.en-us.object_reference, the pages
Lead, Contact, Account, Opportunity, User, Group, Task and "Standard Field History Objects" for LeadHistory),
cut to the fields this server stores. Long text areas (Lead.Description) and anyType fields
(LeadHistory.OldValue/NewValue) are neither filterable nor sortable there, and so here.
"""

from __future__ import annotations

from dataclasses import dataclass

TEXT_TYPES = frozenset({"string", "email", "phone", "url", "picklist", "combobox", "textarea"})
ID_TYPES = frozenset({"id", "reference"})
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})
UNFILTERABLE_TYPES = frozenset({"textarea", "anyType"})  # long text and anyType: never in WHERE or ORDER BY
# a record id's first three characters name its object (the "key prefix" of describeGlobal)
KEY_PREFIXES = {
    "001": "Account", "003": "Contact", "005": "User", "006": "Opportunity", "00G": "Group", "00Q": "Lead",
    "00T": "Task", "017": "LeadHistory",
}  # fmt: skip


@dataclass(frozen=True)
class SField:
    """One field of a describe: its name, SOAP type, and for a reference the relationship and its targets."""

    name: str
    type: str
    references: tuple[str, ...] = ()
    relationship: str | None = None

    @property
    def filterable(self) -> bool:
        return self.type not in UNFILTERABLE_TYPES

    @property
    def sortable(self) -> bool:
        return self.type not in UNFILTERABLE_TYPES


def fields(spec: str) -> dict[str, SField]:
    """Fields from "Name:type" words; a reference is "OwnerId:reference>Owner>User|Group"."""
    out = {}
    for word in spec.split():
        name, _, rest = word.partition(":")
        kind, _, target = rest.partition(">")
        relationship, _, refs = target.partition(">")
        out[name] = SField(name, kind, tuple(refs.split("|")) if refs else (), relationship or None)
    return out


OBJECTS: dict[str, dict[str, SField]] = {
    "Lead": fields(
        "Id:id FirstName:string LastName:string Email:email Phone:phone Title:string Company:string "
        "Website:url Country:string State:string City:string Industry:picklist NumberOfEmployees:int "
        "AnnualRevenue:currency LeadSource:picklist Description:textarea Status:picklist "
        "OwnerId:reference>Owner>User|Group ConvertedOpportunityId:reference>ConvertedOpportunity>Opportunity "
        "IsConverted:boolean LastActivityDate:date CreatedDate:datetime LastModifiedDate:datetime "
        "SystemModstamp:datetime IsDeleted:boolean"
    ),
    "Contact": fields(
        "Id:id AccountId:reference>Account>Account FirstName:string LastName:string Email:email Title:string "
        "OwnerId:reference>Owner>User IsDeleted:boolean"
    ),
    "Account": fields(
        "Id:id Name:string Website:url Industry:picklist NumberOfEmployees:int AnnualRevenue:currency "
        "BillingCountry:string OwnerId:reference>Owner>User LastActivityDate:date IsDeleted:boolean"
    ),
    "User": fields("Id:id Name:string Email:email IsActive:boolean"),
    "Group": fields("Id:id Name:string Type:picklist"),
    "Task": fields(
        "Id:id WhoId:reference>Who>Contact|Lead OwnerId:reference>Owner>User|Group Subject:combobox "
        "CreatedDate:datetime IsDeleted:boolean"
    ),
    "LeadHistory": fields(
        "Id:id LeadId:reference>Lead>Lead Field:picklist OldValue:anyType NewValue:anyType "
        "CreatedById:reference>CreatedBy>User CreatedDate:datetime IsDeleted:boolean"
    ),
    "Opportunity": fields(
        "Id:id Name:string StageName:picklist Amount:currency CloseDate:date IsClosed:boolean IsWon:boolean "
        "CreatedDate:datetime IsDeleted:boolean"
    ),
}


def with_custom(objects: dict[str, dict[str, SField]], lead: dict[str, str]) -> dict[str, dict[str, SField]]:
    """The schemas plus the org's custom Lead fields (name -> SOAP type)."""
    extra = {name: SField(name, kind) for name, kind in lead.items()}
    return {**objects, "Lead": {**objects["Lead"], **extra}}


def sobject_of(record_id: str | None) -> str | None:
    """The object a record id belongs to, by its key prefix."""
    return KEY_PREFIXES.get(record_id[:3]) if record_id else None
