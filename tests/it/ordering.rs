//! The ordering oracle: every connection, paged to its end with random page sizes (1..=100), lists
//! exactly the ids of one plain SQL query of the same order (no duplicate, no gap, exact
//! `hasNextPage`), and every legacy REST list's OFFSET pages and totals likewise, on data of
//! benchmark size, under both plan shapes Postgres can pick for a
//! prepared statement (`plan_cache_mode = force_custom_plan` and `force_generic_plan`).
//!
//! It runs on two data sets, because the planner's joins depend on the sizes: on the default demo
//! data it joins comment pages to their 50 authors with a hash join, which hands rows out in the
//! users table's order unless the statement orders them outside the join; on benchmark-size data
//! it picks nested loops and other index paths.

use std::time::Instant;

use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::common::{TestApp, TestDb, binary, sql_ids, test_config};

/// The benchmark's sizes (`../shared/bench`), so that the planner picks the same joins.
const SEED_ARGS: [&str; 8] = [
    "--users",
    "1000",
    "--posts",
    "20000",
    "--comments",
    "100000",
    "--likes",
    "200000",
];

/// One list to page through: the GraphQL field (with `$first`/`$after` and a path to its
/// connection) and the SQL that lists the same ids in the same order.
struct Listing {
    name: String,
    document: String,
    path: Vec<&'static str>,
    variables: Value,
    sql: String,
}

fn root_posts(name: &str, arguments: &str, variables: Value, sql_where: &str, sql_order: &str) -> Listing {
    Listing {
        name: name.to_owned(),
        document: format!(
            "query P($first: Int!, $after: String {extra}) {{ posts(first: $first, after: $after {arguments}) \
             {{ nodes {{ id }} pageInfo {{ hasNextPage endCursor }} }} }}",
            extra = declared(&variables),
        ),
        path: vec!["posts"],
        variables,
        sql: format!("SELECT id FROM posts WHERE is_published {sql_where} ORDER BY {sql_order}"),
    }
}

/// The declarations of the extra variables a listing sends (all strings or enums).
fn declared(variables: &Value) -> String {
    variables
        .as_object()
        .map(|vars| {
            vars.keys()
                .map(|k| match k.as_str() {
                    "sort" => ", $sort: PostSort!".to_owned(),
                    "category" => ", $category: Category".to_owned(),
                    "authorId" => ", $authorId: ID".to_owned(),
                    other => format!(", ${other}: String"),
                })
                .collect::<String>()
        })
        .unwrap_or_default()
}

/// Pages through `listing` to its end and compares it with its SQL; returns the pages read.
async fn page_through(
    app: &TestApp,
    conn: &mut AsyncPgConnection,
    listing: &Listing,
    token: Option<&str>,
    rng: &mut StdRng,
    seed: u64,
) -> usize {
    let expected = sql_ids(conn, &listing.sql).await;
    let mut seen: Vec<String> = Vec::with_capacity(expected.len());
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let first: i64 = rng.random_range(1..=100);
        let mut variables = listing.variables.clone();
        variables["first"] = json!(first);
        variables["after"] = json!(after);
        let data = app.graphql_ok(&listing.document, variables, token).await;
        let mut connection = &data;
        for key in &listing.path {
            connection = &connection[key];
        }
        let nodes = connection["nodes"].as_array().expect("nodes");
        let start = seen.len();
        seen.extend(nodes.iter().map(|n| n["id"].as_str().unwrap().to_owned()));
        pages += 1;
        let has_next = connection["pageInfo"]["hasNextPage"].as_bool().unwrap();
        assert_eq!(
            seen[start..],
            expected[start.min(expected.len())..seen.len().min(expected.len())],
            "{} (seed {seed}): page {pages} (first: {first}) differs from the SQL order",
            listing.name
        );
        assert_eq!(
            has_next,
            seen.len() < expected.len(),
            "{} (seed {seed}): hasNextPage after {} of {} rows",
            listing.name,
            seen.len(),
            expected.len()
        );
        if !has_next {
            break;
        }
        assert_eq!(
            nodes.len() as i64,
            first,
            "{}: a page short of `first` with more to come",
            listing.name
        );
        after = Some(
            connection["pageInfo"]["endCursor"]
                .as_str()
                .expect("endCursor")
                .to_owned(),
        );
        assert!(
            pages <= expected.len() + 1,
            "{}: paging does not end",
            listing.name
        );
    }
    assert_eq!(seen, expected, "{} (seed {seed}): the whole list", listing.name);
    pages
}

/// The same listing read backward: `last`/`before` from the end, `hasPreviousPage` and
/// `startCursor`.
fn backward(listing: &Listing) -> Listing {
    let document = listing
        .document
        .replace("$first: Int!, $after: String", "$last: Int!, $before: String")
        .replace("first: $first, after: $after", "last: $last, before: $before")
        .replace("hasNextPage endCursor", "hasPreviousPage startCursor");
    assert!(
        document.contains("last: $last, before: $before") && document.contains("startCursor"),
        "{}: the document has no forward arguments to turn around",
        listing.name
    );
    Listing {
        name: format!("{} backward", listing.name),
        document,
        path: listing.path.clone(),
        variables: listing.variables.clone(),
        sql: listing.sql.clone(),
    }
}

/// Pages through `listing` backward from its end (see [`backward`]) and compares every page
/// with the end of its SQL; returns the pages read.
async fn page_back(
    app: &TestApp,
    conn: &mut AsyncPgConnection,
    listing: &Listing,
    token: Option<&str>,
    rng: &mut StdRng,
    seed: u64,
) -> usize {
    let listing = backward(listing);
    let expected = sql_ids(conn, &listing.sql).await;
    // Read from the end: `seen` holds the tail of the list, in the list's order.
    let mut seen: Vec<String> = Vec::with_capacity(expected.len());
    let mut before: Option<String> = None;
    let mut pages = 0;
    loop {
        let last: i64 = rng.random_range(1..=100);
        let mut variables = listing.variables.clone();
        variables["last"] = json!(last);
        variables["before"] = json!(before);
        let data = app.graphql_ok(&listing.document, variables, token).await;
        let mut connection = &data;
        for key in &listing.path {
            connection = &connection[key];
        }
        let nodes: Vec<String> = connection["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect();
        pages += 1;
        let mut tail = nodes.clone();
        tail.extend(seen);
        seen = tail;
        let from = expected.len().saturating_sub(seen.len());
        assert_eq!(
            seen,
            expected[from..],
            "{} (seed {seed}): page {pages} (last: {last}) differs from the end of the SQL order",
            listing.name
        );
        let has_previous = connection["pageInfo"]["hasPreviousPage"].as_bool().unwrap();
        assert_eq!(
            has_previous,
            seen.len() < expected.len(),
            "{} (seed {seed}): hasPreviousPage with {} of {} rows read",
            listing.name,
            seen.len(),
            expected.len()
        );
        if !has_previous {
            break;
        }
        assert_eq!(
            nodes.len() as i64,
            last,
            "{}: a page short of `last` with more before it",
            listing.name
        );
        before = Some(
            connection["pageInfo"]["startCursor"]
                .as_str()
                .expect("startCursor")
                .to_owned(),
        );
        assert!(
            pages <= expected.len() + 1,
            "{}: paging does not end",
            listing.name
        );
    }
    assert_eq!(seen, expected, "{} (seed {seed}): the whole list", listing.name);
    pages
}

/// One legacy REST list (`GET /api/posts?...`, OFFSET pages with a total) and the SQL that
/// lists the same ids in the same order.
struct RestListing {
    query: String,
    sql: String,
}

/// Reads pages of a REST listing at one seeded page size (the first two, a middle one, the last
/// and one past it) and compares each with its slice of the SQL list, and the total and page
/// count with the SQL's; returns the pages read.
async fn rest_pages(
    app: &TestApp,
    conn: &mut AsyncPgConnection,
    listing: &RestListing,
    rng: &mut StdRng,
    seed: u64,
) -> usize {
    let expected = sql_ids(conn, &listing.sql).await;
    let limit: usize = rng.random_range(1..=100);
    let last = expected.len().div_ceil(limit).max(1);
    let mut pages = vec![1, 2, rng.random_range(1..=last), last, last + 1];
    pages.dedup();
    for page in &pages {
        let path = format!("/api/posts?{}&page={page}&limit={limit}", listing.query);
        let response = app.get(&path, None).await;
        assert_eq!(response.status, 200, "{path}: {}", response.text);
        let got = response.data_ids();
        let from = ((page - 1) * limit).min(expected.len());
        let want: Vec<&str> = expected[from..(from + limit).min(expected.len())]
            .iter()
            .map(String::as_str)
            .collect();
        assert_eq!(got, want, "{path} (seed {seed}): differs from the SQL order");
        assert_eq!(
            response.body["pagination"]["total"],
            json!(expected.len()),
            "{path} (seed {seed}): total"
        );
        assert_eq!(
            response.body["pagination"]["pages"],
            json!(expected.len().div_ceil(limit)),
            "{path} (seed {seed}): pages"
        );
    }
    pages.len()
}

/// Post ids in a fixed order: the one with the most comments first, then a seeded sample.
async fn sample(
    conn: &mut AsyncPgConnection,
    sql_largest: &str,
    sql_all: &str,
    rng: &mut StdRng,
    n: usize,
) -> Vec<String> {
    let mut ids = sql_ids(conn, sql_largest).await;
    let all = sql_ids(conn, sql_all).await;
    for _ in 0..n {
        ids.push(all[rng.random_range(0..all.len())].clone());
    }
    ids
}

/// The default demo data (`blog-gateway seed`): with 50 users the planner hashes the users
/// table, and the comment pages came back in its order (the bug this oracle was written for).
#[tokio::test]
async fn every_page_of_the_demo_data_matches_plain_sql_under_custom_and_generic_plans() {
    oracle("demo data", &[]).await;
}

/// Benchmark size: the planner picks other joins and other index paths.
#[tokio::test]
async fn every_page_of_benchmark_size_data_matches_plain_sql_under_custom_and_generic_plans() {
    oracle("benchmark size", &SEED_ARGS).await;
}

async fn oracle(data_set: &str, seed_args: &[&str]) {
    let seed: u64 = std::env::var("ORDERING_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_207);
    let started = Instant::now();
    let db = TestDb::new().await;
    let output = binary()
        .arg("seed")
        .args(seed_args)
        .args(["--database-url", &db.url])
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "seed failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!(
        "ordering oracle ({data_set}): seeded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut conn = db.connect().await;
    let db_name = db.name.clone();
    let db_url = db.url.clone();
    let db = std::sync::Arc::new(db);

    // The lists: every root sort, the filters, and nested connections on the largest parents
    // and a seeded sample of others.
    let mut rng = StdRng::seed_from_u64(seed);
    let top_author = sql_ids(
        &mut conn,
        "SELECT author_id AS id FROM posts WHERE is_published GROUP BY author_id ORDER BY count(*) DESC, author_id LIMIT 1",
    )
    .await
    .remove(0);
    let mut listings = Vec::new();
    for (sort, order) in [
        ("NEWEST", "created_at DESC, id"),
        ("OLDEST", "created_at, id"),
        ("UPDATED_DESC", "updated_at DESC, id"),
        ("UPDATED_ASC", "updated_at, id"),
        ("TITLE_ASC", "title, id"),
        ("TITLE_DESC", "title DESC, id"),
        ("POPULAR", "popularity DESC, id"),
    ] {
        listings.push(root_posts(
            &format!("posts(sort: {sort})"),
            ", sort: $sort",
            json!({ "sort": sort }),
            "",
            order,
        ));
        listings.push(root_posts(
            &format!("posts(category: HEALTH, sort: {sort})"),
            ", category: $category, sort: $sort",
            json!({ "category": "HEALTH", "sort": sort }),
            "AND category = 'health'",
            order,
        ));
    }
    listings.push(root_posts(
        "posts(authorId)",
        ", authorId: $authorId",
        json!({ "authorId": top_author }),
        &format!("AND author_id = '{top_author}'"),
        "created_at DESC, id",
    ));
    let top_tag: String = {
        #[derive(diesel::QueryableByName)]
        struct Tag {
            #[diesel(sql_type = diesel::sql_types::Text)]
            tag: String,
        }
        diesel::sql_query(
            "SELECT t AS tag FROM posts, unnest(tags) t WHERE is_published GROUP BY t ORDER BY count(*) DESC, t LIMIT 1",
        )
        .load::<Tag>(&mut conn)
        .await
        .unwrap()
        .remove(0)
        .tag
    };
    listings.push(root_posts(
        "posts(tag, OLDEST)",
        ", tag: $tag, sort: OLDEST",
        json!({ "tag": top_tag }),
        &format!("AND tags @> ARRAY['{top_tag}']"),
        "created_at, id",
    ));
    for search in ["rust", "database performance", "\"web development\" -react"] {
        let matches = format!(
            "AND search @@ websearch_to_tsquery('english', '{}')",
            search.replace('\'', "''")
        );
        listings.push(root_posts(
            &format!("posts(search: {search:?})"),
            ", search: $search",
            json!({ "search": search }),
            &matches,
            "created_at DESC, id",
        ));
        listings.push(root_posts(
            &format!("posts(search: {search:?}, RELEVANCE)"),
            ", search: $search, sort: RELEVANCE",
            json!({ "search": search }),
            &matches,
            &format!(
                "ts_rank(search, websearch_to_tsquery('english', '{}')) DESC, id",
                search.replace('\'', "''")
            ),
        ));
    }
    listings.push(Listing {
        name: "users".to_owned(),
        document: "query U($first: Int!, $after: String) { users(first: $first, after: $after) \
                   { nodes { id } pageInfo { hasNextPage endCursor } } }"
            .to_owned(),
        path: vec!["users"],
        variables: json!({}),
        sql: "SELECT id FROM users ORDER BY created_at DESC, id".to_owned(),
    });
    let commented = sample(
        &mut conn,
        "SELECT id FROM posts WHERE is_published ORDER BY comments_count DESC, id LIMIT 1",
        "SELECT id FROM posts WHERE is_published AND comments_count > 0 ORDER BY id",
        &mut rng,
        8,
    )
    .await;
    for post in &commented {
        listings.push(Listing {
            name: format!("post({post}).comments"),
            document: "query C($id: ID!, $first: Int!, $after: String) { post(id: $id) { \
                       comments(first: $first, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } }"
                .to_owned(),
            path: vec!["post", "comments"],
            variables: json!({ "id": post }),
            sql: format!("SELECT id FROM comments WHERE post_id = '{post}' ORDER BY created_at, id"),
        });
    }
    let authors = sample(
        &mut conn,
        &format!("SELECT '{top_author}'::uuid AS id"),
        "SELECT id FROM users ORDER BY id",
        &mut rng,
        4,
    )
    .await;
    for author in &authors {
        listings.push(Listing {
            name: format!("user({author}).posts"),
            document: "query A($id: ID!, $first: Int!, $after: String) { user(id: $id) { \
                       posts(first: $first, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } }"
                .to_owned(),
            path: vec!["user", "posts"],
            variables: json!({ "id": author }),
            // Read anonymously: published posts only.
            sql: format!(
                "SELECT id FROM posts WHERE is_published AND author_id = '{author}' ORDER BY created_at DESC, id"
            ),
        });
    }

    // The legacy REST list: every sort, unfiltered and with each filter.
    let mut rest_listings = Vec::new();
    for (sort, order) in [
        ("-createdAt", "created_at DESC, id"),
        ("createdAt", "created_at, id"),
        ("-updatedAt", "updated_at DESC, id"),
        ("updatedAt", "updated_at, id"),
        ("title", "title, id"),
        ("-title", "title DESC, id"),
    ] {
        for (query, sql_where) in [
            (String::new(), String::new()),
            (
                "&category=health".to_owned(),
                "AND category = 'health'".to_owned(),
            ),
            (
                format!("&author={top_author}"),
                format!("AND author_id = '{top_author}'"),
            ),
            (
                format!("&tag={top_tag}"),
                format!("AND tags @> ARRAY['{top_tag}']"),
            ),
            (
                format!("&category=technology&author={top_author}"),
                format!("AND category = 'technology' AND author_id = '{top_author}'"),
            ),
        ] {
            rest_listings.push(RestListing {
                query: format!("sort={sort}{query}"),
                sql: format!("SELECT id FROM posts WHERE is_published {sql_where} ORDER BY {order}"),
            });
        }
    }
    rest_listings.push(RestListing {
        query: "search=rust".to_owned(),
        sql: "SELECT id FROM posts WHERE is_published AND search @@ websearch_to_tsquery('english', 'rust') \
              ORDER BY created_at DESC, id"
            .to_owned(),
    });

    for mode in ["force_custom_plan", "force_generic_plan"] {
        diesel::sql_query(format!(
            "ALTER DATABASE \"{db_name}\" SET plan_cache_mode = {mode}"
        ))
        .execute(&mut conn)
        .await
        .unwrap();
        let started = Instant::now();
        // A new instance: a new pool, whose connections start with the setting.
        let app = TestApp::on_shared_database(db.clone(), test_config(&db_url, &[])).await;
        let admin = app
            .graphql_ok(
                r#"mutation { login(email: "admin@example.com", password: "password123") { tokens { accessToken } } }"#,
                json!({}),
                None,
            )
            .await["login"]["tokens"]["accessToken"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut pages = 0;
        for listing in &listings {
            // Users are listed to admins only.
            let token = if listing.path == ["users"] {
                Some(admin.as_str())
            } else {
                None
            };
            // Each of the first five runs of a statement on a connection is planned for its
            // parameters, the later ones may use the generic plan: both happen across a listing.
            pages += page_through(&app, &mut conn, listing, token, &mut rng, seed).await;
            pages += page_back(&app, &mut conn, listing, token, &mut rng, seed).await;
        }
        for listing in &rest_listings {
            pages += rest_pages(&app, &mut conn, listing, &mut rng, seed).await;
        }
        // First pages of many parents at once: the batched statements, checked parent by parent.
        for (first, sort) in [(7, "POPULAR"), (3, "NEWEST"), (100, "POPULAR")] {
            let data = app
                .graphql_ok(
                    &format!(
                        "{{ posts(first: 50, sort: {sort}) {{ nodes {{ id comments(first: {first}) \
                         {{ nodes {{ id }} pageInfo {{ hasNextPage }} }} }} }} }}"
                    ),
                    json!({}),
                    None,
                )
                .await;
            for post in data["posts"]["nodes"].as_array().unwrap() {
                let id = post["id"].as_str().unwrap();
                let all = sql_ids(
                    &mut conn,
                    &format!("SELECT id FROM comments WHERE post_id = '{id}' ORDER BY created_at, id"),
                )
                .await;
                let got: Vec<&str> = post["comments"]["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n["id"].as_str().unwrap())
                    .collect();
                let want: Vec<&str> = all.iter().take(first).map(String::as_str).collect();
                assert_eq!(
                    got, want,
                    "{mode}: first {first} comments of post {id} in a batch"
                );
                assert_eq!(
                    post["comments"]["pageInfo"]["hasNextPage"],
                    json!(all.len() > first),
                    "{mode}: hasNextPage of post {id}'s first {first} comments in a batch"
                );
            }
        }
        let data = app
            .graphql_ok(
                "{ users(first: 100) { nodes { id posts(first: 4) { nodes { id } pageInfo { hasNextPage } } } } }",
                json!({}),
                Some(&admin),
            )
            .await;
        for user in data["users"]["nodes"].as_array().unwrap() {
            let id = user["id"].as_str().unwrap();
            let all = sql_ids(
                &mut conn,
                &format!("SELECT id FROM posts WHERE author_id = '{id}' ORDER BY created_at DESC, id"),
            )
            .await;
            let got: Vec<&str> = user["posts"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["id"].as_str().unwrap())
                .collect();
            let want: Vec<&str> = all.iter().take(4).map(String::as_str).collect();
            assert_eq!(
                got, want,
                "{mode}: first posts of user {id} in a batch (admin sees drafts)"
            );
            assert_eq!(user["posts"]["pageInfo"]["hasNextPage"], json!(all.len() > 4));
        }
        // Last pages of many parents at once: the batched statements read from the end.
        for (last, sort) in [(7, "POPULAR"), (3, "NEWEST"), (100, "POPULAR")] {
            let data = app
                .graphql_ok(
                    &format!(
                        "{{ posts(last: 50, sort: {sort}) {{ nodes {{ id comments(last: {last}) \
                         {{ nodes {{ id }} pageInfo {{ hasPreviousPage hasNextPage }} }} }} }} }}"
                    ),
                    json!({}),
                    None,
                )
                .await;
            for post in data["posts"]["nodes"].as_array().unwrap() {
                let id = post["id"].as_str().unwrap();
                let all = sql_ids(
                    &mut conn,
                    &format!("SELECT id FROM comments WHERE post_id = '{id}' ORDER BY created_at, id"),
                )
                .await;
                let got: Vec<&str> = post["comments"]["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n["id"].as_str().unwrap())
                    .collect();
                let want: Vec<&str> = all[all.len().saturating_sub(last)..]
                    .iter()
                    .map(String::as_str)
                    .collect();
                assert_eq!(got, want, "{mode}: last {last} comments of post {id} in a batch");
                assert_eq!(
                    post["comments"]["pageInfo"]["hasPreviousPage"],
                    json!(all.len() > last),
                    "{mode}: hasPreviousPage of post {id}'s last {last} comments in a batch"
                );
                assert_eq!(post["comments"]["pageInfo"]["hasNextPage"], json!(false));
            }
        }
        let data = app
            .graphql_ok(
                "{ users(last: 100) { nodes { id posts(last: 4) { nodes { id } pageInfo { hasPreviousPage } } } } }",
                json!({}),
                Some(&admin),
            )
            .await;
        for user in data["users"]["nodes"].as_array().unwrap() {
            let id = user["id"].as_str().unwrap();
            let all = sql_ids(
                &mut conn,
                &format!("SELECT id FROM posts WHERE author_id = '{id}' ORDER BY created_at DESC, id"),
            )
            .await;
            let got: Vec<&str> = user["posts"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["id"].as_str().unwrap())
                .collect();
            let want: Vec<&str> = all[all.len().saturating_sub(4)..]
                .iter()
                .map(String::as_str)
                .collect();
            assert_eq!(
                got, want,
                "{mode}: last posts of user {id} in a batch (admin sees drafts)"
            );
            assert_eq!(user["posts"]["pageInfo"]["hasPreviousPage"], json!(all.len() > 4));
        }
        eprintln!(
            "ordering oracle ({data_set}, {mode}): {} listings, {pages} pages in {:.1} s",
            listings.len(),
            started.elapsed().as_secs_f64()
        );
    }
}
