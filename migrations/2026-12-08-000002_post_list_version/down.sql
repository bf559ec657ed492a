DROP TRIGGER posts_list_version_on_update ON posts;
DROP TRIGGER posts_list_version_on_insert_or_delete ON posts;
DROP FUNCTION post_list_version_bump();
DROP TABLE post_list_version;
