//! Small validation helpers shared by every input of the service layer.

use uuid::Uuid;

use crate::error::{AppError, FieldErrors, Resource};

/// Parses an id from a client. A malformed id is a BAD_USER_INPUT on `field`.
pub fn parse_id(raw: &str, field: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw.trim())
        .map_err(|_| FieldErrors::single(field, raw, &format!("Invalid {field}: expected a UUID")))
}

/// Parses an id where a malformed one should read as "no such record" (legacy cast errors).
pub fn parse_id_or_not_found(raw: &str, resource: Resource) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw.trim()).map_err(|_| AppError::NotFound(resource))
}

/// Length in characters, as JavaScript-era validators counted them for ordinary text.
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Text fields may not carry NUL bytes (Postgres text cannot store them).
pub fn check_no_nul(errors: &mut FieldErrors, field: &str, value: &str) -> bool {
    if value.contains('\0') {
        errors.add(
            field,
            value.replace('\0', "\\u0000"),
            format!("{field} must not contain NUL characters"),
        );
        false
    } else {
        true
    }
}

/// Text used to look rows up (search, tag, username, email): Postgres cannot hold NUL bytes, so
/// such text is refused as bad input instead of failing the query.
pub fn check_lookup_text(field: &str, value: &str) -> Result<(), AppError> {
    if value.contains('\0') {
        Err(FieldErrors::single(
            field,
            value.replace('\0', "\\u0000"),
            &format!("{field} must not contain NUL characters"),
        ))
    } else if char_len(value) > MAX_LOOKUP_CHARS {
        Err(FieldErrors::single(
            field,
            cut_short(value),
            &format!("{field} must be at most {MAX_LOOKUP_CHARS} characters"),
        ))
    } else {
        Ok(())
    }
}

/// A too-long value as an error echoes it: its first 100 characters and `...` (the error must
/// not be as large as the input).
pub fn cut_short(value: &str) -> String {
    let start: String = value.chars().take(100).collect();
    format!("{start}...")
}

/// Longest text a lookup takes (a search, a tag, a username or email to find): longer ones
/// match nothing and cost the database a parse of all of it.
pub const MAX_LOOKUP_CHARS: usize = 256;

/// A LIKE/ILIKE pattern that matches any text containing `text` literally (its `%`, `_` and
/// backslashes match themselves).
pub fn contains_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}
