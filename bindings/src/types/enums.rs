//! Mirrors of the core's enums (FHIR codes, roles, kinds), converted both
//! ways with `From`.

use lynchpin_core as lc;

/// Declares an FFI enum with the name and variants of a core enum, and
/// `From` both ways.
macro_rules! mirror_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $($variant:ident),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[allow(missing_docs)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
        pub enum $name {
            $($variant),+
        }

        impl From<lc::$name> for $name {
            fn from(value: lc::$name) -> Self {
                match value {
                    $(lc::$name::$variant => Self::$variant),+
                }
            }
        }

        impl From<$name> for lc::$name {
            fn from(value: $name) -> Self {
                match value {
                    $($name::$variant => lc::$name::$variant),+
                }
            }
        }
    };
}

mirror_enum! {
    /// What a document holds.
    DocumentKind { CarePlan, Journal, ResourceDirectory }
}

mirror_enum! {
    /// What a device may do with a document; each role includes the ones
    /// before it.
    Role { Reader, Writer, Admin, Owner }
}

mirror_enum! {
    /// What an edit survives once its call has returned: `Full` (power
    /// loss) or `ProcessCrash` (faster; the app being killed).
    Durability { Full, ProcessCrash }
}

mirror_enum! {
    /// THRIVE framework grouping.
    Thrive { Thriving, GettingAdvice, GettingHelp, GettingMoreHelp, GettingRiskSupport }
}

mirror_enum! {
    /// FHIR CarePlan status.
    PlanStatus { Draft, Active, OnHold, Revoked, Completed, EnteredInError }
}

mirror_enum! {
    /// FHIR Goal lifecycle status.
    GoalLifecycle {
        Proposed, Planned, Accepted, Active, OnHold, Completed, Cancelled, EnteredInError, Rejected
    }
}

mirror_enum! {
    /// FHIR Goal achievement status.
    GoalAchievement {
        InProgress, Improving, Worsening, NoChange, Achieved, Sustaining, NotAchieved, NoProgress,
        NotAttainable
    }
}

mirror_enum! {
    /// FHIR CarePlan activity status.
    ActivityStatus {
        NotStarted, Scheduled, InProgress, OnHold, Completed, Cancelled, Stopped
    }
}

mirror_enum! {
    /// A care-team member's role.
    TeamRole { YoungPerson, FamilyMember, CareCoordinator, Clinician }
}

mirror_enum! {
    /// The young person's feedback on a signposted resource.
    SignpostFeedback { Suggested, Tried, Helpful, NotForMe }
}

mirror_enum! {
    /// The free-text fields of a meeting that several people type into.
    MeetingText { MyVoice, Notes }
}

mirror_enum! {
    /// The lists of the safety plan.
    SafetyList {
        WarningSigns, CopingStrategies, Distractions, PeopleToAsk, Professionals,
        SafeSurroundings, ReasonsForLiving
    }
}

mirror_enum! {
    /// The fields of a crisis contact.
    ContactField { Name, Phone, TextNumber, Hours, Region, LastChecked }
}

mirror_enum! {
    /// What a resource is.
    ResourceKind {
        Helpline, TextLine, PeerSupportGroup, ParentTraining, SelfCareApp, Website, Leaflet,
        LocalService
    }
}

mirror_enum! {
    /// Whether a resource is running.
    ResourceStatus { Active, Inactive, Defunct, TemporarilyClosed }
}

mirror_enum! {
    /// Who a resource is for.
    Audience { YoungPerson, ParentOrCarer, Both }
}

mirror_enum! {
    /// What a resource costs.
    Cost { Free, FreeWithPaidOptions, Paid }
}

mirror_enum! {
    /// What a device did with a document, in the server's access log.
    AccessAction { Read, Write }
}

mirror_enum! {
    /// What a device shows for one endorsement (the first that applies, in
    /// this order): `NotTrusted`, `Revoked`, `ChangedSinceEndorsement`,
    /// `ReviewOverdue`, `Endorsed`. A resource's overall state is its best
    /// endorsement's, `Endorsed` best.
    EndorsementState { Endorsed, ReviewOverdue, ChangedSinceEndorsement, Revoked, NotTrusted }
}

mirror_enum! {
    /// Why an endorsement is `NotTrusted`.
    NotTrustedReason {
        Malformed,
        BadSignature,
        WrongResource,
        SelfSigned,
        UnknownOrganisation,
        CertificateNotYetValid,
        CertificateExpired,
        IssuedOutsideCertificate,
        IssuedInFuture,
    }
}
