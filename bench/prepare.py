#!/usr/bin/env python3
"""Generate the Lua tables the write-mix and login runs of bench/run.sh read.

Usage: prepare.py BASE_URL EMAILS_FILE POSTS_FILE OUT_DIR [TOKEN_USERS]

- EMAILS_FILE: one email a line, users whose password is PASSWORD (default password123).
- POSTS_FILE: one published post id a line.
- Logs in the first TOKEN_USERS (default 100) users through POST BASE_URL/api/auth/login and
  writes OUT_DIR/tokens.lua with their access tokens; writes OUT_DIR/users.lua (every email)
  and OUT_DIR/posts.lua (every post id). Each file is `return { "...", ... }`.
Exits non-zero, printing the answer, when a login fails. Standard library only; 127.0.0.1 only.
"""
import json
import os
import sys
import urllib.error
import urllib.request


def lua_table(path, values):
    # JSON string literals of ASCII text are valid Lua string literals.
    with open(path, "w") as f:
        f.write("return {\n")
        for v in values:
            f.write("  " + json.dumps(v, ensure_ascii=True) + ",\n")
        f.write("}\n")


def login(base, email, password):
    req = urllib.request.Request(
        base + "/api/auth/login",
        data=json.dumps({"email": email, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            doc = json.load(r)
    except urllib.error.HTTPError as e:
        raise SystemExit(f"login {email}: HTTP {e.code}: {e.read()[:300]!r}")
    token = (doc.get("tokens") or {}).get("accessToken")
    if not doc.get("success") or not token:
        raise SystemExit(f"login {email}: unexpected answer: {json.dumps(doc)[:300]}")
    return token


def main():
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    base, emails_file, posts_file, out = sys.argv[1:5]
    n_tokens = int(sys.argv[5]) if len(sys.argv) > 5 else 100
    if not (base.startswith("http://127.0.0.1:") or base.startswith("http://localhost:")):
        raise SystemExit(f"refusing non-loopback URL {base}")
    password = os.environ.get("PASSWORD", "password123")
    emails = [l.strip() for l in open(emails_file) if l.strip()]
    posts = [l.strip() for l in open(posts_file) if l.strip()]
    if len(emails) < n_tokens:
        raise SystemExit(f"{emails_file}: {len(emails)} users, {n_tokens} needed")
    if not posts:
        raise SystemExit(f"{posts_file}: no post ids")
    tokens = [login(base, e, password) for e in emails[:n_tokens]]
    lua_table(os.path.join(out, "tokens.lua"), tokens)
    lua_table(os.path.join(out, "users.lua"), emails)
    lua_table(os.path.join(out, "posts.lua"), posts)
    print(f"prepared {len(tokens)} tokens, {len(emails)} login users, {len(posts)} posts in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
