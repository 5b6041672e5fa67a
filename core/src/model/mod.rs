//! The domain model: plain Rust types for what the documents hold.
//!
//! These types carry no storage or FFI concerns. Read models (`CarePlan`,
//! `Goal`, `Resource` …) are what the store returns; `…Details` types are what
//! a caller passes to create an item or to update it (the store writes only
//! the fields that changed, so concurrent edits of different fields merge).
//! Coded values follow HL7 FHIR R4 where FHIR has a value set.

mod care_plan;
mod directory;
mod journal;
mod query;
pub(crate) mod rules;
mod safety_plan;

pub use care_plan::*;
pub use directory::*;
pub use journal::*;
pub use query::*;
pub use safety_plan::*;

/// A coded value stored in documents as its code.
pub(crate) trait Code: Sized + Copy + PartialEq + 'static {
    /// Every value, in declaration order.
    const ALL: &'static [Self];
    fn code(self) -> &'static str;
    fn from_code(code: &str) -> Option<Self>;
}

/// Declares an enum of coded values with its codes.
macro_rules! coded_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $code)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value's code, as stored and as FHIR spells it.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// The value with this code.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl $crate::model::Code for $name {
            const ALL: &'static [Self] = $name::ALL;
            fn code(self) -> &'static str { $name::code(self) }
            fn from_code(code: &str) -> Option<Self> { $name::from_code(code) }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
pub(crate) use coded_enum;

coded_enum! {
    /// THRIVE needs-based groupings, used for plans and resources.
    pub enum Thrive {
        /// Doing well; prevention and promotion.
        Thriving = "thriving",
        /// Mild or temporary difficulties; signposting and self-management.
        GettingAdvice = "getting-advice",
        /// Focused, goal-based help with an end.
        GettingHelp = "getting-help",
        /// Extensive, specialised goal-based help.
        GettingMoreHelp = "getting-more-help",
        /// At risk, not benefiting from or ready for treatment; safety planning.
        GettingRiskSupport = "getting-risk-support",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        fn check<E: Code + PartialEq + std::fmt::Debug>(all: &[E]) {
            for value in all {
                assert_eq!(E::from_code(value.code()), Some(*value));
            }
            assert_eq!(E::from_code("no-such-code"), None);
        }
        check(Thrive::ALL);
        check(PlanStatus::ALL);
        check(GoalLifecycle::ALL);
        check(GoalAchievement::ALL);
        check(ActivityStatus::ALL);
        check(TeamRole::ALL);
        check(SignpostFeedback::ALL);
        check(SafetyList::ALL);
        check(ResourceKind::ALL);
        check(ResourceStatus::ALL);
        check(Audience::ALL);
        check(Cost::ALL);
    }
}
