//! Policy documents compared by meaning, not by text. S3 may hand a bucket
//! policy back rewritten (no whitespace, `"Sid": ""` added, a one-element
//! list as its element, actions sorted, an account id as its root ARN; see
//! tests/emulator/ahi_emulator/s3_policy.py for the sources), so a literal
//! comparison would show drift on every run and every `up` would rewrite
//! the policy. terraform-provider-aws compares the same way
//! (`verify.PolicyStringsEquivalent`).

use serde_json::{Map, Value};

/// A policy document (with `Statement`) or one statement in one spelling
/// per meaning: statements as a set, every list-or-string element as a
/// sorted, deduplicated list, an empty `Sid` dropped, `Principal: "*"` as
/// `{"AWS": ["*"]}`, a 12-digit account as its root ARN.
pub fn canonical(doc: &Value) -> Value {
    let Value::Object(map) = doc else {
        return doc.clone();
    };
    let Some(statements) = map.get("Statement") else {
        return statement(doc);
    };
    let mut all: Vec<Value> = one_or_many(statements).iter().map(statement).collect();
    all.sort_by_key(Value::to_string);
    all.dedup();
    let mut out = map.clone();
    out.insert("Statement".into(), Value::Array(all));
    Value::Object(out)
}

/// Gives `live` (a document or a statement) the text of `spec` when both mean the same, so a
/// normalised answer alone is no drift; otherwise leaves it as read.
pub fn follow(live: &mut Value, spec: &Value) {
    if canonical(live) == canonical(spec) {
        *live = spec.clone();
    }
}

/// One statement in canonical form (see [`canonical`]).
pub fn statement(s: &Value) -> Value {
    let Value::Object(map) = s else {
        return s.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        let value = match key.as_str() {
            "Sid" if value.as_str() == Some("") => continue,
            "Action" | "NotAction" | "Resource" | "NotResource" => set(value),
            "Principal" | "NotPrincipal" => principal(value),
            "Condition" => condition(value),
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

fn one_or_many(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items.clone(),
        one => vec![one.clone()],
    }
}

fn set(v: &Value) -> Value {
    let mut items = one_or_many(v);
    items.sort_by_key(Value::to_string);
    items.dedup();
    Value::Array(items)
}

fn principal(v: &Value) -> Value {
    let map = match v {
        Value::String(s) if s == "*" => {
            let mut m = Map::new();
            m.insert("AWS".into(), Value::String("*".into()));
            m
        }
        Value::Object(m) => m.clone(),
        other => return other.clone(),
    };
    let mut out = Map::new();
    for (kind, names) in map {
        let names: Vec<Value> = one_or_many(&names)
            .into_iter()
            .map(|n| match n.as_str() {
                Some(id) if kind == "AWS" && id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) => {
                    Value::String(format!("arn:aws:iam::{id}:root"))
                }
                _ => n,
            })
            .collect();
        out.insert(kind, set(&Value::Array(names)));
    }
    Value::Object(out)
}

fn condition(v: &Value) -> Value {
    let Value::Object(operators) = v else {
        return v.clone();
    };
    let mut out = Map::new();
    for (operator, keys) in operators {
        let keys = match keys {
            Value::Object(k) => {
                Value::Object(k.iter().map(|(key, value)| (key.clone(), set(value))).collect())
            }
            other => other.clone(),
        };
        out.insert(operator.clone(), keys);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ours() -> Value {
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
             "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::b"],
             "Condition": {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::1:distribution/E1"}}},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::b/*"],
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
        ]})
    }

    #[test]
    fn s3s_rewrites_of_a_policy_mean_the_same() {
        // As S3 may answer it (tests/emulator/ahi_emulator/s3_policy.py).
        let normalised = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": "arn:aws:s3:::b/*",
             "Condition": {"Bool": {"aws:SecureTransport": ["false"]}}},
            {"Sid": "Read", "Effect": "Allow", "Principal": {"Service": ["cloudfront.amazonaws.com"]},
             "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
             "Condition": {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::1:distribution/E1"}}}
        ]});
        let mut live = normalised.clone();
        follow(&mut live, &ours());
        assert_eq!(live, ours());
        let mut one = normalised["Statement"][1].clone();
        follow(&mut one, &ours()["Statement"][0]);
        assert_eq!(one, ours()["Statement"][0], "a statement alone too");
        let account = json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "123456789012"}}});
        let root = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::123456789012:root"]}}]});
        assert_eq!(canonical(&account), canonical(&root));
    }

    #[test]
    fn a_change_of_meaning_still_differs() {
        let changes: [(&str, Value); 6] = [
            ("/Statement/0/Effect", json!("Deny")),
            ("/Statement/0/Action", json!("s3:GetObject")),
            (
                "/Statement/0/Resource",
                json!(["arn:aws:s3:::b/*", "arn:aws:s3:::c"]),
            ),
            ("/Statement/0/Principal", json!("*")),
            (
                "/Statement/0/Condition/StringEquals/AWS:SourceArn",
                json!("arn:aws:cloudfront::1:distribution/E2"),
            ),
            ("/Statement/0/Sid", json!("Other")),
        ];
        for (pointer, value) in changes {
            let mut live = ours();
            *live.pointer_mut(pointer).unwrap() = value;
            let read = live.clone();
            follow(&mut live, &ours());
            assert_eq!(live, read, "{pointer} changed meaning but was taken as the same");
        }
        let mut fewer = ours();
        fewer["Statement"].as_array_mut().unwrap().pop();
        assert_ne!(canonical(&fewer), canonical(&ours()));
    }
}
