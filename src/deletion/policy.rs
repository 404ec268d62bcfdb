//! `prune --policy FILE`: retention rules for CI jobs that run every night. A
//! YAML file with a list of rules, each naming repository patterns and the
//! options `prune` takes as flags; per repository, the first rule whose pattern
//! matches wins, and a repository no rule matches is left alone. Mistakes (an
//! unknown key, a bad regex or duration, a rule that can never apply) are found
//! before anything is read from a registry, and named with the file and line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;

use super::retention::{Order, Rules};

/// A policy file, read and checked.
#[derive(Debug)]
pub struct Policy {
    /// The rules, in the file's order.
    pub rules: Vec<Rule>,
    /// Protection files, relative to the policy file's folder.
    pub protect: Vec<PathBuf>,
    /// Protect what the cluster runs (`kubectl get ... -A -o json`).
    pub protect_kube: bool,
}

/// One rule.
#[derive(Debug)]
pub struct Rule {
    /// Its name (`rule N` when the file gives none).
    pub name: String,
    /// The line it starts on.
    pub line: usize,
    /// Its repository patterns as written, and compiled.
    pub patterns: Vec<(String, Regex)>,
    /// What it keeps (protection is added per repository).
    pub rules: Rules,
}

impl Policy {
    /// The rule for `repository`: the first whose pattern matches.
    pub fn rule_for(&self, repository: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.patterns.iter().any(|(_, re)| re.is_match(repository)))
    }
}

/// A mistake in a policy file: nothing is read from a registry.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {why}", file.display(), line.map(|l| format!(": line {l}")).unwrap_or_default())]
pub struct PolicyError {
    /// The file.
    pub file: PathBuf,
    /// The line, where known.
    pub line: Option<usize>,
    /// What is wrong, naming the key.
    pub why: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileSpec {
    #[serde(default)]
    protect: Vec<PathBuf>,
    #[serde(default)]
    protect_kube: bool,
    rules: Vec<RuleSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RuleSpec {
    name: Option<String>,
    repositories: Vec<String>,
    keep: Option<usize>,
    older_than: Option<String>,
    #[serde(rename = "match")]
    match_tags: Option<String>,
    exclude: Option<String>,
    keep_tags: Option<String>,
    group: Option<String>,
    #[serde(default)]
    order: Order,
}

/// The line of `key:` in the rule that starts on line `start`, else `start`.
fn key_line(text: &str, start: Option<usize>, key: &str) -> Option<usize> {
    let start = start?;
    let mut lines = text.lines().enumerate().skip(start - 1);
    let first = lines.next()?;
    let item_indent = first.1.len() - first.1.trim_start().len();
    let is_key = |l: &str| {
        l.trim_start()
            .trim_start_matches("- ")
            .starts_with(&format!("{key}:"))
    };
    if is_key(first.1) {
        return Some(start);
    }
    for (i, l) in lines {
        let indent = l.len() - l.trim_start().len();
        if !l.trim().is_empty() && indent <= item_indent {
            break;
        }
        if is_key(l) {
            return Some(i + 1);
        }
    }
    Some(start)
}

/// Reads and checks the policy in `text`, read from `file`.
pub fn parse(file: &Path, text: &str) -> Result<Policy, PolicyError> {
    let error = |line: Option<usize>, why: String| PolicyError {
        file: file.to_path_buf(),
        line,
        why,
    };
    let spec: FileSpec = serde_yaml_ng::from_str(text).map_err(|e| {
        let line = e.location().map(|l| l.line());
        // The library's message ends with its own "at line L column C".
        let why = e.to_string();
        let why = why.split(" at line ").next().unwrap_or(&why).to_string();
        error(line, why)
    })?;
    let lines = rule_lines(text);
    let text_of_file = text;
    let mut rules: Vec<Rule> = Vec::new();
    for (i, spec) in spec.rules.into_iter().enumerate() {
        let line = lines.get(i).copied();
        let name = spec
            .name
            .clone()
            .unwrap_or_else(|| format!("rule {}", i + 1));
        let regex = |key: &str, value: &Option<String>| -> Result<Option<Regex>, PolicyError> {
            value
                .as_deref()
                .map(|text| {
                    Regex::new(text).map_err(|e| {
                        let reason = e.to_string();
                        let reason = reason.lines().last().unwrap_or_default().trim().to_string();
                        error(
                            key_line(text_of_file, line, key),
                            format!("{name}: {key}: invalid regular expression `{text}`: {reason}"),
                        )
                    })
                })
                .transpose()
        };
        let older_than = match &spec.older_than {
            Some(text) => Some(parse_age(text).map_err(|e| {
                error(
                    key_line(text_of_file, line, "older-than"),
                    format!("{name}: older-than: {e}"),
                )
            })?),
            None => None,
        };
        if spec.keep.is_none() && spec.older_than.is_none() {
            return Err(error(line, format!("{name}: give `keep` or `older-than` (keep: 0 deletes everything `match` selects)")));
        }
        if spec.repositories.is_empty() {
            return Err(error(
                line,
                format!("{name}: `repositories` names no pattern"),
            ));
        }
        let mut patterns = Vec::new();
        for pattern in &spec.repositories {
            if let Some(earlier) = rules
                .iter()
                .find(|r| r.patterns.iter().any(|(p, _)| p == pattern))
            {
                return Err(error(
                    line,
                    format!(
                        "{name}: repositories pattern `{pattern}` is also in {} (line {}): no way to tell \
                         which rule applies to it (the first would win); keep it in one rule",
                        earlier.name, earlier.line
                    ),
                ));
            }
            patterns.push((pattern.clone(), glob(pattern)));
        }
        let rules_of = Rules {
            keep: spec.keep,
            older_than,
            match_tags: regex("match", &spec.match_tags)?,
            exclude_tags: regex("exclude", &spec.exclude)?,
            keep_tags: regex("keep-tags", &spec.keep_tags)?,
            group: regex("group", &spec.group)?,
            order: spec.order,
            protected: Default::default(),
        };
        rules.push(Rule {
            name,
            line: line.unwrap_or(0),
            patterns,
            rules: rules_of,
        });
    }
    if rules.is_empty() {
        return Err(error(
            None,
            "`rules` is empty: a policy needs at least one rule".into(),
        ));
    }
    let base = file.parent().unwrap_or(Path::new("."));
    Ok(Policy {
        rules,
        protect: spec.protect.iter().map(|p| base.join(p)).collect(),
        protect_kube: spec.protect_kube,
    })
}

/// The line of each item of the `rules:` list (the first lines starting `- `
/// at the indentation of the first item after `rules:`).
fn rule_lines(text: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    let mut in_rules = false;
    let mut indent = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let depth = line.len() - trimmed.len();
        if !in_rules {
            in_rules = line.starts_with("rules:");
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if depth == 0 && !trimmed.starts_with('-') {
            break;
        }
        if trimmed.starts_with("- ") || trimmed == "-" {
            match indent {
                None => {
                    indent = Some(depth);
                    lines.push(i + 1);
                }
                Some(d) if d == depth => lines.push(i + 1),
                _ => {}
            }
        }
    }
    lines
}

/// A repository pattern: `*` any characters but `/`, `**` any characters, `?`
/// one character but `/`; the whole name must match.
fn glob(pattern: &str) -> Regex {
    let mut re = String::from("^");
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                re += ".*";
            }
            '*' => re += "[^/]*",
            '?' => re += "[^/]",
            c => re += &regex::escape(&c.to_string()),
        }
    }
    re.push('$');
    // Escaped text and the three wildcards above always make a valid regex.
    Regex::new(&re).unwrap_or_else(|_| unreachable!("glob {pattern} made an invalid regex"))
}

/// `30d`, `12h`, `90m`, `45s`, `2w`, `1y`, or several joined: `1d12h`.
pub fn parse_age(s: &str) -> Result<Duration, String> {
    let bad = || {
        format!("`{s}` is not a duration: use a number and a unit (s, m, h, d, w, y = 365 d), e.g. 30d, 12h, 90m, 2w, 1y, or 0d for any age")
    };
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            'y' => 365 * 86_400,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        number.clear();
    }
    if !number.is_empty() || s.is_empty() {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "# nightly\nrules:\n  - name: releases\n    repositories: [\"team/*\", app]\n    keep: 3\n    group: '^v(\\d+\\.\\d+)\\.'\n    order: semver\n    keep-tags: '^(latest|stable)$'\n  - repositories: [\"**\"]\n    older-than: 30d\n";

    #[test]
    fn the_first_matching_rule_wins_and_globs_stop_at_slashes() {
        let policy = parse(Path::new("p.yaml"), GOOD).unwrap();
        assert_eq!(policy.rules[0].line, 3);
        assert_eq!(policy.rules[1].line, 9);
        assert_eq!(policy.rule_for("team/api").unwrap().name, "releases");
        assert_eq!(policy.rule_for("app").unwrap().name, "releases");
        assert_eq!(policy.rule_for("team/a/b").unwrap().name, "rule 2");
        assert_eq!(policy.rules[0].rules.order, Order::Semver);
        assert_eq!(
            policy.rules[1].rules.older_than,
            Some(Duration::from_secs(30 * 86_400))
        );
    }

    #[test]
    fn mistakes_name_the_file_line_and_key() {
        let unknown = GOOD.replace("keep: 3", "kep: 3");
        let err = parse(Path::new("p.yaml"), &unknown)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("p.yaml: line 5: ") && err.contains("unknown field `kep`"),
            "{err}"
        );
        let regex = GOOD.replace("'^(latest|stable)$'", "'^(latest'");
        let err = parse(Path::new("p.yaml"), &regex).unwrap_err().to_string();
        assert!(
            err.starts_with("p.yaml: line 8: ")
                && err.contains("keep-tags")
                && err.contains("invalid regular expression"),
            "{err}"
        );
        let twice = GOOD.replace("[\"**\"]", "[app]");
        let err = parse(Path::new("p.yaml"), &twice).unwrap_err().to_string();
        assert!(
            err.starts_with("p.yaml: line 9: ")
                && err.contains("`app` is also in releases (line 3)"),
            "{err}"
        );
        let age = GOOD.replace("30d", "30 days");
        assert!(parse(Path::new("p.yaml"), &age)
            .unwrap_err()
            .to_string()
            .contains("line 10"));
    }

    #[test]
    fn ages_parse() {
        assert_eq!(parse_age("30d").unwrap().as_secs(), 30 * 86_400);
        assert_eq!(parse_age("1d12h").unwrap().as_secs(), 36 * 3600);
        assert_eq!(parse_age("2w").unwrap().as_secs(), 14 * 86_400);
        assert_eq!(parse_age("1y").unwrap().as_secs(), 365 * 86_400);
        assert_eq!(parse_age("0d").unwrap().as_secs(), 0, "any age");
        for bad in ["", "30", "d", "-1d", "3x", "1.5h", "99999999999999999999w"] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
    }
}
