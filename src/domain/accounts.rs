//! The rules of account fields, for a new account and for a change of one: username (and the
//! look-alike rule), email, password, profile texts. Both doors and both services that take
//! account fields (`users` for changes, `sessions` for registration and passwords) check them here.

use super::validate::{char_len, check_no_nul};
use crate::error::FieldErrors;

/// Profile fields; `None` leaves a field unchanged, an empty string clears it.
#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub avatar: Option<String>,
    pub bio: Option<String>,
}

/// Shortest username, in characters after trimming (the legacy model).
pub const MIN_USERNAME_CHARS: usize = 3;
/// Longest username, in characters after trimming (the legacy model).
pub const MAX_USERNAME_CHARS: usize = 30;
/// Longest email address.
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest first or last name, in characters after trimming.
pub const MAX_NAME_CHARS: usize = 50;
/// Longest avatar URL or bio, in characters after trimming.
pub const MAX_PROFILE_TEXT_CHARS: usize = 500;

/// Username rule of the legacy model: 3-30 characters after trimming.
pub fn check_username(errors: &mut FieldErrors, field: &str, username: &str) {
    if check_no_nul(errors, field, username) {
        let len = char_len(username);
        if len < MIN_USERNAME_CHARS {
            errors.add(
                field,
                username,
                format!("Username must be at least {MIN_USERNAME_CHARS} characters"),
            );
        } else if len > MAX_USERNAME_CHARS {
            errors.add(
                field,
                username,
                format!("Username cannot exceed {MAX_USERNAME_CHARS} characters"),
            );
        }
    }
}

/// The rule against look-alike names, for a name being chosen (names stored before it stay):
/// no invisible or control character (zero-width, direction marks, fillers, variation
/// selectors, tabs), and no mix of scripts within one name (`pаypal` with a Cyrillic `а`),
/// after UTS #39 (a Japanese name mixing kana and kanji is one script). A name equal to an
/// existing one after NFKC and case folding is refused by the database
/// ([`crate::db::sql::username_key`]).
pub fn check_distinct_username(errors: &mut FieldErrors, field: &str, username: &str) {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    use unicode_security::general_security_profile::IdentifierType;
    use unicode_security::{GeneralSecurityProfile, MixedScript};
    let invisible = |c: char| {
        c.is_control()
            || (c.is_whitespace() && c != ' ')
            || c.general_category() == GeneralCategory::Format
            || c.identifier_type() == Some(IdentifierType::Default_Ignorable)
    };
    if username.chars().any(invisible) {
        errors.add(
            field,
            username,
            "Username cannot contain invisible or control characters",
        );
    } else if !username.is_single_script() {
        errors.add(
            field,
            username,
            "Username cannot mix scripts (such as Latin with Cyrillic or Greek letters)",
        );
    }
}

/// The legacy email rule (`word@word.tld`), checked on the lowercased value.
pub fn check_email(errors: &mut FieldErrors, field: &str, email: &str) {
    let valid = email.len() <= MAX_EMAIL_CHARS && {
        let mut parts = email.splitn(2, '@');
        match (parts.next(), parts.next()) {
            (Some(local), Some(domain)) => {
                let word = |s: &str| {
                    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-+".contains(c))
                };
                let labels: Vec<&str> = domain.split('.').collect();
                word(local)
                    && !local.starts_with('.')
                    && !local.ends_with('.')
                    && labels.len() >= 2
                    && labels
                        .iter()
                        .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
                    && labels
                        .last()
                        .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
            }
            _ => false,
        }
    };
    if !valid {
        errors.add(field, email, "Invalid email");
    }
}

/// Validates and normalizes profile fields in place (trimmed; bounded lengths).
pub fn check_profile(errors: &mut FieldErrors, profile: &mut ProfileInput) {
    let limits = [
        ("profile.firstName", &mut profile.first_name, MAX_NAME_CHARS),
        ("profile.lastName", &mut profile.last_name, MAX_NAME_CHARS),
        ("profile.avatar", &mut profile.avatar, MAX_PROFILE_TEXT_CHARS),
        ("profile.bio", &mut profile.bio, MAX_PROFILE_TEXT_CHARS),
    ];
    for (field, value, max) in limits {
        if let Some(text) = value.as_mut() {
            *text = text.trim().to_owned();
            if check_no_nul(errors, field, text) && char_len(text) > max {
                errors.add(
                    field,
                    text.as_str(),
                    format!("{field} cannot exceed {max} characters"),
                );
            }
        }
    }
}

/// A profile text as stored: blank (once trimmed by [`check_profile`]) is no value.
pub fn nonblank(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

/// Shortest password, in characters (the legacy model).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password, in bytes of UTF-8 (argon2 hashes whatever it is given).
pub const MAX_PASSWORD_BYTES: usize = 1024;

pub fn check_password(errors: &mut FieldErrors, field: &str, password: &str) {
    if char_len(password) < MIN_PASSWORD_CHARS {
        // The legacy error echoed the value; a password is never echoed.
        errors.add(
            field,
            "",
            format!("Password must be at least {MIN_PASSWORD_CHARS} characters"),
        );
    } else if password.len() > MAX_PASSWORD_BYTES {
        errors.add(
            field,
            "",
            format!("Password cannot exceed {MAX_PASSWORD_BYTES} bytes"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_follow_the_legacy_rule() {
        for good in ["a@b.co", "first.last@example.com", "x-y_z@mail.example.org"] {
            let mut errors = FieldErrors::new();
            check_email(&mut errors, "email", good);
            assert!(errors.is_empty(), "{good}");
        }
        for bad in ["invalid-email", "a@b", "@b.com", "a@.com", "a b@c.com", "a@b.c"] {
            let mut errors = FieldErrors::new();
            check_email(&mut errors, "email", bad);
            assert!(!errors.is_empty(), "{bad}");
        }
    }
}
