//! Decoding legacy JSON bodies: JSON errors with the right status (400, 413, 415), and field
//! readers that collect every type error instead of stopping at the first.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde_json::{Map, Value};

use crate::error::{AppError, AppResult, BodyRejection, FieldErrors};
use crate::state::AppState;

/// A JSON object body (an absent body reads as `{}`, as express.json left it).
pub struct JsonBody(pub Map<String, Value>);

impl FromRequest<AppState> for JsonBody {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, AppError> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase);
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            AppError::Body(if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                BodyRejection::TooLarge
            } else {
                BodyRejection::Unreadable
            })
        })?;
        // No bytes is the empty object, as the legacy body parser read it; blank JSON is not.
        if bytes.is_empty() {
            return Ok(JsonBody(Map::new()));
        }
        let is_json = content_type.as_deref().is_some_and(|ct| {
            let essence = ct.split(';').next().unwrap_or("").trim();
            essence == "application/json" || essence.ends_with("+json")
        });
        if !is_json {
            return Err(AppError::Body(BodyRejection::NotJson));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(JsonBody(map)),
            Ok(_) => Err(AppError::Body(BodyRejection::NotAnObject)),
            Err(_) => Err(AppError::Body(BodyRejection::Malformed)),
        }
    }
}

/// Reads typed fields of a body, recording a legacy field error for each wrong type.
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    pub errors: FieldErrors,
}

impl<'a> Fields<'a> {
    pub fn new(map: &'a Map<String, Value>) -> Self {
        Self {
            map,
            errors: FieldErrors::new(),
        }
    }

    /// A string field; `null` and absent read as `None`.
    pub fn string(&mut self, field: &str) -> Option<String> {
        match self.map.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.errors
                    .add(field, other.clone(), format!("{field} must be a string"));
                None
            }
        }
    }

    pub fn boolean(&mut self, field: &str, message: &str) -> Option<bool> {
        match self.map.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(other) => {
                self.errors.add(field, other.clone(), message);
                None
            }
        }
    }

    pub fn string_array(&mut self, field: &str, message: &str) -> Option<Vec<String>> {
        match self.map.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => Some(
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
            ),
            Some(other) => {
                self.errors.add(field, other.clone(), message);
                None
            }
        }
    }

    /// A nested object of string fields (such as `profile`), checked field by field.
    pub fn object(&mut self, field: &str) -> Option<Map<String, Value>> {
        match self.map.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Object(map)) => Some(map.clone()),
            Some(other) => {
                self.errors
                    .add(field, other.clone(), format!("{field} must be an object"));
                None
            }
        }
    }

    /// A string field of a nested object, reported under `parent.field`.
    pub fn nested_string(
        &mut self,
        parent: &str,
        object: &Map<String, Value>,
        field: &str,
    ) -> Option<String> {
        match object.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                let path = format!("{parent}.{field}");
                self.errors
                    .add(path.clone(), other.clone(), format!("{path} must be a string"));
                None
            }
        }
    }
}

/// The service layer's validation of a body this door decoded, as one answer: the door's own
/// decoding failures first, then the service layer's for the other fields (the legacy service
/// reported every failing field at once). Validation is pure: nothing is written either way.
/// Any other refusal of the check (a rate limit, the database down) stands as it is.
pub fn validated<T>(decoded: FieldErrors, checked: AppResult<T>) -> AppResult<T> {
    if decoded.is_empty() {
        return checked;
    }
    match checked {
        Err(AppError::Validation(found)) => Err(AppError::Validation(decoded.merged(found))),
        Err(other) => Err(other),
        Ok(_) => Err(AppError::Validation(decoded)),
    }
}

/// The `:id` of a legacy PUT: a malformed one is reported with the body's validation errors
/// (`message`, 400), as the legacy validators did, and reads as the nil id meanwhile (the
/// validation then fails before anything runs).
pub fn put_id(raw: &str, message: &str, errors: &mut FieldErrors) -> uuid::Uuid {
    uuid::Uuid::parse_str(raw.trim()).unwrap_or_else(|_| {
        errors.add_at(crate::error::Location::Params, "id", raw, message);
        uuid::Uuid::nil()
    })
}
