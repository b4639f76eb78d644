//! Command-line overrides, Hydra style: `geoplast train CONFIG.toml optimizer.lr=0.3
//! model.hidden=[256,256]`. Each right-hand side is read as a TOML value (a number, a boolean,
//! an array, an inline table), falling back to a string, and set at its dotted path, as a
//! sweep's overrides are; an unknown key then gets the nearest-key error a config file gets.

use crate::error::{Error, Result};

/// One `key=value` override.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    pub key: String,
    pub value: toml::Value,
    /// As typed, for `overrides.txt` and folder names.
    pub text: String,
}

impl Override {
    /// Parses `key=value`; the error names the argument and the form expected.
    pub fn parse(arg: &str) -> Result<Self> {
        let (key, rhs) = arg.split_once('=').ok_or_else(|| {
            Error::Config(format!(
                "`{arg}` is not an override: write KEY=VALUE with a dotted key, e.g. optimizer.lr=0.3"
            ))
        })?;
        let key = key.trim();
        if key.is_empty() || key.split('.').any(str::is_empty) {
            return Err(Error::Config(format!(
                "`{arg}`: `{key}` is not a dotted config key (e.g. optimizer.lr)"
            )));
        }
        let value = toml::from_str::<toml::Table>(&format!("v = {rhs}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(rhs.to_string()));
        Ok(Self {
            key: key.to_string(),
            value,
            text: format!("{key}={rhs}"),
        })
    }
}

/// The config text `text` with `overrides` applied, as TOML text.
pub fn apply(text: &str, origin: &str, overrides: &[Override]) -> Result<String> {
    if overrides.is_empty() {
        return Ok(text.to_string());
    }
    let mut table: toml::Table = toml::from_str(text)
        .map_err(|e| Error::Config(format!("{origin}: {}", e.to_string().trim())))?;
    for o in overrides {
        crate::sweep::set_path(&mut table, &o.key, o.value.clone())
            .map_err(|e| Error::Config(format!("override {}: {e}", o.text)))?;
    }
    Ok(toml::to_string(&table).expect("a TOML table serialises"))
}

/// The run folder name part for a set of overrides: `key=value,…`, made safe for a path.
pub fn folder_name(overrides: &[Override]) -> String {
    let joined: Vec<String> = overrides.iter().map(|o| o.text.clone()).collect();
    crate::sweep::slug(&joined.join(","))
}

/// The overrides file of a run folder: one `key=value` per line, as typed.
pub fn file_text(overrides: &[Override]) -> String {
    overrides.iter().map(|o| format!("{}\n", o.text)).collect()
}

/// Splits a multirun right-hand side at its top-level commas: `[256,256],[512]` is two values,
/// `"a,b"` one.
pub fn split_values(rhs: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth, mut quote) = (Vec::new(), String::new(), 0i32, None);
    for c in rhs.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// The sweep file of `train --multirun CONFIG k=a,b …`: the config, with the single-valued
/// overrides applied, as `[base]`, and every multi-valued key as an axis of `[grid]` (crossed in
/// the order given, the last fastest).
pub fn multirun_sweep(
    config_text: &str,
    origin: &str,
    name: &str,
    metric: Option<&str>,
    args: &[String],
) -> Result<String> {
    let mut fixed = Vec::new();
    let mut grid = toml::Table::new();
    for arg in args {
        let (key, rhs) = arg.split_once('=').ok_or_else(|| {
            Error::Config(format!(
                "`{arg}` is not an override: write KEY=VALUE or KEY=A,B,C for a multirun"
            ))
        })?;
        let values = split_values(rhs);
        if values.len() == 1 {
            fixed.push(Override::parse(arg)?);
        } else {
            let parsed = values
                .iter()
                .map(|v| Override::parse(&format!("{key}={v}")).map(|o| o.value))
                .collect::<Result<Vec<_>>>()?;
            grid.insert(key.trim().to_string(), toml::Value::Array(parsed));
        }
    }
    let base: toml::Table = toml::from_str(&apply(config_text, origin, &fixed)?)
        .map_err(|e| Error::Config(format!("{origin}: {}", e.to_string().trim())))?;
    let mut sweep = toml::Table::new();
    sweep.insert("name".into(), toml::Value::String(name.into()));
    if let Some(m) = metric {
        sweep.insert("metric".into(), toml::Value::String(m.into()));
    }
    sweep.insert("base".into(), toml::Value::Table(base));
    sweep.insert("grid".into(), toml::Value::Table(grid));
    Ok(toml::to_string(&sweep).expect("a TOML table serialises"))
}
