//! CODEOWNERS files, as GitHub and GitLab read them.
//!
//! Each line is a path pattern followed by owners (`@user`, `@org/team` or
//! an e-mail address); `#` starts a comment. The last matching line wins,
//! and a line with a pattern and no owner leaves its paths without an
//! owner. Patterns follow gitignore. A leading `/` or a `/` in the middle
//! anchors the pattern at the repository root, else it matches at any
//! depth. A trailing `/` matches a folder and everything in it. `*` stays
//! within one path segment and `**` crosses segments, and a lone `*` owns
//! every file.
//!
//! GitLab extensions are read too. A section header (`[Section]`,
//! `^[Section][2]`) may name default owners, which its lines without owners
//! take. A line starting with `!` (GitLab 17.10) leaves its paths without
//! an owner.
//!
//! NOTE: GitLab applies the last matching line of each section and shows
//! the owners of all sections. ctem needs one team, so the lines of every
//! section count as one list and the last matching line wins.
//!
//! References: <https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners>
//! and <https://git-scm.com/docs/gitignore#_pattern_format>.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};

/// The largest CODEOWNERS file read. GitHub ignores files over 3 MB.
pub const MAX_CODEOWNERS_BYTES: usize = 3 * 1024 * 1024;

/// The places GitHub and GitLab look for the CODEOWNERS file of a
/// repository, relative to its root. GitHub reads the first it finds of
/// `.github/`, the root and `docs/`. GitLab reads the root, `docs/` and
/// `.gitlab/`.
pub const LOCATIONS: [&str; 4] = [
    ".github/CODEOWNERS",
    "CODEOWNERS",
    "docs/CODEOWNERS",
    ".gitlab/CODEOWNERS",
];

/// Finds the CODEOWNERS file of a repository checkout: the first of
/// [`LOCATIONS`] that is a file.
pub fn find_in(checkout: &Path) -> Option<PathBuf> {
    LOCATIONS
        .iter()
        .map(|location| checkout.join(location))
        .find(|path| path.is_file())
}

/// A CODEOWNERS file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CodeownersError {
    #[error("{file}: the file has {size} bytes; a CODEOWNERS file may have at most {MAX_CODEOWNERS_BYTES}")]
    TooLarge { file: String, size: usize },
    #[error("{file}:{line}: {message}")]
    Invalid { file: String, line: usize, message: String },
}

/// One line of a CODEOWNERS file.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The pattern as written.
    pub pattern: String,
    /// The owners in file order. Empty for a line that removes ownership.
    pub owners: Vec<String>,
    /// The 1-based line number.
    pub line: usize,
    matcher: GlobMatcher,
    /// Matches the paths inside a folder that the pattern names.
    inside: GlobMatcher,
}

/// The rules of one CODEOWNERS file.
#[derive(Debug, Clone)]
pub struct Codeowners {
    /// The file name, for messages.
    pub file: String,
    pub rules: Vec<Rule>,
}

impl Codeowners {
    /// Parses CODEOWNERS text. `file` names it in errors.
    ///
    /// # Errors
    ///
    /// [`CodeownersError::TooLarge`] past [`MAX_CODEOWNERS_BYTES`];
    /// [`CodeownersError::Invalid`] for a pattern that is not a valid
    /// glob or an owner that is neither `@name` nor an e-mail address.
    pub fn parse(file: &str, text: &str) -> Result<Codeowners, CodeownersError> {
        if text.len() > MAX_CODEOWNERS_BYTES {
            return Err(CodeownersError::TooLarge {
                file: file.to_string(),
                size: text.len(),
            });
        }

        let mut rules = Vec::new();
        let mut section_owners: Vec<String> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let invalid = |message: String| CodeownersError::Invalid {
                file: file.to_string(),
                line,
                message,
            };
            let content = strip_comment(raw).trim();
            if content.is_empty() {
                continue;
            }
            if content.starts_with('[') || content.starts_with("^[") {
                section_owners = section_header_owners(content).map_err(invalid)?;
                continue;
            }

            let mut words = content.split_whitespace();
            let written = words.next().expect("a non-empty line has a first word");
            let mut owners: Vec<String> = words.map(str::to_string).collect();
            if let Some(owner) = owners.iter().find(|owner| !is_owner(owner)) {
                return Err(invalid(format!(
                    "invalid owner {owner:?}: expected @user, @org/team or an e-mail address"
                )));
            }
            let (pattern, excluded) = match written.strip_prefix('!') {
                Some(pattern) => (pattern, true),
                None => (written, false),
            };
            if excluded {
                owners.clear();
            } else if owners.is_empty() {
                owners = section_owners.clone();
            }
            let (matcher, inside) =
                compile(pattern).map_err(|error| invalid(format!("invalid pattern {written:?}: {error}")))?;
            rules.push(Rule {
                pattern: written.to_string(),
                owners,
                line,
                matcher,
                inside,
            });
        }
        Ok(Codeowners {
            file: file.to_string(),
            rules,
        })
    }

    /// Returns the rule that owns `path` (relative to the repository root,
    /// with or without a leading `/`): the last matching line. `None` when
    /// no line matches or the last matching line names no owner.
    pub fn owners_of(&self, path: &str) -> Option<&Rule> {
        let path = path.trim_start_matches("./").trim_start_matches('/');
        let rule = self
            .rules
            .iter()
            .rev()
            .find(|rule| rule.matcher.is_match(path) || rule.inside.is_match(path))?;
        (!rule.owners.is_empty()).then_some(rule)
    }
}

/// Reads the default owners of a GitLab section header such as
/// `^[Database][2] @acme/dba`.
fn section_header_owners(header: &str) -> Result<Vec<String>, String> {
    let rest = header.trim_start_matches('^');
    let close = rest
        .find(']')
        .ok_or_else(|| format!("invalid section header {header:?}: missing `]`"))?;
    let mut rest = &rest[close + 1..];
    if let Some(approvals) = rest.strip_prefix('[') {
        let close = approvals
            .find(']')
            .ok_or_else(|| format!("invalid section header {header:?}: missing `]`"))?;
        rest = &approvals[close + 1..];
    }
    let owners: Vec<String> = rest.split_whitespace().map(str::to_string).collect();
    if let Some(owner) = owners.iter().find(|owner| !is_owner(owner)) {
        return Err(format!(
            "invalid owner {owner:?} in section header: expected @user, @org/team or an e-mail address"
        ));
    }
    Ok(owners)
}

/// Removes a `#` comment. `\#` is a literal `#` in a pattern.
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (index, &byte) in bytes.iter().enumerate() {
        if byte == b'#' && (index == 0 || bytes[index - 1] != b'\\') {
            return &line[..index];
        }
    }
    line
}

fn is_owner(word: &str) -> bool {
    match word.strip_prefix('@') {
        Some(name) => !name.is_empty(),
        None => word
            .split_once('@')
            .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.')),
    }
}

/// Compiles a pattern into a matcher of the paths it names and a matcher
/// of the paths inside them, when they are folders.
fn compile(pattern: &str) -> Result<(GlobMatcher, GlobMatcher), globset::Error> {
    let unescaped = pattern.replace("\\#", "#");
    let folder_only = unescaped.ends_with('/');
    let trimmed = unescaped.trim_end_matches('/');
    let anchored = trimmed.starts_with('/') || trimmed.trim_start_matches('/').contains('/');
    let body = trimmed.trim_start_matches('/');
    let base = match (anchored, body) {
        (_, "") | (false, "*") | (_, "**") => "**".to_string(),
        (true, _) => body.to_string(),
        (false, _) => format!("**/{body}"),
    };

    let build = |glob: &str| {
        GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .map(|glob| glob.compile_matcher())
    };
    // `docs/*` owns the files in docs but not those in its subfolders,
    // as GitHub documents, and `/*` the files at the root.
    let inside = if base == "*" || base.ends_with("/*") {
        build(&base)?
    } else {
        build(&format!("{base}/**"))?
    };
    // A pattern with a trailing slash names folders only, and the path of
    // a finding is always a file, so only the paths inside it match.
    let matcher = if folder_only { inside.clone() } else { build(&base)? };
    Ok((matcher, inside))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "\
# Default owners
*       @acme/security

*.js    @acme/frontend
/build/logs/ @acme/ops
docs/*  docs@acme.example
apps/   @acme/apps
/apps/github
**/payments @acme/payments
[Database] @acme/dba
/db/    @acme/dba
";

    fn owner(file: &Codeowners, path: &str) -> Option<String> {
        file.owners_of(path).map(|rule| rule.owners.join(" "))
    }

    #[test]
    fn last_matching_line_wins() {
        let file = Codeowners::parse("CODEOWNERS", EXAMPLE).unwrap();
        let cases = [
            ("README.md", Some("@acme/security")),
            ("web/app.js", Some("@acme/frontend")),
            ("build/logs/today.log", Some("@acme/ops")),
            ("src/build/logs/today.log", Some("@acme/security")),
            ("docs/index.md", Some("docs@acme.example")),
            ("docs/api/index.md", Some("@acme/security")),
            ("apps/web/main.go", Some("@acme/apps")),
            ("nested/apps/main.go", Some("@acme/apps")),
            ("apps/github/main.go", None),
            ("src/payments/charge.py", Some("@acme/payments")),
            ("/db/schema.sql", Some("@acme/dba")),
        ];
        for (path, expected) in cases {
            assert_eq!(owner(&file, path).as_deref(), expected, "{path}");
        }
    }

    #[test]
    fn root_star_owns_root_files_only() {
        let file = Codeowners::parse("CODEOWNERS", "/* @acme/root\n").unwrap();
        assert_eq!(owner(&file, "Makefile").as_deref(), Some("@acme/root"));
        assert_eq!(owner(&file, "src/main.rs"), None);
    }

    #[test]
    fn gitlab_sections_and_exclusions() {
        let text = "\
[Backend][2] @acme/backend
app/
app/models/ @acme/models
^[Docs] docs@acme.example
*.md
!app/generated/
";
        let file = Codeowners::parse("CODEOWNERS", text).unwrap();
        let cases = [
            ("app/main.rb", Some("@acme/backend")),
            ("app/models/user.rb", Some("@acme/models")),
            ("README.md", Some("docs@acme.example")),
            ("app/generated/schema.rb", None),
        ];
        for (path, expected) in cases {
            assert_eq!(owner(&file, path).as_deref(), expected, "{path}");
        }
    }

    #[test]
    fn rule_keeps_line_and_pattern() {
        let file = Codeowners::parse("CODEOWNERS", EXAMPLE).unwrap();
        let rule = file.owners_of("web/app.js").unwrap();
        assert_eq!(rule.line, 4);
        assert_eq!(rule.pattern, "*.js");
    }

    #[test]
    fn empty_file_owns_nothing() {
        let file = Codeowners::parse("CODEOWNERS", "").unwrap();
        assert!(file.rules.is_empty());
        assert!(file.owners_of("src/main.rs").is_none());
    }

    #[test]
    fn escaped_hash_is_a_pattern() {
        let file = Codeowners::parse("CODEOWNERS", "\\#notes.md @acme/docs # a comment\n").unwrap();
        assert_eq!(owner(&file, "#notes.md").as_deref(), Some("@acme/docs"));
    }

    #[test]
    fn invalid_lines_are_named() {
        let cases = [
            (
                "*.rs @acme/rust\nsrc/ acme-team\n",
                "CODEOWNERS:2: invalid owner \"acme-team\"",
            ),
            ("src/[a @acme/rust\n", "CODEOWNERS:1: invalid pattern \"src/[a\""),
            ("*.rs @\n", "CODEOWNERS:1: invalid owner \"@\""),
            ("[Backend @acme/backend\n", "CODEOWNERS:1: invalid section header"),
            (
                "[Backend] backend\n",
                "CODEOWNERS:1: invalid owner \"backend\" in section header",
            ),
        ];
        for (text, expected) in cases {
            let error = Codeowners::parse("CODEOWNERS", text).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{text:?} gave {error}");
        }
    }

    #[test]
    fn huge_file_is_rejected() {
        let text = "* @acme/security\n".repeat(MAX_CODEOWNERS_BYTES / 17 + 1);
        let error = Codeowners::parse(".github/CODEOWNERS", &text).unwrap_err().to_string();
        assert!(error.starts_with(".github/CODEOWNERS: the file has"), "{error}");
    }

    #[test]
    fn binary_garbage_is_rejected_or_owns_nothing() {
        let text = "\u{0}\u{1}\u{ffff} \u{7f}\n";
        match Codeowners::parse("CODEOWNERS", text) {
            Ok(file) => assert!(file.owners_of("src/main.rs").is_none()),
            Err(error) => assert!(error.to_string().starts_with("CODEOWNERS:1:"), "{error}"),
        }
    }
}
