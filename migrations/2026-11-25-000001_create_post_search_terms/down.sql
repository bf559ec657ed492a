DROP TRIGGER posts_index_search_terms_on_update ON posts;
DROP TRIGGER posts_index_search_terms_on_insert ON posts;
DROP FUNCTION post_search_terms_of_updated_post();
DROP FUNCTION post_search_terms_of_inserted_posts();
DROP TABLE post_search_terms;
