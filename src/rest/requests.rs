//! Legacy request bodies: decoded field by field (every type error is reported, unknown fields
//! are ignored), and described in the OpenAPI document.

use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::body::Fields;
use crate::db::models::Category;
use crate::domain::posts::PostInput;
use crate::domain::sessions::Registration;
use crate::domain::users::{ProfileInput, UserChanges};
use crate::error::FieldErrors;

type Body = Map<String, Value>;

#[derive(ToSchema, Default)]
#[schema(rename_all = "camelCase")]
pub struct ProfileBody {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub avatar: Option<String>,
    pub bio: Option<String>,
}

impl From<ProfileBody> for ProfileInput {
    fn from(p: ProfileBody) -> Self {
        ProfileInput {
            first_name: p.first_name,
            last_name: p.last_name,
            avatar: p.avatar,
            bio: p.bio,
        }
    }
}

fn profile(fields: &mut Fields<'_>) -> Option<ProfileBody> {
    fields.object("profile").map(|p| ProfileBody {
        first_name: fields.nested_string("profile", &p, "firstName"),
        last_name: fields.nested_string("profile", &p, "lastName"),
        avatar: fields.nested_string("profile", &p, "avatar"),
        bio: fields.nested_string("profile", &p, "bio"),
    })
}

/// `POST /api/auth/register`.
#[derive(ToSchema)]
pub struct RegisterBody {
    /// 3-30 characters, unique.
    #[schema(example = "ann")]
    pub username: Option<String>,
    /// Unique, compared case-insensitively.
    #[schema(example = "ann@example.com")]
    pub email: Option<String>,
    /// At least 8 characters.
    #[schema(example = "password123")]
    pub password: Option<String>,
    pub profile: Option<ProfileBody>,
}

impl RegisterBody {
    pub fn decode(body: &Body) -> (Registration, FieldErrors) {
        let mut fields = Fields::new(body);
        let decoded = RegisterBody {
            username: fields.string("username"),
            email: fields.string("email"),
            password: fields.string("password"),
            profile: profile(&mut fields),
        };
        let mut errors = fields.errors;
        for (field, value, message) in [
            ("username", &decoded.username, "Username is required"),
            ("email", &decoded.email, "Email is required"),
            ("password", &decoded.password, "Password is required"),
        ] {
            if value.is_none() && !errors.has(field) {
                errors.add(field, Value::Null, message);
            }
        }
        let registration = Registration {
            username: decoded.username.unwrap_or_default(),
            email: decoded.email.unwrap_or_default(),
            password: decoded.password.unwrap_or_default(),
            profile: decoded.profile.map(Into::into),
        };
        (registration, errors)
    }
}

/// `POST /api/auth/login`.
#[derive(ToSchema)]
pub struct LoginBody {
    #[schema(example = "ann@example.com")]
    pub email: Option<String>,
    #[schema(example = "password123")]
    pub password: Option<String>,
}

impl LoginBody {
    pub fn decode(body: &Body) -> Self {
        let mut fields = Fields::new(body);
        LoginBody {
            email: fields.string("email"),
            password: fields.string("password"),
        }
    }
}

/// `POST /api/auth/refresh` and `/api/auth/logout`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct RefreshBody {
    pub refresh_token: Option<String>,
}

impl RefreshBody {
    pub fn decode(body: &Body) -> Self {
        RefreshBody {
            refresh_token: Fields::new(body).string("refreshToken"),
        }
    }
}

/// `POST /api/posts` and `PUT /api/posts/:id` (every field optional on PUT).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PostBody {
    /// 5-200 characters after trimming.
    pub title: Option<String>,
    /// At least 10 characters after trimming.
    pub content: Option<String>,
    /// technology, lifestyle, business, health or education.
    #[schema(example = "technology")]
    pub category: Option<String>,
    /// At most 10.
    pub tags: Option<Vec<String>>,
    pub is_published: Option<bool>,
}

impl PostBody {
    pub fn decode(body: &Body) -> (PostInput, FieldErrors) {
        let mut fields = Fields::new(body);
        let decoded = PostBody {
            title: fields.string("title"),
            content: fields.string("content"),
            category: fields.string("category"),
            tags: fields.string_array("tags", "Tags must be an array"),
            is_published: fields.boolean("isPublished", "isPublished must be a boolean"),
        };
        let category = decoded.category.and_then(|raw| {
            let parsed = Category::parse(raw.trim());
            if parsed.is_none() {
                fields.errors.add("category", raw, "Invalid category");
            }
            parsed
        });
        let input = PostInput {
            title: decoded.title,
            content: decoded.content,
            category,
            tags: decoded.tags,
            is_published: decoded.is_published,
        };
        (input, fields.errors)
    }
}

/// `POST /api/posts/:id/comments`.
#[derive(ToSchema)]
pub struct CommentBody {
    /// 1-2000 characters after trimming.
    pub content: Option<String>,
}

impl CommentBody {
    pub fn decode(body: &Body) -> (Self, FieldErrors) {
        let mut fields = Fields::new(body);
        let decoded = CommentBody {
            content: fields.string("content"),
        };
        (decoded, fields.errors)
    }
}

/// `PUT /api/users/:id`: anything else in the body is ignored.
#[derive(ToSchema)]
pub struct UserUpdateBody {
    pub username: Option<String>,
    pub email: Option<String>,
    pub profile: Option<ProfileBody>,
}

impl UserUpdateBody {
    pub fn decode(body: &Body) -> (UserChanges, FieldErrors) {
        let mut fields = Fields::new(body);
        let decoded = UserUpdateBody {
            username: fields.string("username"),
            email: fields.string("email"),
            profile: profile(&mut fields),
        };
        let changes = UserChanges {
            username: decoded.username,
            email: decoded.email,
            profile: decoded.profile.map(Into::into),
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
            let (input, errors) = PostBody::decode(&body);
            match input.validate(true, errors) {
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
