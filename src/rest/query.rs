//! Legacy list parameters (`page`, `limit`, `sort`, filters), validated as the legacy validators did.

use std::collections::HashMap;

use crate::db::models::{Category, Role};
use crate::domain::page::{DEFAULT_POPULAR_SIZE, MAX_PAGE_SIZE};
use crate::domain::posts::{PostFilter, PostSort};
use crate::domain::users::UserFilter;
use crate::error::{AppError, AppResult, FieldErrors, Location};

/// Decoded query string (the last value of a repeated key wins, as in express).
pub struct QueryParams(HashMap<String, String>);

impl QueryParams {
    pub fn parse(raw: Option<&str>) -> Self {
        QueryParams(
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// The largest `page` accepted (larger ones are refused, as non-positive ones are).
pub const MAX_PAGE: i64 = 1_000_000;
/// Items in a legacy list page when `limit` is not given.
const LEGACY_PAGE_SIZE: i64 = 10;

/// `page` and `limit`, with offsets for the query.
pub struct Paging {
    pub page: i64,
    pub limit: i64,
}

impl Paging {
    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.limit)
    }
}

/// A service-layer answer to a list's query parameters: its field errors are `query` ones.
pub fn in_query<T>(result: AppResult<T>) -> AppResult<T> {
    result.map_err(|error| error.placed_in(Location::Query))
}

/// The legacy message for a `limit` out of range.
fn limit_message() -> String {
    format!("Limit must be between 1 and {MAX_PAGE_SIZE}")
}

fn paging(params: &QueryParams, errors: &mut FieldErrors) -> Paging {
    let page = match params.get("page") {
        None => 1,
        Some(raw) => match raw.parse::<i64>() {
            Ok(p) if (1..=MAX_PAGE).contains(&p) => p,
            _ => {
                errors.add_at(Location::Query, "page", raw, "Page must be a positive integer");
                1
            }
        },
    };
    let limit = match params.get("limit") {
        None => LEGACY_PAGE_SIZE,
        Some(raw) => match raw.parse::<i64>() {
            Ok(l) if (1..=MAX_PAGE_SIZE).contains(&l) => l,
            _ => {
                errors.add_at(Location::Query, "limit", raw, limit_message());
                LEGACY_PAGE_SIZE
            }
        },
    };
    Paging { page, limit }
}

/// The legacy sort values (the first is the default); the OpenAPI document lists them too.
pub const LEGACY_SORTS: &[(&str, PostSort)] = &[
    ("-createdAt", PostSort::Newest),
    ("createdAt", PostSort::Oldest),
    ("-updatedAt", PostSort::UpdatedDesc),
    ("updatedAt", PostSort::UpdatedAsc),
    ("title", PostSort::TitleAsc),
    ("-title", PostSort::TitleDesc),
];

fn sort(params: &QueryParams, errors: &mut FieldErrors) -> PostSort {
    let Some(raw) = params.get("sort") else {
        return PostSort::Newest;
    };
    match LEGACY_SORTS.iter().find(|(label, _)| *label == raw) {
        Some((_, sort)) => *sort,
        None => {
            errors.add_at(Location::Query, "sort", raw, "Invalid sort parameter");
            PostSort::Newest
        }
    }
}

/// `GET /api/posts` parameters.
pub fn post_list(params: &QueryParams) -> AppResult<(PostFilter, PostSort, Paging)> {
    let mut errors = FieldErrors::new();
    let paging = paging(params, &mut errors);
    let sort = sort(params, &mut errors);
    let category = params.get("category").and_then(|raw| {
        let parsed = Category::parse(raw);
        if parsed.is_none() {
            errors.add_at(Location::Query, "category", raw, "Invalid category");
        }
        parsed
    });
    let author_id = params.get("author").and_then(|raw| {
        let parsed = uuid::Uuid::parse_str(raw).ok();
        if parsed.is_none() {
            errors.add_at(Location::Query, "author", raw, "Invalid author ID");
        }
        parsed
    });
    errors.into_result()?;
    let filter = PostFilter::published(
        category,
        author_id,
        params.get("tag").map(str::to_owned),
        params.get("search").map(str::to_owned),
    );
    Ok((filter, sort, paging))
}

/// `GET /api/users` parameters.
pub fn user_list(params: &QueryParams) -> AppResult<(UserFilter, Paging)> {
    let mut errors = FieldErrors::new();
    let paging = paging(params, &mut errors);
    let role = params.get("role").and_then(|raw| {
        let parsed = Role::parse(raw);
        if parsed.is_none() {
            errors.add_at(Location::Query, "role", raw, "Invalid role");
        }
        parsed
    });
    errors.into_result()?;
    Ok((
        UserFilter::new(role, params.get("search").map(str::to_owned)),
        paging,
    ))
}

/// `GET /api/posts/popular?limit=` (1-100, default 10).
pub fn popular_limit(params: &QueryParams) -> AppResult<i64> {
    match params.get("limit") {
        None => Ok(i64::from(DEFAULT_POPULAR_SIZE)),
        Some(raw) => match raw.parse::<i64>() {
            Ok(l) if (1..=MAX_PAGE_SIZE).contains(&l) => Ok(l),
            _ => {
                let mut errors = FieldErrors::new();
                errors.add_at(Location::Query, "limit", raw, limit_message());
                Err(AppError::Validation(errors))
            }
        },
    }
}
