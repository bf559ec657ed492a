// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "post_category"))]
    pub struct PostCategory;

    #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "tsvector", schema = "pg_catalog"))]
    pub struct Tsvector;

    #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "user_role"))]
    pub struct UserRole;
}

diesel::table! {
    author_post_totals (author_id) {
        author_id -> Uuid,
        published -> Int8,
    }
}

diesel::table! {
    comments (id) {
        id -> Uuid,
        post_id -> Uuid,
        author_id -> Uuid,
        content -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    post_likes (post_id, user_id) {
        post_id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    post_list_version (only_row) {
        only_row -> Bool,
        version -> Int8,
    }
}

diesel::table! {
    post_search_terms (post_id, lexeme) {
        post_id -> Uuid,
        lexeme -> Text,
        is_published -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::PostCategory;

    post_totals (category) {
        category -> PostCategory,
        published -> Int8,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::PostCategory;
    use super::sql_types::Tsvector;

    posts (id) {
        id -> Uuid,
        author_id -> Uuid,
        title -> Text,
        content -> Text,
        category -> PostCategory,
        tags -> Array<Text>,
        is_published -> Bool,
        views -> Int8,
        likes_count -> Int4,
        comments_count -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        search -> Tsvector,
        popularity -> Int8,
        slug -> Text,
        published_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        token_hash -> Text,
        family_id -> Uuid,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    trusted_document_ids (id) {
        id -> Text,
        sha256 -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    trusted_documents (sha256) {
        sha256 -> Text,
        document -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::UserRole;

    users (id) {
        id -> Uuid,
        username -> Text,
        email -> Text,
        password_hash -> Text,
        role -> UserRole,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        avatar -> Nullable<Text>,
        bio -> Nullable<Text>,
        is_active -> Bool,
        last_login -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        username_key -> Nullable<Text>,
    }
}

diesel::joinable!(author_post_totals -> users (author_id));
diesel::joinable!(trusted_document_ids -> trusted_documents (sha256));
diesel::joinable!(comments -> posts (post_id));
diesel::joinable!(comments -> users (author_id));
diesel::joinable!(post_likes -> posts (post_id));
diesel::joinable!(post_likes -> users (user_id));
diesel::joinable!(post_search_terms -> posts (post_id));
diesel::joinable!(posts -> users (author_id));
diesel::joinable!(refresh_tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    author_post_totals,
    comments,
    post_likes,
    post_list_version,
    post_search_terms,
    post_totals,
    posts,
    refresh_tokens,
    trusted_document_ids,
    trusted_documents,
    users,
);
