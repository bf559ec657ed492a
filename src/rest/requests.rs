//! Legacy request bodies: decoded field by field (every type error is reported, unknown fields
//! are ignored), and described in the OpenAPI document. The body types are descriptions only
//! (never built): each states what the server accepts, with the rules of `super::contract`; the
//! `decode` functions read the JSON object the way the legacy service did.

use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::body::Fields;
use super::contract::{self, CategoryName};
use crate::db::models::Category;
use crate::domain::accounts::ProfileInput;
use crate::domain::posts::PostInput;
use crate::domain::sessions::Registration;
use crate::domain::users::UserChanges;
use crate::error::FieldErrors;

type Body = Map<String, Value>;

/// `profile` of register and `PUT /api/users/:id`: every field may be null or absent.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ProfileBody {
    #[schema(schema_with = contract::profile_name_schema)]
    pub first_name: Option<String>,
    #[schema(schema_with = contract::profile_name_schema)]
    pub last_name: Option<String>,
    #[schema(schema_with = contract::profile_text_schema)]
    pub avatar: Option<String>,
    #[schema(schema_with = contract::profile_text_schema)]
    pub bio: Option<String>,
}

fn profile(fields: &mut Fields<'_>) -> Option<ProfileInput> {
    fields.object("profile").map(|p| ProfileInput {
        first_name: fields.nested_string("profile", &p, "firstName"),
        last_name: fields.nested_string("profile", &p, "lastName"),
        avatar: fields.nested_string("profile", &p, "avatar"),
        bio: fields.nested_string("profile", &p, "bio"),
    })
}

/// `POST /api/auth/register`.
#[derive(ToSchema)]
pub struct RegisterBody {
    #[schema(schema_with = contract::username_schema)]
    pub username: String,
    #[schema(schema_with = contract::email_schema)]
    pub email: String,
    #[schema(schema_with = contract::password_schema)]
    pub password: String,
    pub profile: Option<ProfileBody>,
}

impl RegisterBody {
    pub fn decode(body: &Body) -> (Registration, FieldErrors) {
        let mut fields = Fields::new(body);
        let username = fields.string("username");
        let email = fields.string("email");
        let password = fields.string("password");
        let profile = profile(&mut fields);
        let mut errors = fields.errors;
        for (field, value, message) in [
            ("username", &username, "Username is required"),
            ("email", &email, "Email is required"),
            ("password", &password, "Password is required"),
        ] {
            if value.is_none() && !errors.has(field) {
                errors.add(field, Value::Null, message);
            }
        }
        let registration = Registration {
            username: username.unwrap_or_default(),
            email: email.unwrap_or_default(),
            password: password.unwrap_or_default(),
            profile,
        };
        (registration, errors)
    }
}

/// `POST /api/auth/login`: a missing email or password is refused as wrong credentials (401).
#[derive(ToSchema)]
pub struct LoginBody {
    #[schema(schema_with = contract::login_email_schema)]
    pub email: String,
    #[schema(example = "password123")]
    pub password: String,
}

impl LoginBody {
    /// The email and password, when both are strings.
    pub fn decode(body: &Body) -> Option<(String, String)> {
        let mut fields = Fields::new(body);
        Some((fields.string("email")?, fields.string("password")?))
    }
}

/// `POST /api/auth/refresh` (and `/refresh-token`): a missing token is refused with 401.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct RefreshBody {
    pub refresh_token: String,
}

impl RefreshBody {
    /// `refreshToken` when it is a string (refresh and logout read it alike).
    pub fn decode(body: &Body) -> Option<String> {
        Fields::new(body).string("refreshToken")
    }
}

/// `POST /api/auth/logout`: the body is optional; without a token every one of the user's
/// refresh tokens is revoked.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct LogoutBody {
    /// The refresh token to revoke (a string). Absent, null or any other value that is not a
    /// string revokes every refresh token of the user.
    #[schema(value_type = Option<Value>)]
    pub refresh_token: Option<String>,
}

/// `POST /api/posts`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CreatePostBody {
    #[schema(schema_with = contract::title_schema)]
    pub title: String,
    #[schema(schema_with = contract::content_schema)]
    pub content: String,
    pub category: CategoryName,
    #[schema(schema_with = contract::tags_schema)]
    pub tags: Option<Vec<String>>,
    /// Defaults to false (a draft).
    pub is_published: Option<bool>,
}

/// `PUT /api/posts/:id`: every field is optional (absent or null leaves it as it is).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct UpdatePostBody {
    #[schema(schema_with = contract::title_or_null_schema)]
    pub title: Option<String>,
    #[schema(schema_with = contract::content_or_null_schema)]
    pub content: Option<String>,
    pub category: Option<CategoryName>,
    #[schema(schema_with = contract::tags_schema)]
    pub tags: Option<Vec<String>>,
    pub is_published: Option<bool>,
}

/// Reads the body of `POST /api/posts` and `PUT /api/posts/:id`; `PostInput::validate` applies
/// the rules (which fields a create needs among them).
pub fn decode_post(body: &Body) -> (PostInput, FieldErrors) {
    let mut fields = Fields::new(body);
    let title = fields.string("title");
    let content = fields.string("content");
    let category = fields.string("category");
    let tags = fields.string_array("tags", "Tags must be an array");
    let is_published = fields.boolean("isPublished", "isPublished must be a boolean");
    let category = category.and_then(|raw| {
        let parsed = Category::parse(raw.trim());
        if parsed.is_none() {
            fields.errors.add("category", raw, "Invalid category");
        }
        parsed
    });
    let input = PostInput {
        title,
        content,
        category,
        tags,
        is_published,
    };
    (input, fields.errors)
}

/// `POST /api/posts/:id/comments`.
#[derive(ToSchema)]
pub struct CommentBody {
    #[schema(schema_with = contract::comment_schema)]
    pub content: String,
}

impl CommentBody {
    /// `content` when it is a string; `comments::add` checks it.
    pub fn decode(body: &Body) -> (Option<String>, FieldErrors) {
        let mut fields = Fields::new(body);
        let content = fields.string("content");
        (content, fields.errors)
    }
}

/// `PUT /api/users/:id`: every field is optional; anything else in the body is ignored.
#[derive(ToSchema)]
pub struct UserUpdateBody {
    #[schema(schema_with = contract::username_or_null_schema)]
    pub username: Option<String>,
    #[schema(schema_with = contract::email_or_null_schema)]
    pub email: Option<String>,
    pub profile: Option<ProfileBody>,
}

impl UserUpdateBody {
    pub fn decode(body: &Body) -> (UserChanges, FieldErrors) {
        let mut fields = Fields::new(body);
        let changes = UserChanges {
            username: fields.string("username"),
            email: fields.string("email"),
            profile: profile(&mut fields),
        };
        (changes, fields.errors)
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    /// Arbitrary JSON values, nested a few levels.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "\\PC{0,40}".prop_map(Value::String),
            "[\\x00-\\x7f\u{202e}\u{1F600}]{0,20}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::hash_map("[a-zA-Z]{1,12}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn body_with(fields: &[&str]) -> impl Strategy<Value = Body> {
        let names: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        prop::collection::vec(json_value(), names.len())
            .prop_map(move |values| names.iter().cloned().zip(values).collect::<Body>())
    }

    proptest! {
        /// Decoding and validating any body either yields a valid input or field errors that
        /// name only real fields; it never panics and never lets a NUL byte through.
        #[test]
        fn post_bodies_decode_and_validate_without_panics(body in body_with(&["title", "content", "category", "tags", "isPublished", "views"])) {
            let (input, errors) = decode_post(&body);
            match crate::rest::body::validated(errors, input.validate_new()) {
                Ok(valid) => {
                    let shown = format!("{valid:?}");
                    prop_assert!(!shown.contains('\0'));
                }
                Err(crate::error::AppError::Validation(errors)) => {
                    for error in errors.0 {
                        prop_assert!(["title", "content", "category", "tags", "isPublished"].contains(&error.field.as_str()));
                    }
                }
                Err(other) => prop_assert!(false, "unexpected error {:?}", other),
            }
        }

        #[test]
        fn registration_bodies_decode_without_panics(body in body_with(&["username", "email", "password", "profile"])) {
            let (registration, errors) = RegisterBody::decode(&body);
            let _ = (registration.username.len(), errors.is_empty());
        }
    }
}
