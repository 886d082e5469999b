//! What both catalogs share about accounts and tokens: the default account's name, how names
//! are kept unique, and how often a token's last use is written.

use chrono::TimeDelta;

use crate::Error;

/// Name of the account that owns anonymous uploads, as on Panoramax instances.
pub(crate) const DEFAULT_ACCOUNT_NAME: &str = "Default account";

/// How stale a token's `last_used_at` may get before a use writes it again.
pub(crate) const TOUCH_EVERY: TimeDelta = TimeDelta::minutes(5);

/// The name to try at the `attempt`-th try of giving an account `wanted`: itself first, then
/// `wanted_2`, `wanted_3`…
pub(crate) fn free_name(wanted: &str, attempt: u32) -> String {
    if attempt == 0 {
        wanted.to_owned()
    } else {
        format!("{wanted}_{}", attempt + 1)
    }
}

/// A driver error of an account insert: a refusal naming the name when it is taken.
pub(crate) fn name_taken(err: sqlx::Error, name: &str, operation: &'static str) -> Error {
    let is_unique = err
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation());
    if is_unique {
        Error::Refused(format!(
            "an account named '{name}' already exists: choose another name"
        ))
    } else {
        Error::db(operation)(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_numbered_after_the_first_try() {
        assert_eq!(free_name("ana", 0), "ana");
        assert_eq!(free_name("ana", 1), "ana_2");
        assert_eq!(free_name("ana", 2), "ana_3");
    }
}
