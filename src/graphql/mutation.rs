//! Mutation roots: sessions, accounts, posts, comments and likes. Each resolver hands plain
//! inputs to the service layer and wraps what comes back.

use async_graphql::{Context, ID, MergedObject, Object};

use super::context;
use super::types::auth::{AuthPayload, AuthTokens};
use super::types::enums::Role;
use super::types::inputs::{CreatePostInput, ProfileInput, RegisterInput, UpdatePostInput, UpdateUserInput};
use super::types::{CommentObject, InOrder, PostObject, UserObject};
use crate::domain::users::UserChanges;
use crate::domain::validate::parse_id;
use crate::domain::{comments, likes, posts, sessions, users};

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(SessionMutation, AccountMutation, PostMutation, CommentMutation);

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    async fn register(
        &self,
        ctx: &Context<'_>,
        input: RegisterInput,
    ) -> async_graphql::Result<InOrder<AuthPayload>> {
        let state = context::state(ctx)?;
        let attempt = state.auth_attempt(context::client_ip(ctx));
        let session = sessions::register(
            state.pool(),
            state.jwt(),
            context::changes(ctx)?,
            &attempt,
            input.into(),
        )
        .await?;
        Ok(InOrder(session.into()))
    }

    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        #[graphql(secret)] password: String,
    ) -> async_graphql::Result<InOrder<AuthPayload>> {
        let state = context::state(ctx)?;
        let attempt = state.auth_attempt(context::client_ip(ctx));
        let session = sessions::login(
            state.pool(),
            state.jwt(),
            state.dummy_password_hash(),
            &attempt,
            &email,
            &password,
        )
        .await?;
        Ok(InOrder(session.into()))
    }

    /// Exchanges a refresh token for a new pair; the old token stops working.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] refresh_token: String,
    ) -> async_graphql::Result<AuthTokens> {
        let state = context::state(ctx)?;
        let session = sessions::refresh(&mut *state.db().await?, state.jwt(), &refresh_token).await?;
        Ok(session.tokens.into())
    }

    /// Revokes the given refresh token, or every token of the viewer when none is given.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] refresh_token: Option<String>,
    ) -> async_graphql::Result<bool> {
        let viewer = context::require_viewer(ctx)?;
        sessions::logout(&mut *context::db(ctx).await?, viewer, refresh_token.as_deref()).await?;
        Ok(true)
    }

    /// Changes the viewer's password; every refresh token of the viewer is revoked.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] current_password: String,
        #[graphql(secret)] new_password: String,
    ) -> async_graphql::Result<bool> {
        let viewer = context::require_viewer(ctx)?;
        sessions::change_password(
            context::state(ctx)?.pool(),
            context::changes(ctx)?,
            viewer,
            &current_password,
            &new_password,
        )
        .await?;
        Ok(true)
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Changes the viewer's profile.
    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        input: ProfileInput,
    ) -> async_graphql::Result<InOrder<UserObject>> {
        let viewer = context::require_viewer(ctx)?;
        let changes = UserChanges {
            profile: Some(input.into()),
            ..UserChanges::default()
        };
        let user = users::update(
            &mut *context::db(ctx).await?,
            context::changes(ctx)?,
            viewer,
            viewer.id,
            changes,
        )
        .await?;
        Ok(InOrder(UserObject::Whole(user.into())))
    }

    /// Changes a user's username, email or profile (the user or an admin).
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateUserInput,
    ) -> async_graphql::Result<InOrder<UserObject>> {
        let viewer = context::require_viewer(ctx)?;
        let id = parse_id(&id, "id")?;
        let user = users::update(
            &mut *context::db(ctx).await?,
            context::changes(ctx)?,
            viewer,
            id,
            input.into(),
        )
        .await?;
        Ok(InOrder(UserObject::Whole(user.into())))
    }

    /// Admins only.
    async fn set_user_role(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        role: Role,
    ) -> async_graphql::Result<InOrder<UserObject>> {
        let viewer = context::require_viewer(ctx)?;
        let id = parse_id(&user_id, "userId")?;
        let user = users::set_role(
            &mut *context::db(ctx).await?,
            context::state(ctx)?.events(),
            context::changes(ctx)?,
            viewer,
            id,
            role.into(),
        )
        .await?;
        Ok(InOrder(UserObject::Whole(user.into())))
    }

    /// Admins only. A deactivated user's tokens stop working at once.
    async fn set_user_active(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        active: bool,
    ) -> async_graphql::Result<InOrder<UserObject>> {
        let viewer = context::require_viewer(ctx)?;
        let id = parse_id(&user_id, "userId")?;
        let user = users::set_active(
            &mut *context::db(ctx).await?,
            context::state(ctx)?.events(),
            context::changes(ctx)?,
            viewer,
            id,
            active,
        )
        .await?;
        Ok(InOrder(UserObject::Whole(user.into())))
    }
}

#[derive(Default)]
pub struct PostMutation;

#[Object]
impl PostMutation {
    async fn create_post(
        &self,
        ctx: &Context<'_>,
        input: CreatePostInput,
    ) -> async_graphql::Result<InOrder<PostObject>> {
        let viewer = context::require_viewer(ctx)?;
        let input = posts::PostInput::from(input).validate_new()?;
        let state = context::state(ctx)?;
        let post = posts::create(
            &mut *state.db().await?,
            state.events(),
            context::changes(ctx)?,
            viewer,
            input,
        )
        .await?;
        Ok(InOrder(PostObject::new(post)))
    }

    /// The author or an admin.
    async fn update_post(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdatePostInput,
    ) -> async_graphql::Result<InOrder<PostObject>> {
        let viewer = context::require_viewer(ctx)?;
        let id = parse_id(&id, "id")?;
        let input = posts::PostInput::from(input).validate_changes()?;
        let state = context::state(ctx)?;
        let post = posts::update(
            &mut *state.db().await?,
            state.events(),
            context::changes(ctx)?,
            viewer,
            id,
            input,
        )
        .await?;
        Ok(InOrder(PostObject::new(post)))
    }

    /// The author or an admin. Returns the deleted post's id.
    async fn delete_post(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        let viewer = context::require_viewer(ctx)?;
        let post_id = parse_id(&id, "id")?;
        posts::delete(
            &mut *context::db(ctx).await?,
            context::changes(ctx)?,
            viewer,
            post_id,
        )
        .await?;
        Ok(id)
    }

    /// Liking twice is a no-op.
    async fn like_post(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<InOrder<PostObject>> {
        let viewer = context::require_viewer(ctx)?;
        let id = parse_id(&id, "id")?;
        Ok(InOrder(PostObject::new(
            likes::set_liked(
                &mut *context::db(ctx).await?,
                context::changes(ctx)?,
                viewer,
                id,
                true,
            )
            .await?,
        )))
    }

    /// Unliking a post not liked is a no-op.
    async fn unlike_post(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<InOrder<PostObject>> {
        let viewer = context::require_viewer(ctx)?;
        let id = parse_id(&id, "id")?;
        Ok(InOrder(PostObject::new(
            likes::set_liked(
                &mut *context::db(ctx).await?,
                context::changes(ctx)?,
                viewer,
                id,
                false,
            )
            .await?,
        )))
    }

    /// Counts one view (queries never do).
    async fn view_post(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<InOrder<PostObject>> {
        let id = parse_id(&id, "id")?;
        Ok(InOrder(PostObject::new(
            posts::record_view(&mut *context::db(ctx).await?, context::viewer(ctx), id).await?,
        )))
    }
}

#[derive(Default)]
pub struct CommentMutation;

#[Object]
impl CommentMutation {
    async fn add_comment(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        content: String,
    ) -> async_graphql::Result<InOrder<CommentObject>> {
        let viewer = context::require_viewer(ctx)?;
        let post_id = parse_id(&post_id, "postId")?;
        let state = context::state(ctx)?;
        let comment = comments::add(
            &mut *state.db().await?,
            state.events(),
            context::changes(ctx)?,
            viewer,
            post_id,
            &content,
        )
        .await?;
        Ok(InOrder(CommentObject::new(comment)))
    }

    /// Rewrites a comment: its author only (moderators and admins may delete a comment but not
    /// rewrite it), with the rules of `addComment`; `updatedAt` moves.
    async fn update_comment(
        &self,
        ctx: &Context<'_>,
        id: ID,
        content: String,
    ) -> async_graphql::Result<InOrder<CommentObject>> {
        let viewer = context::require_viewer(ctx)?;
        let id = parse_id(&id, "id")?;
        let comment = comments::update(
            &mut *context::db(ctx).await?,
            context::changes(ctx)?,
            viewer,
            id,
            &content,
        )
        .await?;
        Ok(InOrder(CommentObject::new(comment)))
    }

    /// The comment's author, a moderator or an admin. Returns the deleted comment's id.
    async fn delete_comment(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        let viewer = context::require_viewer(ctx)?;
        let comment_id = parse_id(&id, "id")?;
        comments::delete(
            &mut *context::db(ctx).await?,
            context::changes(ctx)?,
            viewer,
            None,
            comment_id,
        )
        .await?;
        Ok(id)
    }
}
