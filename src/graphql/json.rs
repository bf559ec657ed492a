//! The JSON text of a GraphQL answer, written straight from its values.
//!
//! `serde_json::to_vec(&response)` goes through serde's map and sequence machinery for every
//! object and escapes strings one byte at a time; for a nested page (40 KB, about 1,500 strings)
//! that was a sixth of the server's instructions. [`response_to_vec`] writes the same bytes:
//! objects and lists directly, strings checked eight bytes at a time and copied in runs. The
//! rare parts (numbers, errors, extensions, binary values) still go through serde_json.
//!
//! Measured gain: q2_nested 5.12M to 4.95M instructions per request (`valgrind --tool=callgrind`
//! on the release binary, 50 requests minus 10; docs/benchmarks.md, 2026-12-06 afternoon). The
//! tests below hold it to serde_json's bytes: every ASCII byte at every position, and by property
//! test any Unicode text (controls, escapes, non-ASCII) and any answer tree.

use async_graphql::{Response, Value};

/// The answer as `serde_json::to_vec(response)` writes it: `data`, then `extensions` and
/// `errors` when there are any.
pub fn response_to_vec(response: &Response) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 * 1024);
    write_response(&mut out, response);
    out
}

/// A batch's answers, as `serde_json::to_vec` writes a `BatchResponse::Batch`.
pub fn batch_to_vec(responses: &[Response]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 * 1024);
    out.push(b'[');
    for (i, response) in responses.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_response(&mut out, response);
    }
    out.push(b']');
    out
}

fn write_response(out: &mut Vec<u8>, response: &Response) {
    out.extend_from_slice(br#"{"data":"#);
    write_value(out, &response.data);
    if !response.extensions.is_empty() {
        out.extend_from_slice(br#","extensions":"#);
        write_serde(out, &response.extensions);
    }
    if !response.errors.is_empty() {
        out.extend_from_slice(br#","errors":"#);
        write_serde(out, &response.errors);
    }
    out.push(b'}');
}

fn write_serde<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing to a Vec fails only for values serde_json cannot represent (a map with non-string
    // keys), which a GraphQL answer never holds; `null` keeps the text valid all the same.
    let mark = out.len();
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.truncate(mark);
        out.extend_from_slice(b"null");
    }
}

fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        Value::String(text) => write_str(out, text),
        Value::Enum(name) => write_str(out, name),
        Value::Number(number) => write_serde(out, number),
        Value::Binary(_) => write_serde(out, value),
        Value::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(fields) => {
            out.push(b'{');
            for (i, (key, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, key);
                out.push(b':');
                write_value(out, item);
            }
            out.push(b'}');
        }
    }
}

/// A JSON string, escaped as serde_json escapes it.
fn write_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    while let Some(at) = next_to_escape(bytes, start) {
        out.extend_from_slice(&bytes[start..at]);
        write_escape(out, bytes[at]);
        start = at + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// The index of the first byte at or after `from` that JSON needs escaped: a quote, a
/// backslash or a control character.
fn next_to_escape(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // Nonzero exactly when some byte of `x` is zero (the classic has-zero-byte test).
    let zero_lanes = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut chunks = bytes[from..].chunks_exact(8);
    let mut offset = from;
    for chunk in chunks.by_ref() {
        let x = u64::from_ne_bytes(chunk.try_into().expect("chunks of eight bytes"));
        // Bytes below 0x20 have no bit of 0xE0 set; quotes and backslashes are exact matches.
        let control = zero_lanes(x & u64::from_ne_bytes([0xE0; 8]));
        let quote = zero_lanes(x ^ u64::from_ne_bytes([b'"'; 8]));
        let backslash = zero_lanes(x ^ u64::from_ne_bytes([b'\\'; 8]));
        if control | quote | backslash != 0 {
            // The test can also flag lanes above a true one (the subtraction's borrow), so the
            // byte itself is found by a scan of these eight.
            return chunk.iter().position(|&b| needs_escape(b)).map(|at| offset + at);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| needs_escape(b))
        .map(|at| offset + at)
}

fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

fn write_escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match byte {
        b'"' => out.extend_from_slice(br#"\""#),
        b'\\' => out.extend_from_slice(br"\\"),
        b'\n' => out.extend_from_slice(br"\n"),
        b'\r' => out.extend_from_slice(br"\r"),
        b'\t' => out.extend_from_slice(br"\t"),
        0x08 => out.extend_from_slice(br"\b"),
        0x0c => out.extend_from_slice(br"\f"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(byte >> 4)],
            HEX[usize::from(byte & 0xf)],
        ]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::indexmap::IndexMap;
    use async_graphql::{Name, Number, ServerError};

    fn same_as_serde(response: &Response) {
        assert_eq!(
            String::from_utf8(response_to_vec(response)).unwrap(),
            serde_json::to_string(response).unwrap()
        );
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut samples: Vec<String> = vec![
            String::new(),
            "plain ascii text longer than eight bytes".into(),
            "quote \" backslash \\ slash / done".into(),
            "tab\tnewline\nreturn\rbell\u{7}nul\u{0}del\u{7f}".into(),
            "unicode: é, 漢字, 🦀 and \u{2028}".into(),
            "\"\"\"\"\"\"\"\"\"".into(),
            "12345678\"".into(),
            "1234567\u{1f}".into(),
        ];
        // Every byte value below 0x80 at every position of a 17-byte string.
        for byte in 0u8..0x80 {
            for at in 0..17 {
                let mut text = vec![b'a'; 17];
                text[at] = byte;
                samples.push(String::from_utf8(text).unwrap());
            }
        }
        for text in samples {
            let mut out = Vec::new();
            write_str(&mut out, &text);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(&text).unwrap()
            );
        }
    }

    #[test]
    fn answers_are_written_as_serde_json_writes_them() {
        let mut post = IndexMap::new();
        post.insert(Name::new("id"), Value::String("p-1".into()));
        post.insert(Name::new("likeCount"), Value::Number(Number::from(42)));
        post.insert(Name::new("score"), Value::Number(Number::from_f64(1.5).unwrap()));
        post.insert(Name::new("category"), Value::Enum(Name::new("TECHNOLOGY")));
        post.insert(Name::new("published"), Value::Boolean(true));
        post.insert(Name::new("draft"), Value::Boolean(false));
        post.insert(Name::new("author"), Value::Null);
        post.insert(Name::new("raw"), Value::Binary(vec![1u8, 2, 255].into()));
        post.insert(
            Name::new("tags"),
            Value::List(vec![Value::String("a\"b".into()), Value::List(vec![])]),
        );
        post.insert(Name::new("empty"), Value::Object(IndexMap::new()));
        let mut data = IndexMap::new();
        data.insert(Name::new("post"), Value::Object(post));

        let response = Response::new(Value::Object(data.clone()));
        same_as_serde(&response);
        same_as_serde(&Response::new(Value::Object(data)).extension("cost", Value::Number(Number::from(7))));
        same_as_serde(&Response::from_errors(vec![ServerError::new(
            "bad \"input\"",
            None,
        )]));
        same_as_serde(&Response::new(Value::Null));

        let batch = vec![response, Response::new(Value::Null)];
        assert_eq!(
            batch_to_vec(&batch),
            serde_json::to_vec(&async_graphql::BatchResponse::Batch(batch)).unwrap()
        );
    }
}

#[cfg(test)]
mod properties {
    use async_graphql::indexmap::IndexMap;
    use async_graphql::{Name, Number, Response, Value};
    use proptest::prelude::*;

    use super::*;

    /// Any answer tree: strings of any Unicode (controls, quotes, backslashes, astral
    /// characters), numbers, booleans, nulls, enums, lists and objects, a few levels deep.
    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<String>().prop_map(Value::String),
            "[\\u{0}-\\u{1f}\"\\\\/a\\u{7f}\\u{80}-\\u{10ffff}]{0,24}".prop_map(Value::String),
            any::<i64>().prop_map(|n| Value::Number(Number::from(n))),
            any::<bool>().prop_map(Value::Boolean),
            Just(Value::Null),
            "[A-Z][A-Z_]{0,8}".prop_map(|e| Value::Enum(Name::new(e))),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
                prop::collection::vec((any::<String>(), inner), 0..6).prop_map(|fields| {
                    Value::Object(
                        fields
                            .into_iter()
                            .map(|(k, v)| (Name::new(k), v))
                            .collect::<IndexMap<_, _>>(),
                    )
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_text_is_escaped_as_serde_json_escapes_it(text in any::<String>()) {
            let mut out = Vec::new();
            write_str(&mut out, &text);
            prop_assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&text).unwrap());
        }

        #[test]
        fn any_answer_is_written_as_serde_json_writes_it(data in value()) {
            let response = Response::new(data);
            prop_assert_eq!(response_to_vec(&response), serde_json::to_vec(&response).unwrap());
        }
    }
}
