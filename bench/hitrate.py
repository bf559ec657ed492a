#!/usr/bin/env python3
"""The response cache's hit rate under a read/write mix (issue 22, part 3).

Anonymous GraphQL reads of one post each (GET, so the cache serves them), the post drawn from a
Zipf distribution over the published posts (rank 1 the most read); a share of the requests are
writes by signed-in users on posts drawn from the same distribution: half likes (a like, or the
unlike of an earlier like), half comments. Prints one JSON line: reads, hits, hit rate, writes,
errors, seconds.

Usage: hitrate.py BASE_URL POST_IDS_FILE TOKENS_FILE [--requests N] [--write-share F]
                  [--zipf S] [--threads T] [--seed K]
"""

import argparse
import bisect
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse

READ = (
    '{ post(id: "%s") { id title likeCount commentCount author { username } '
    "comments(first: 5) { edges { node { content author { username } } } } } }"
)


def zipf_table(n, s):
    weights = [1.0 / (rank ** s) for rank in range(1, n + 1)]
    total = sum(weights)
    cumulative, running = [], 0.0
    for w in weights:
        running += w / total
        cumulative.append(running)
    return cumulative


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("posts")
    parser.add_argument("tokens")
    parser.add_argument("--requests", type=int, default=40000)
    parser.add_argument("--write-share", type=float, default=0.02)
    parser.add_argument("--zipf", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    posts = [line.strip() for line in open(args.posts) if line.strip()]
    tokens = [line.strip() for line in open(args.tokens) if line.strip()]
    cumulative = zipf_table(len(posts), args.zipf)
    target = urllib.parse.urlparse(args.base)

    # The whole sequence is drawn up front from the seed: both servers get the same requests.
    rng = random.Random(args.seed)
    plan = []
    for _ in range(args.requests):
        post = posts[min(bisect.bisect_left(cumulative, rng.random()), len(posts) - 1)]
        if rng.random() < args.write_share:
            kind = "like" if rng.random() < 0.5 else "comment"
            plan.append((kind, post, rng.randrange(len(tokens))))
        else:
            plan.append(("read", post, None))

    counts = {"reads": 0, "hits": 0, "writes": 0, "errors": 0}
    liked = set()
    lock = threading.Lock()
    cursor = iter(enumerate(plan))

    def worker():
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        while True:
            with lock:
                item = next(cursor, None)
            if item is None:
                return
            _, (kind, post, who) = item
            if kind == "read":
                path = "/graphql?query=" + urllib.parse.quote(READ % post)
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                with lock:
                    counts["reads"] += 1
                    counts["hits"] += response.getheader("x-cache") == "HIT"
                    counts["errors"] += response.status != 200
                continue
            headers = {"authorization": "Bearer " + tokens[who], "content-type": "application/json"}
            if kind == "like":
                with lock:
                    unlike = (who, post) in liked
                    (liked.discard if unlike else liked.add)((who, post))
                mutation = "unlikePost" if unlike else "likePost"
                body = {"query": "mutation($id: ID!) { %s(id: $id) { id } }" % mutation, "variables": {"id": post}}
            else:
                body = {
                    "query": "mutation($id: ID!) { addComment(postId: $id, content: \"A comment from the hit-rate run\") { id } }",
                    "variables": {"id": post},
                }
            conn.request("POST", "/graphql", body=json.dumps(body), headers=headers)
            response = conn.getresponse()
            text = response.read()
            with lock:
                counts["writes"] += 1
                counts["errors"] += response.status != 200 or b'"errors"' in text

    started = time.time()
    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts["seconds"] = round(time.time() - started, 1)
    counts["hit_rate"] = round(counts["hits"] / max(counts["reads"], 1), 4)
    print(json.dumps(counts))
    return 1 if counts["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
