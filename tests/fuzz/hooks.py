"""Schemathesis hooks of the REST fuzz test (tests/it/fuzz.rs loads them through its config file).

Two rules of the legacy REST contract cannot be written in JSON Schema, so the built-in
`positive_data_acceptance` (ST202) and `negative_data_rejection` (ST201) checks are run through
the wrappers below, which let exactly those two cases through and delegate everything else to
the built-in checks unchanged (tests/it/fuzz.rs excludes the built-ins and `--checks all` runs
these instead):

- uniqueness: register and `PUT /api/users/{id}` refuse a username or email that another user
  has with the legacy 400 "User already exists with this email or username" (the document says
  so in words), and a new username with an invisible character or a mix of scripts with a 400
  whose only errors are those two rules' on `username` (JSON Schema cannot state UTS #39's
  single-script rule; the document says it in words). Any other 400 to schema-valid data still
  fails.
- tags: the server trims tags, drops blank ones and merges a tag repeated next to itself before
  it counts them against the limit of 10, which the document states as `maxItems: 10`. A 2xx
  to a body that breaks `maxItems` only before that normalization (the same body with the
  tags normalized is valid) is not a schema-violating request accepted.

The wrappers call schemathesis's own check functions and body validator (internals of the
version pinned in requirements.txt): an upgrade that moves them fails the run loudly.
"""

from itertools import groupby

import schemathesis
from schemathesis.core.jsonschema import make_validator
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

DUPLICATE_ACCOUNT = "User already exists with this email or username"
LOOK_ALIKE_NAMES = {
    "Username cannot contain invisible or control characters",
    "Username cannot mix scripts (such as Latin with Cyrillic or Greek letters)",
}
ACCOUNT_OPERATIONS = {"register", "updateUser"}
TAGGED_OPERATIONS = {"createPost", "updatePost"}
# What Rust's `str::trim` removes: the Unicode White_Space characters (not Python's `str.strip()`).
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


def _operation_id(case):
    return case.operation.definition.raw.get("operationId")


def _json(response):
    try:
        return response.json()
    except Exception:
        return None


@schemathesis.check
def positive_data_acceptance_but_taken_accounts(ctx, response, case):
    """`positive_data_acceptance`, but a taken username or email, or a look-alike new username,
    may be refused."""
    if _operation_id(case) in ACCOUNT_OPERATIONS and response.status_code == 400:
        body = _json(response)
        if isinstance(body, dict) and body.get("message") == DUPLICATE_ACCOUNT:
            return None
        errors = body.get("errors") if isinstance(body, dict) else None
        if (
            isinstance(errors, list)
            and errors
            and all(
                isinstance(error, dict)
                and error.get("path") == "username"
                and error.get("msg") in LOOK_ALIKE_NAMES
                for error in errors
            )
        ):
            return None
    return positive_data_acceptance(ctx, response, case)


def _normalized_tags(tags):
    trimmed = (tag.strip(WHITE_SPACE) for tag in tags)
    return [tag for tag, _ in groupby(tag for tag in trimmed if tag)]


def _valid_once_tags_are_normalized(case):
    body = case.body
    if _operation_id(case) not in TAGGED_OPERATIONS or not isinstance(body, dict):
        return False
    tags = body.get("tags")
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        return False
    normalized = {**body, "tags": _normalized_tags(tags)}
    definition = case.operation.get_body_for_media_type("application/json")
    validator = make_validator(definition.optimized_schema, case.operation.schema.adapter.jsonschema_validator_cls)
    return validator.is_valid(normalized)


@schemathesis.check
def negative_data_rejection_but_normalized_tags(ctx, response, case):
    """`negative_data_rejection`, but tags count after the server's normalization."""
    if 200 <= response.status_code < 300 and _valid_once_tags_are_normalized(case):
        return None
    return negative_data_rejection(ctx, response, case)
