//! TOML configs with errors a person can act on: an unknown key names the nearest valid one.

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;

/// Parses `text` (from `origin`) into `T`, turning serde's "unknown field" into a suggestion.
pub fn parse<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T> {
    toml::from_str(text)
        .map_err(|e| Error::Config(format!("{origin}: {}", explain(&e.to_string()))))
}

/// Rewrites serde's "unknown field `x`, expected one of `a`, `b`" with the nearest valid key.
fn explain(msg: &str) -> String {
    let Some(rest) = msg.split("unknown field `").nth(1) else {
        return msg.trim().to_string();
    };
    let key = rest.split('`').next().unwrap_or_default();
    let candidates: Vec<&str> = rest
        .split("expected ")
        .nth(1)
        .map_or(vec![], |list| list.split('`').skip(1).step_by(2).collect());
    let nearest = candidates.iter().min_by_key(|c| levenshtein(key, c));
    let location = msg.lines().next().unwrap_or_default().trim();
    match nearest {
        Some(n) => format!(
            "unknown key `{key}` ({location}); did you mean `{n}`? Valid keys here: {}",
            candidates.join(", ")
        ),
        None => msg.trim().to_string(),
    }
}

/// Edit distance between two strings.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + (ca != *cb) as usize)
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelled_key_names_the_nearest() {
        let err =
            parse::<crate::optim::OptimConfig>("lr = 0.1\nmomentun = 0.9\n", "x.toml").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("`momentun`") && msg.contains("did you mean `momentum`"),
            "{msg}"
        );
    }

    #[test]
    fn distances() {
        assert_eq!(levenshtein("momentun", "momentum"), 1);
        assert_eq!(levenshtein("", "abc"), 3);
    }
}
