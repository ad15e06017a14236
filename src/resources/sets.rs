//! Lists CloudFront treats as sets. Its API promises no order for them
//! (botocore's model declares plain lists; terraform-provider-aws reads
//! aliases, origins, allowed and cached methods, associations, key group
//! items and policy name lists into `schema.TypeSet`), and it may answer
//! them in another order than sent. A live view therefore takes the spec's
//! order for such a list whenever both hold the same members, so a
//! reordering alone is no drift (no `plan` line, no write), while an added
//! or removed member still differs. Ordered lists (cache behaviours, an
//! origin group's members) are never passed here.

/// Gives `live` the order of `spec` when both hold the same members
/// (counting repeats); otherwise leaves it as read, so the difference shows.
pub fn follow<T: Ord + Clone>(live: &mut Vec<T>, spec: &[T]) {
    let mut ours = spec.to_vec();
    let mut theirs = live.clone();
    ours.sort();
    theirs.sort();
    if ours == theirs {
        *live = spec.to_vec();
    }
}

#[cfg(test)]
mod tests {
    use super::follow;

    #[test]
    fn the_same_members_in_another_order_take_the_specs_order() {
        let mut live = vec!["b", "c", "a"];
        follow(&mut live, &["a", "b", "c"]);
        assert_eq!(live, ["a", "b", "c"]);
    }

    #[test]
    fn a_member_added_removed_or_repeated_still_differs() {
        for spec in [&["a", "b", "c", "d"][..], &["a", "b"], &["a", "a", "b", "c"]] {
            let mut live = vec!["c", "b", "a"];
            follow(&mut live, spec);
            assert_eq!(live, ["c", "b", "a"], "against {spec:?}");
        }
    }
}
