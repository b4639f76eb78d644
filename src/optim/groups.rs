//! Parameter groups: named tables under `[optimizer.groups]` that give some parameters their own
//! rule.
//!
//! ```toml
//! [optimizer.groups.gains]
//! params = ["*.alpha"]          # globs over parameter names; the first matching group wins
//! potential = { kind = "euclid" }
//! lr = 0.01                      # absolute; unset keys inherit from [optimizer]
//! ```
//!
//! Groups are matched in the order they are written. A parameter that no group matches follows
//! `[optimizer]` itself. Clipping and the schedule are global: the clipping norm is taken over the
//! gradients of all groups, and every group's learning rate is multiplied by the one schedule.

use super::OptimConfig;
use super::direction::{Adam, DecayMode};
use super::transforms::Transform;
use crate::geometry::Potential;
use serde::{Deserialize, Serialize};

/// One group's settings; every unset key inherits from `[optimizer]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupConfig {
    /// Globs over parameter names (`*.alpha`, `layers.0.*`).
    pub params: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub potential: Option<Potential>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub momentum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dampening: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nesterov: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_decay: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_decay_mode: Option<DecayMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adam: Option<Adam>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_freeze: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clamp: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsigned_eg: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transforms: Option<Vec<Transform>>,
}

impl GroupConfig {
    /// The full rule of this group: `base` with this group's keys set.
    pub fn rule(&self, base: &OptimConfig) -> OptimConfig {
        let mut r = base.clone();
        r.groups.clear();
        macro_rules! inherit {
            ($($k:ident),*) => {$(if let Some(v) = &self.$k { r.$k = v.clone(); })*};
        }
        inherit!(
            potential,
            lr,
            momentum,
            dampening,
            nesterov,
            weight_decay,
            weight_decay_mode,
            unsigned_eg
        );
        if self.adam.is_some() {
            r.adam = self.adam;
        }
        if self.sign_freeze.is_some() {
            r.sign_freeze = self.sign_freeze;
        }
        if self.clamp.is_some() {
            r.clamp = self.clamp;
        }
        if self.transforms.is_some() {
            r.transforms = self.transforms.clone();
        }
        r
    }
}

/// The groups of a config compiled for matching: one rule per group, then `[optimizer]`'s own.
#[derive(Clone, Debug)]
pub struct Groups {
    names: Vec<String>,
    matchers: Vec<globset::GlobSet>,
    /// One per group, then the default rule last.
    pub rules: Vec<OptimConfig>,
}

/// The name of the rule for parameters that no group matches.
pub const DEFAULT: &str = "default";

impl Groups {
    /// Compiles and checks the groups of `cfg`; errors name the group and the fix.
    pub fn new(cfg: &OptimConfig) -> Result<Self, String> {
        let mut names = Vec::new();
        let mut matchers = Vec::new();
        let mut rules = Vec::new();
        for (name, g) in &cfg.groups {
            let at = format!("optimizer.groups.{name}");
            if name == DEFAULT {
                return Err(format!(
                    "{at}: `{DEFAULT}` names the parameters no group matches; rename the group"
                ));
            }
            if g.params.is_empty() {
                return Err(format!(
                    "{at}.params is empty: list globs over parameter names, e.g. [\"*.alpha\"]"
                ));
            }
            let mut b = globset::GlobSetBuilder::new();
            for p in &g.params {
                b.add(
                    globset::Glob::new(p)
                        .map_err(|e| format!("{at}.params: {p:?} is not a valid glob: {e}"))?,
                );
            }
            matchers.push(b.build().map_err(|e| format!("{at}.params: {e}"))?);
            let rule = g.rule(cfg);
            rule.validate_at(&at)?;
            names.push(name.clone());
            rules.push(rule);
        }
        let mut default = cfg.clone();
        default.groups.clear();
        rules.push(default);
        Ok(Self {
            names,
            matchers,
            rules,
        })
    }

    /// The index into [`Groups::rules`] of the rule for the parameter `name`.
    pub fn rule_of(&self, name: &str) -> usize {
        self.matchers
            .iter()
            .position(|m| m.is_match(name))
            .unwrap_or(self.matchers.len())
    }

    /// The group name of rule `i` (`default` for the last).
    pub fn name(&self, i: usize) -> &str {
        self.names.get(i).map_or(DEFAULT, String::as_str)
    }

    /// Errors when a group matches none of `params` (a misspelt glob would otherwise leave its
    /// parameters on the default rule without a word).
    pub fn check_matches<'a>(
        &self,
        params: impl Iterator<Item = &'a str> + Clone,
    ) -> Result<(), String> {
        for (i, m) in self.matchers.iter().enumerate() {
            if !params.clone().any(|p| self.rule_of(p) == i) {
                let hit = params.clone().find(|p| m.is_match(p));
                let names: Vec<&str> = params.clone().take(6).collect();
                return Err(match hit {
                    Some(p) => format!(
                        "optimizer.groups.{} matches no parameter that an earlier group does not \
                         take already (`{p}` goes to `{}`): reorder or narrow the groups",
                        self.names[i],
                        self.name(self.rule_of(p))
                    ),
                    None => format!(
                        "optimizer.groups.{} matches no parameter of the model: fix its globs \
                         (the parameters are named like {})",
                        self.names[i],
                        names.join(", ")
                    ),
                });
            }
        }
        Ok(())
    }
}
