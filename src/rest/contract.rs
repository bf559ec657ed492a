//! Pieces of the OpenAPI document that restate the service layer's rules (enumerations, text
//! lengths, the email rule) so that generated clients and fuzzers see the contract the server
//! enforces. The enumerations are built from the lists the server parses with (the category and
//! role labels, `query::LEGACY_SORTS`); the text rules are checked against the service layer's
//! own checks by the tests below, and against the running server by tests/it/fuzz.rs.

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

use super::query::LEGACY_SORTS;
use crate::db::models::{Category, Role};
use crate::domain::accounts::{
    MAX_EMAIL_CHARS, MAX_NAME_CHARS, MAX_PASSWORD_BYTES, MAX_PROFILE_TEXT_CHARS, MAX_USERNAME_CHARS,
    MIN_PASSWORD_CHARS, MIN_USERNAME_CHARS,
};
use crate::domain::comments::MAX_COMMENT_CHARS;
use crate::domain::posts::{
    MAX_CONTENT_CHARS, MAX_TAG_CHARS, MAX_TAGS, MAX_TITLE_CHARS, MIN_CONTENT_CHARS, MIN_TITLE_CHARS,
};
use crate::domain::validate::MAX_LOOKUP_CHARS;

fn string_enum(description: &str, values: impl IntoIterator<Item = &'static str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values))
        .into()
}

/// `category` of posts, in queries, bodies and answers (`#/components/schemas/Category`).
pub struct CategoryName;

impl PartialSchema for CategoryName {
    fn schema() -> RefOr<Schema> {
        string_enum(
            "A post category (the legacy lowercase labels).",
            Category::ALL.iter().map(|c| c.as_str()),
        )
    }
}

impl ToSchema for CategoryName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Category")
    }
}

/// A user's `role` (`#/components/schemas/Role`).
pub struct RoleName;

impl PartialSchema for RoleName {
    fn schema() -> RefOr<Schema> {
        string_enum("A user's role.", Role::ALL.iter().map(|r| r.as_str()))
    }
}

impl ToSchema for RoleName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Role")
    }
}

/// `sort` of `GET /api/posts` (`#/components/schemas/PostSort`): the legacy sort values.
pub struct SortName;

impl PartialSchema for SortName {
    fn schema() -> RefOr<Schema> {
        string_enum(
            "The order of a post list: a field, descending with a leading `-` (default `-createdAt`).",
            LEGACY_SORTS.iter().map(|(label, _)| *label),
        )
    }
}

impl ToSchema for SortName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("PostSort")
    }
}

/// The longest text a lookup takes (`validate::check_lookup_text`: a search, a tag, the email of
/// a login); longer ones are refused with 400, as text with NUL is.
const LOOKUP_CHARS: usize = MAX_LOOKUP_CHARS;

/// `search` of `GET /api/posts` and `GET /api/users` (`#/components/schemas/SearchText`).
pub struct SearchText;

impl PartialSchema for SearchText {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "At most 256 characters, without NUL; a blank search (whitespace only, however long) is no filter.",
            ))
            .pattern(Some(format!("^(?:[{TRIMMED}]*|[^\\u0000]{{0,{LOOKUP_CHARS}}})$")))
            .into()
    }
}

impl ToSchema for SearchText {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SearchText")
    }
}

/// `tag` of `GET /api/posts`, compared trimmed (`#/components/schemas/TagFilter`).
pub struct TagFilter;

impl PartialSchema for TagFilter {
    fn schema() -> RefOr<Schema> {
        trimmed(
            0,
            Some(LOOKUP_CHARS),
            "A tag, compared trimmed: at most 256 characters after trimming, without NUL; a blank one is no filter.",
            false,
        )
        .into()
    }
}

impl ToSchema for TagFilter {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("TagFilter")
    }
}

/// The email of a login: looked up as it is (any text finds nobody but a user's address), but
/// refused with 400 past 256 characters or with NUL.
pub fn login_email_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "The address of the account (compared trimmed and case-insensitively); at most 256 characters, without NUL.",
        ))
        .max_length(Some(LOOKUP_CHARS))
        .pattern(Some("^[^\\u0000]*$"))
        .examples(["ann@example.com"])
}

/// What `str::trim` removes (the Unicode White_Space characters), as the body of an ECMA-262
/// character class. `\s` would not do: its ECMA-262 and Python meanings both differ from it.
const TRIMMED: &str = r"\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

/// A pattern for text that is checked after trimming: `min..=max` characters once surrounding
/// whitespace is removed (any amount of it may surround them), and no NUL anywhere (Postgres
/// text cannot hold one). JSON Schema lengths count the surrounding whitespace too, so the
/// pattern carries the rule; `minLength` is added where it follows from it.
pub fn trimmed_pattern(min: usize, max: Option<usize>) -> String {
    let space = format!("[{TRIMMED}]*");
    let edge = format!("[^{TRIMMED}\\u0000]");
    let inner = |lo: usize| match max {
        Some(max) => format!("[^\\u0000]{{{lo},{}}}", max - 2),
        None => format!("[^\\u0000]{{{lo},}}"),
    };
    let core = match min {
        0 => format!("(?:{edge}(?:{}{edge})?)?", inner(0)),
        1 => format!("{edge}(?:{}{edge})?", inner(0)),
        _ => format!("{edge}{}{edge}", inner(min - 2)),
    };
    format!("^{space}{core}{space}$")
}

fn nullable(builder: ObjectBuilder, null: bool) -> ObjectBuilder {
    if null {
        builder.schema_type([Type::String, Type::Null].into_iter().collect::<SchemaType>())
    } else {
        builder.schema_type(Type::String)
    }
}

fn trimmed(min: usize, max: Option<usize>, description: &str, null: bool) -> ObjectBuilder {
    nullable(ObjectBuilder::new(), null)
        .description(Some(description))
        .pattern(Some(trimmed_pattern(min, max)))
        .min_length((min > 0).then_some(min))
}

/// The legacy username rule (`accounts::check_username`).
fn username(null: bool) -> ObjectBuilder {
    trimmed(
        MIN_USERNAME_CHARS,
        Some(MAX_USERNAME_CHARS),
        &format!(
            "{MIN_USERNAME_CHARS}-{MAX_USERNAME_CHARS} characters after trimming, unique ignoring case and \
             compatibility forms (a taken one is refused with 400); a new name holds no invisible \
             character and one script only."
        ),
        null,
    )
    .examples(["ann"])
}

pub fn username_schema() -> ObjectBuilder {
    username(false)
}

pub fn username_or_null_schema() -> ObjectBuilder {
    username(true)
}

/// The legacy email rule (`accounts::check_email`), checked trimmed and lowercased: `local@domain.tld`
/// of ASCII letters, digits and `._+-` (the local part neither starts nor ends with a dot), a
/// top-level domain of 2+ letters, at most 254 characters. `maxLength` counts the surrounding
/// whitespace the server trims, so it is stricter than the server for padded addresses (a
/// pattern cannot count without lookahead, which generators do not support).
fn email(null: bool) -> ObjectBuilder {
    let space = format!("[{TRIMMED}]*");
    let local = r"[A-Za-z0-9_+-](?:[A-Za-z0-9._+-]*[A-Za-z0-9_+-])?";
    let domain = r"(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}";
    nullable(ObjectBuilder::new(), null)
        .description(Some(
            "An address `local@domain.tld` (compared trimmed and case-insensitively), unique (a taken one is refused with 400).",
        ))
        .pattern(Some(format!("^{space}{local}@{domain}{space}$")))
        .max_length(Some(MAX_EMAIL_CHARS))
        .examples(["ann@example.com"])
}

pub fn email_schema() -> ObjectBuilder {
    email(false)
}

pub fn email_or_null_schema() -> ObjectBuilder {
    email(true)
}

/// The legacy password rule (`accounts::check_password`): 8 characters, at most 1024 bytes.
/// JSON Schema counts characters, not bytes: `maxLength: 1024` is exact for ASCII and looser
/// than the server for longer characters.
pub fn password_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(format!(
            "At least {MIN_PASSWORD_CHARS} characters and at most {MAX_PASSWORD_BYTES} bytes of UTF-8 \
             ({MAX_PASSWORD_BYTES} ASCII characters)."
        )))
        .min_length(Some(MIN_PASSWORD_CHARS))
        .max_length(Some(MAX_PASSWORD_BYTES))
        .examples(["password123"])
}

/// `profile.firstName` and `profile.lastName` (`accounts::check_profile`).
pub fn profile_name_schema() -> ObjectBuilder {
    trimmed(
        0,
        Some(MAX_NAME_CHARS),
        &format!("At most {MAX_NAME_CHARS} characters after trimming."),
        true,
    )
}

/// `profile.avatar` and `profile.bio` (`accounts::check_profile`).
pub fn profile_text_schema() -> ObjectBuilder {
    trimmed(
        0,
        Some(MAX_PROFILE_TEXT_CHARS),
        &format!("At most {MAX_PROFILE_TEXT_CHARS} characters after trimming."),
        true,
    )
}

/// A post title (`PostInput::validate`).
fn title(null: bool) -> ObjectBuilder {
    trimmed(
        MIN_TITLE_CHARS,
        Some(MAX_TITLE_CHARS),
        &format!("{MIN_TITLE_CHARS}-{MAX_TITLE_CHARS} characters after trimming."),
        null,
    )
}

pub fn title_schema() -> ObjectBuilder {
    title(false)
}

pub fn title_or_null_schema() -> ObjectBuilder {
    title(true)
}

/// A post's content (`PostInput::validate`).
fn content(null: bool) -> ObjectBuilder {
    trimmed(
        MIN_CONTENT_CHARS,
        Some(MAX_CONTENT_CHARS),
        &format!("{MIN_CONTENT_CHARS}-{MAX_CONTENT_CHARS} characters after trimming."),
        null,
    )
}

pub fn content_schema() -> ObjectBuilder {
    content(false)
}

pub fn content_or_null_schema() -> ObjectBuilder {
    content(true)
}

/// A post's tags (`PostInput::validate`). The server trims them and drops blank ones and a tag
/// repeated right after itself before it counts them, which JSON Schema cannot say: `maxItems`
/// is stricter than the server for such lists (tests/fuzz/hooks.py lets that through).
pub fn tags_schema() -> ArrayBuilder {
    ArrayBuilder::new()
        .schema_type([Type::Array, Type::Null].into_iter().collect::<SchemaType>())
        .description(Some(format!(
            "At most {MAX_TAGS} tags of at most {MAX_TAG_CHARS} characters each after trimming (blank \
             tags, and a tag repeated right after itself, are dropped first)."
        )))
        .items(trimmed(0, Some(MAX_TAG_CHARS), "A tag.", false))
        .max_items(Some(MAX_TAGS))
}

/// A comment (`comments::validate_content`).
pub fn comment_schema() -> ObjectBuilder {
    trimmed(
        1,
        Some(MAX_COMMENT_CHARS),
        &format!("1-{MAX_COMMENT_CHARS} characters after trimming."),
        false,
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::accounts::{ProfileInput, check_profile, check_username};
    use crate::domain::comments::validate_content;
    use crate::domain::posts::PostInput;
    use crate::domain::validate::check_lookup_text;
    use crate::error::FieldErrors;

    /// The trimmed-length patterns agree with the rules they describe on edge cases (the
    /// `regex` crate reads these patterns as ECMA-262 and Python's `re` do).
    #[test]
    fn trimmed_patterns_count_characters_between_whitespace() {
        let check = |min, max, text: &str| {
            regex::Regex::new(&trimmed_pattern(min, max))
                .unwrap()
                .is_match(text)
        };
        assert!(check(3, Some(30), "ann"));
        assert!(check(3, Some(30), "  ann \n"));
        assert!(!check(3, Some(30), " an "));
        assert!(check(3, Some(30), &"a".repeat(30)));
        assert!(!check(3, Some(30), &"a".repeat(31)));
        assert!(check(3, Some(30), &format!("\u{3000}{}\u{a0}", "a b".repeat(10))));
        assert!(!check(3, Some(30), "an\0n"));
        assert!(
            check(3, Some(30), "\u{1c}a\u{1c}"),
            "U+001C is not whitespace to str::trim (it is to Python's str.strip)"
        );
        assert!(check(0, Some(50), ""));
        assert!(check(0, Some(50), "   "));
        assert!(check(0, Some(50), "x"));
        assert!(check(0, Some(50), &"x".repeat(50)));
        assert!(!check(0, Some(50), &"x".repeat(51)));
        assert!(check(1, Some(2000), " x "));
        assert!(!check(1, Some(2000), "  "));
        assert!(check(10, None, &"x".repeat(5000)));
        assert!(!check(10, None, "  123456789  "));
    }

    /// Every text that the email pattern accepts passes `accounts::check_email` once trimmed and
    /// lowercased, and the other way round, on a few edge cases.
    #[test]
    fn the_email_pattern_is_the_legacy_rule() {
        let object = email_schema().build();
        let pattern = regex::Regex::new(object.pattern.as_deref().unwrap()).unwrap();
        for text in [
            "ann@example.com",
            " Ann.Lee+x@Mail.Example.ORG\t",
            "a@b.cd",
            ".ann@example.com",
            "ann.@example.com",
            "ann@example",
            "ann@example.c",
            "ann@example.c0m",
            "ann@@example.com",
            "ann@-x.com",
            "a n@example.com",
            "ann@exa_mple.com",
            "ann@.com",
        ] {
            let mut errors = crate::error::FieldErrors::new();
            crate::domain::accounts::check_email(&mut errors, "email", &text.trim().to_lowercase());
            assert_eq!(pattern.is_match(text), errors.is_empty(), "{text:?}");
        }
    }

    fn compile(schema: ObjectBuilder) -> regex::Regex {
        regex::Regex::new(&schema.build().pattern.unwrap()).unwrap()
    }

    fn pattern_of(schema: RefOr<Schema>) -> regex::Regex {
        let RefOr::T(Schema::Object(object)) = schema else {
            panic!("not an object schema")
        };
        regex::Regex::new(&object.pattern.unwrap()).unwrap()
    }

    /// The patterns of username, firstName, title, content, a tag, a comment, a search and a tag
    /// filter, compiled once. Content's stands in with a maximum of 300 for 100,000 (the texts
    /// here are shorter than both, and the `regex` crate compiles 100,000 repetitions slowly);
    /// `content_uses_the_service_maximum` checks the real one.
    static PATTERNS: std::sync::LazyLock<[regex::Regex; 8]> = std::sync::LazyLock::new(|| {
        [
            compile(username_schema()),
            compile(profile_name_schema()),
            compile(title_schema()),
            regex::Regex::new(&trimmed_pattern(10, Some(300))).unwrap(),
            compile(trimmed(0, Some(50), "", false)),
            compile(comment_schema()),
            pattern_of(SearchText::schema()),
            pattern_of(TagFilter::schema()),
        ]
    });

    #[test]
    fn content_uses_the_service_maximum() {
        assert_eq!(
            content_schema().build().pattern.unwrap(),
            trimmed_pattern(10, Some(crate::domain::posts::MAX_CONTENT_CHARS))
        );
        assert!(content_schema().build().pattern.unwrap().contains("{8,99998}"));
    }

    fn post_accepts(title: &str, content: &str, tags: Vec<String>) -> bool {
        let input = PostInput {
            title: Some(title.to_owned()),
            content: Some(content.to_owned()),
            category: Some(Category::Technology),
            tags: Some(tags),
            is_published: None,
        };
        input.validate_new().is_ok()
    }

    /// Text around the length limits: whitespace that `str::trim` removes around a core of
    /// about a limit's length (with inner spaces and U+001C, which `str::trim` keeps), and in a
    /// fifth of the cases one NUL somewhere.
    fn text() -> impl Strategy<Value = String> {
        let space = || {
            prop::collection::vec(
                prop::sample::select(vec![' ', '\t', '\n', '\u{a0}', '\u{3000}']),
                0..3,
            )
        };
        let lengths = [
            0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 29, 30, 31, 32, 49, 50, 51, 52, 199, 200, 201, 202, 255,
            256, 257, 258,
        ];
        let core = prop::sample::select(lengths.to_vec()).prop_flat_map(|length| {
            prop::collection::vec(prop::sample::select(vec!['a', 'é', '😀', ' ', '\u{1c}']), length)
        });
        let nul = prop::option::weighted(0.2, any::<prop::sample::Index>());
        (space(), core, nul, space()).prop_map(|(left, mut core, nul, right)| {
            if let Some(at) = nul {
                core.insert(at.index(core.len() + 1), '\0');
            }
            left.into_iter().chain(core).chain(right).collect()
        })
    }

    proptest! {
        /// Each pattern accepts exactly what the service layer's rule accepts.
        #[test]
        fn patterns_agree_with_the_service_rules(text in text()) {
            let [username, first_name, title, content, tag, comment, search, tag_filter] = &*PATTERNS;
            let mut errors = FieldErrors::new();
            check_username(&mut errors, "username", text.trim());
            prop_assert_eq!(username.is_match(&text), errors.is_empty(), "username {:?}", text);

            let mut errors = FieldErrors::new();
            let mut profile = ProfileInput { first_name: Some(text.clone()), ..Default::default() };
            check_profile(&mut errors, &mut profile);
            prop_assert_eq!(first_name.is_match(&text), errors.is_empty(), "firstName {:?}", text);

            let accepted = post_accepts(&text, "Content long enough", vec![]);
            prop_assert_eq!(title.is_match(&text), accepted, "title {:?}", text);
            let accepted = post_accepts("A title", &text, vec![]);
            prop_assert_eq!(content.is_match(&text), accepted, "content {:?}", text);
            let accepted = post_accepts("A title", "Content long enough", vec![text.clone()]);
            prop_assert_eq!(tag.is_match(&text), accepted, "tag {:?}", text);

            // A blank search or tag is no filter; any other is looked up, within limits.
            let lookup = |value: &str| check_lookup_text("search", value).is_ok();
            let accepted = text.trim().is_empty() || lookup(&text);
            prop_assert_eq!(search.is_match(&text), accepted, "search {:?}", text);
            let accepted = text.trim().is_empty() || lookup(text.trim());
            prop_assert_eq!(tag_filter.is_match(&text), accepted, "tag filter {:?}", text);

            let longest = format!("{}{text}", "c".repeat(1990));
            for text in [&text, &longest] {
                prop_assert_eq!(comment.is_match(text), validate_content(text).is_ok(), "comment {:?}", text);
            }
        }
    }
}
