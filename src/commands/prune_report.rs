//! `prune --report FILE`: the plan as Markdown a reviewer can read: per
//! repository, the images kept and why, the images deleted and why (with what
//! goes along with them), and the bytes the garbage collector frees.

/// One line of the plan, as the report shows it.
pub struct ReportLine {
    pub repository: String,
    pub digest: Option<String>,
    pub tags: Vec<String>,
    pub created: Option<String>,
    pub delete: bool,
    pub reason: String,
    pub rule: Option<String>,
    pub bytes_freed: Option<u64>,
    /// Deleted along with an image (a platform, an attachment).
    pub along: bool,
}

/// The report for `host`.
pub fn markdown(host: &str, lines: &[ReportLine]) -> String {
    let images = |delete: bool| {
        lines
            .iter()
            .filter(|l| !l.along && l.delete == delete)
            .count()
    };
    let freed: u64 = lines.iter().filter_map(|l| l.bytes_freed).sum();
    let mut repositories: Vec<&str> = lines.iter().map(|l| l.repository.as_str()).collect();
    repositories.dedup();
    let mut out = format!(
        "# Prune plan for {host}\n\n{} kept, {} deleted in {}; the garbage collector frees {} once it runs.\n",
        crate::output::count(images(false), "image"),
        crate::output::count(images(true), "image"),
        crate::output::count(repositories.len(), "repository"),
        crate::output::human_bytes(freed),
    );
    for repository in repositories {
        let here: Vec<&ReportLine> = lines
            .iter()
            .filter(|l| l.repository == repository)
            .collect();
        let rule = here
            .iter()
            .find_map(|l| l.rule.as_deref())
            .map(|r| format!(" (rule: {})", cell(r)))
            .unwrap_or_default();
        let freed: u64 = here.iter().filter_map(|l| l.bytes_freed).sum();
        out += &format!(
            "\n## {host}/{}{rule}\n\nFrees {}.\n",
            cell(repository),
            crate::output::human_bytes(freed)
        );
        for (title, delete) in [("Kept", false), ("Deleted", true)] {
            let rows: Vec<&&ReportLine> = here.iter().filter(|l| l.delete == delete).collect();
            if rows.is_empty() {
                continue;
            }
            out += &format!("\n### {title}\n\n| tags | digest | created | why | frees |\n| --- | --- | --- | --- | ---: |\n");
            for l in rows {
                out += &format!(
                    "| {}{} | `{}` | {} | {} | {} |\n",
                    if l.along { "↳ " } else { "" },
                    cell(&l.tags.join(", ")),
                    l.digest.as_deref().unwrap_or("-"),
                    l.created.as_deref().unwrap_or("-"),
                    cell(&l.reason),
                    l.bytes_freed
                        .map(crate::output::human_bytes)
                        .unwrap_or_default()
                );
            }
        }
    }
    out
}

/// Text for a table cell: escaped for a terminal, `|` escaped for Markdown.
fn cell(text: &str) -> String {
    crate::output::escape(text).replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_repository_has_its_kept_and_deleted_images_with_reasons() {
        let line = |repository: &str, delete: bool, tag: &str, reason: &str, bytes| ReportLine {
            repository: repository.into(),
            digest: Some("sha256:abc".into()),
            tags: vec![tag.into()],
            created: None,
            delete,
            reason: reason.into(),
            rule: Some("releases".into()),
            bytes_freed: bytes,
            along: false,
        };
        let report = markdown(
            "r.example",
            &[
                line("app", false, "v2", "among the newest 1", None),
                line("app", true, "v1|x", "not among the newest 1", Some(2048)),
                line("web", false, "v9", "protected by pods.json: Pod/web", None),
            ],
        );
        assert!(
            report.contains("2 images kept, 1 image deleted in 2 repositories"),
            "{report}"
        );
        assert!(
            report.contains("## r.example/app (rule: releases)\n\nFrees 2.0 KiB"),
            "{report}"
        );
        assert!(
            report.contains("| v1\\|x | `sha256:abc` | - | not among the newest 1 | 2.0 KiB |"),
            "{report}"
        );
        assert!(report.contains("protected by pods.json: Pod/web"));
    }
}
