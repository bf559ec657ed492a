DROP TRIGGER posts_totals_on_update ON posts;
DROP TRIGGER posts_totals_on_delete ON posts;
DROP TRIGGER posts_totals_on_insert ON posts;
DROP FUNCTION post_totals_of_updated_post();
DROP FUNCTION post_totals_of_deleted_posts();
DROP FUNCTION post_totals_of_inserted_posts();
DROP FUNCTION post_totals_apply(jsonb);
DROP TABLE author_post_totals;
DROP TABLE post_totals;
