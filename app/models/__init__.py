"""Every SQL model, imported so Alembic and ``Base.metadata`` see them all."""

from app.models.agency import (
    Agency,
    AgencyApiKey,
    AgencyCheck,
    AgencyComplaint,
    Director,
    Licence,
    LicenceChange,
    RegisterImport,
)
from app.models.console import AuditEntry, StaffApiKey, User
from app.models.contact import Contact, RegistrationDraft, SafeguardingFlag
from app.models.departure import DepartureDeclaration
from app.models.dialogue import SmsDialogue
from app.models.listing import Employer, JobListing
from app.models.message import InboundSms, Message, UssdEvent
from app.models.partner import Movement, Partner, PartnerEvent, Permit, PoliceAlert
from app.models.person import Person
from app.models.placement import Placement, PlacementTransition
from app.models.protection import Case, CaseEvent, CheckIn, Escalation, Officer

__all__ = [
    "DepartureDeclaration",
    "AuditEntry",
    "StaffApiKey",
    "User",
    "Employer",
    "JobListing",
    "Case",
    "CaseEvent",
    "CheckIn",
    "Escalation",
    "Officer",
    "Placement",
    "Movement",
    "Partner",
    "PartnerEvent",
    "Permit",
    "PoliceAlert",
    "PlacementTransition",
    "Agency",
    "AgencyApiKey",
    "AgencyCheck",
    "AgencyComplaint",
    "Director",
    "Licence",
    "LicenceChange",
    "RegisterImport",
    "Contact",
    "InboundSms",
    "Message",
    "Person",
    "SmsDialogue",
    "RegistrationDraft",
    "SafeguardingFlag",
    "UssdEvent",
]
