//! Checks for data that comes from outside: lengths, ranges, formats.
//!
//! Every public call that takes outside data runs it through these before
//! touching a document, so a rejected call writes nothing.

use chrono::{Datelike, NaiveDate};

use crate::error::{InvalidInput, Problem};

/// Most characters in a name, title, role or other one-line field.
pub const MAX_SHORT_TEXT: usize = 200;
/// Most characters in a description, safety-plan item, decision or reason.
pub const MAX_TEXT: usize = 2_000;
/// Most characters in free text that grows (meeting notes, "my voice", journal notes).
pub const MAX_LONG_TEXT: usize = 100_000;
/// Most entries in a list field (attendees, phones, regions …).
pub const MAX_LIST: usize = 100;
/// Earliest calendar date accepted.
pub const MIN_YEAR: i32 = 1900;
/// Latest calendar date accepted.
pub const MAX_YEAR: i32 = 2200;

type Result<T = ()> = std::result::Result<T, InvalidInput>;

fn check_chars(field: &'static str, value: &str, max: usize, multiline: bool) -> Result {
    if value.chars().count() > max {
        return Err(InvalidInput::new(field, Problem::TooLong { max }));
    }
    let bad = |c: char| c.is_control() && !(multiline && (c == '\n' || c == '\t' || c == '\r'));
    if value.chars().any(bad) {
        return Err(InvalidInput::new(field, Problem::ControlCharacters));
    }
    Ok(())
}

/// A required one-line field: not blank, at most `max` characters.
pub(crate) fn required(field: &'static str, value: &str, max: usize) -> Result {
    if value.trim().is_empty() {
        return Err(InvalidInput::new(field, Problem::Empty));
    }
    check_chars(field, value, max, false)
}

/// An optional one-line field (may be empty).
pub(crate) fn optional(field: &'static str, value: &str, max: usize) -> Result {
    check_chars(field, value, max, false)
}

/// Required text that may hold line breaks.
pub(crate) fn required_multiline(field: &'static str, value: &str, max: usize) -> Result {
    if value.trim().is_empty() {
        return Err(InvalidInput::new(field, Problem::Empty));
    }
    check_chars(field, value, max, true)
}

/// Free text that may be empty and may hold line breaks.
pub(crate) fn free_text(field: &'static str, value: &str, max: usize) -> Result {
    check_chars(field, value, max, true)
}

/// A whole number within `min..=max`.
pub(crate) fn range(field: &'static str, value: i64, min: i64, max: i64) -> Result {
    if value < min || value > max {
        return Err(InvalidInput::new(field, Problem::OutOfRange { min, max }));
    }
    Ok(())
}

/// A calendar date between 1900 and 2200.
pub(crate) fn date(field: &'static str, value: NaiveDate) -> Result {
    if !(MIN_YEAR..=MAX_YEAR).contains(&value.year()) {
        return Err(InvalidInput::new(
            field,
            Problem::OutOfRange {
                min: MIN_YEAR.into(),
                max: MAX_YEAR.into(),
            },
        ));
    }
    Ok(())
}

/// An optional calendar date.
pub(crate) fn opt_date(field: &'static str, value: Option<NaiveDate>) -> Result {
    value.map_or(Ok(()), |d| date(field, d))
}

/// `end` is not before `start`.
pub(crate) fn ordered_dates(
    field: &'static str,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
) -> Result {
    if let (Some(start), Some(end)) = (start, end)
        && end < start
    {
        return Err(InvalidInput::new(
            field,
            Problem::Inconsistent {
                rule: "the end must not be before the start",
            },
        ));
    }
    Ok(())
}

/// A list of one-line entries.
pub(crate) fn list(field: &'static str, values: &[String], max_len: usize) -> Result {
    if values.len() > MAX_LIST {
        return Err(InvalidInput::new(field, Problem::TooMany { max: MAX_LIST }));
    }
    values.iter().try_for_each(|v| required(field, v, max_len))
}

/// A phone or text number: digits with optional spaces, hyphens, brackets
/// and one leading `+`; 3 to 20 digits (short codes like 111 are numbers too).
pub(crate) fn phone(field: &'static str, value: &str) -> Result {
    let format = || {
        InvalidInput::new(
            field,
            Problem::Format {
                expected: "a phone number",
            },
        )
    };
    if value.chars().count() > 32 {
        return Err(format());
    }
    let body = value.strip_prefix('+').unwrap_or(value);
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')'))
    {
        return Err(format());
    }
    let digits = body.chars().filter(char::is_ascii_digit).count();
    if !(3..=20).contains(&digits) {
        return Err(format());
    }
    Ok(())
}

/// A list of phone numbers.
pub(crate) fn phones(field: &'static str, values: &[String]) -> Result {
    if values.len() > MAX_LIST {
        return Err(InvalidInput::new(field, Problem::TooMany { max: MAX_LIST }));
    }
    values.iter().try_for_each(|v| phone(field, v))
}

/// An e-mail address: one `@` with text on both sides, a dot in the domain.
pub(crate) fn email(field: &'static str, value: &str) -> Result {
    let format = || {
        InvalidInput::new(
            field,
            Problem::Format {
                expected: "an e-mail address",
            },
        )
    };
    optional(field, value, MAX_SHORT_TEXT)?;
    let (local, domain) = value.split_once('@').ok_or_else(format)?;
    if local.is_empty() || !domain.contains('.') || domain.contains('@') || value.contains(' ') {
        return Err(format());
    }
    Ok(())
}

/// An `https://` or `http://` address.
pub(crate) fn url(field: &'static str, value: &str) -> Result {
    optional(field, value, MAX_TEXT)?;
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !value.contains(char::is_whitespace) => Ok(()),
        _ => Err(InvalidInput::new(
            field,
            Problem::Format {
                expected: "an http(s) address",
            },
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        assert!(required("name", "Sam", 10).is_ok());
        assert_eq!(
            required("name", "  ", 10).unwrap_err().problem,
            Problem::Empty
        );
        assert_eq!(
            required("name", "abcdefghijk", 10).unwrap_err().problem,
            Problem::TooLong { max: 10 }
        );
        assert_eq!(
            required("name", "a\u{0}b", 10).unwrap_err().problem,
            Problem::ControlCharacters
        );
        assert!(required("name", "a\nb", 10).is_err());
        assert!(free_text("notes", "a\nb\tc", 10).is_ok());
        assert!(free_text("notes", "", 10).is_ok());
        // Characters, not bytes, count.
        assert!(required("name", "ééééé", 5).is_ok());
    }

    #[test]
    fn number_and_date_rules() {
        assert!(range("score", 10, 0, 10).is_ok());
        assert!(range("score", 11, 0, 10).is_err());
        assert!(range("score", -1, 0, 10).is_err());
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert!(date("date", d(2026, 11, 26)).is_ok());
        assert!(date("date", d(1899, 12, 31)).is_err());
        assert!(ordered_dates("period", Some(d(2026, 1, 2)), Some(d(2026, 1, 1))).is_err());
        assert!(ordered_dates("period", Some(d(2026, 1, 1)), None).is_ok());
    }

    #[test]
    fn contact_formats() {
        for ok in [
            "07700 900123",
            "+44 7700 900123",
            "0808 157 0123",
            "111",
            "(01632) 960-001",
        ] {
            assert!(phone("phone", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "call me",
            "12",
            "0770090012345678901234",
            "+",
            "07700 900123 ext",
        ] {
            assert!(phone("phone", bad).is_err(), "{bad}");
        }
        assert!(email("email", "team@example.org").is_ok());
        assert!(email("email", "team.example.org").is_err());
        assert!(email("email", "@example.org").is_err());
        assert!(url("url", "https://example.org/help").is_ok());
        assert!(url("url", "javascript:alert(1)").is_err());
        assert!(url("url", "https://").is_err());
    }
}
