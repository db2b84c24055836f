//! The documentation stays true to the tree: every relative link in README.md and docs/
//! leads to a file (and heading) that exists, and the configuration reference names exactly
//! the environment variables the app reads. No database, no server: files only.

use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", shown(path)))
}

/// A path as the reader of a failure knows it: relative to the repository.
fn shown(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Every file under `dir` whose name ends with `ext`, sorted.
fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.map(|e| e.expect("directory entry").path()) {
            if entry.is_dir() {
                pending.push(entry);
            } else if entry.extension().is_some_and(|e| e == ext) {
                found.push(entry);
            }
        }
    }
    found.sort();
    found
}

// ---------------------------------------------------------------------------------------
// Markdown: links and headings, outside code.
// ---------------------------------------------------------------------------------------

/// The lines of a Markdown text with fenced code blocks emptied and inline code spans
/// blanked, so that neither yields links or headings. Line numbers are kept.
fn prose_lines(text: &str) -> Vec<String> {
    let mut fence: Option<String> = None;
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let marker: String = trimmed
                .chars()
                .take_while(|c| *c == '`' || *c == '~')
                .collect();
            match &fence {
                Some(open)
                    if marker.starts_with(open.as_str())
                        && trimmed[marker.len()..].trim().is_empty() =>
                {
                    fence = None;
                    String::new()
                }
                Some(_) => String::new(),
                None if marker.len() >= 3
                    && marker.chars().all(|c| c == marker.as_bytes()[0] as char) =>
                {
                    fence = Some(marker);
                    String::new()
                }
                None => blank_code_spans(line),
            }
        })
        .collect()
}

/// Replaces each `code span` of a line (any run of backticks up to the same run) with spaces.
fn blank_code_spans(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        let run = rest[start..].chars().take_while(|c| *c == '`').count();
        let ticks = &rest[start..start + run];
        let after = &rest[start + run..];
        let close = after.char_indices().map(|(i, _)| i).find(|&i| {
            after[i..].starts_with(ticks)
                && !after[i + run..].starts_with('`')
                && (i == 0 || !after[..i].ends_with('`'))
        });
        out.push_str(&rest[..start]);
        match close {
            Some(end) => {
                out.extend(std::iter::repeat_n(' ', run * 2 + end));
                rest = &after[end + run..];
            }
            None => {
                out.push_str(ticks);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Link targets with their line numbers: inline links and images `[text](target "title")`
/// (the text may wrap onto earlier lines; the target never wraps) and reference definitions
/// `[label]: target`.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (i, line) in prose_lines(text).iter().enumerate() {
        let definition = line
            .trim_start()
            .strip_prefix('[')
            .and_then(|l| l.split_once("]:"))
            .filter(|(label, _)| !label.is_empty() && !label.contains(']'));
        if let Some((_, target)) = definition {
            if let Some(target) = target.split_whitespace().next() {
                found.push((i + 1, target.trim_matches(['<', '>']).to_string()));
            }
            continue;
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let inner = after[..end].trim();
            let target = match inner.strip_prefix('<') {
                Some(angled) => angled.split('>').next().unwrap_or(""),
                None => inner.split_whitespace().next().unwrap_or(""),
            };
            found.push((i + 1, target.to_string()));
            rest = &after[end..];
        }
    }
    found
}

/// The anchors GitHub gives the headings of a Markdown text (ATX `#` headings and setext
/// headings), in its slug rules: the heading's text, lower-cased, without punctuation and
/// symbols, each space a hyphen; a repeated slug gets `-1`, `-2`, ….
fn anchors(text: &str) -> BTreeSet<String> {
    // Headings are found in the prose but read from the text: a code span is part of one.
    let original: Vec<&str> = text.lines().collect();
    let prose = prose_lines(text);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut anchors = BTreeSet::new();
    for (i, line) in prose.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let hashes = trimmed.chars().take_while(|c| *c == '#').count();
        let underline = trimmed.trim_end();
        let previous = i.checked_sub(1).map(|p| prose[p].trim()).unwrap_or("");
        let heading = if (1..=6).contains(&hashes)
            && indent < 4
            && trimmed[hashes..].starts_with([' ', '\t'])
        {
            let atx = original[i].trim_start()[hashes..].trim();
            atx.trim_end_matches('#').trim()
        } else if indent < 4
            && !previous.is_empty()
            && !previous.contains('|')
            && !previous.starts_with(['#', '-', '*', '>'])
            && (!underline.is_empty() && underline.chars().all(|c| c == '=')
                || underline.len() >= 3 && underline.chars().all(|c| c == '-'))
        {
            original[i - 1].trim()
        } else {
            continue;
        };
        let base = slug(heading);
        let count = seen.entry(base.clone()).or_insert(0);
        anchors.insert(match *count {
            0 => base.clone(),
            n => format!("{base}-{n}"),
        });
        *count += 1;
    }
    anchors
}

/// GitHub's slug of a heading's Markdown text.
fn slug(heading: &str) -> String {
    // The rendered text: link targets and inline HTML tags go, their text stays.
    let mut text = String::new();
    let mut rest = heading;
    while let Some(at) = rest.find("](") {
        text.push_str(&rest[..at]);
        rest = rest[at + 2..]
            .split_once(')')
            .map_or("", |(_, after)| after);
    }
    text.push_str(rest);
    let mut plain = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' if !in_tag => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            _ => plain.push(c),
        }
    }
    plain
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            // Combining marks belong to the letter before them (Arabic vowel signs).
            c if ('\u{0300}'..='\u{036f}').contains(&c)
                || ('\u{064b}'..='\u{065f}').contains(&c) =>
            {
                Some(c)
            }
            _ => None,
        })
        .collect()
}

/// `a/b/../c` as `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// README.md and every Markdown page under docs/.
fn doc_pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    pages.extend(files_under(&root().join("docs"), "md"));
    pages
}

/// What is wrong with one link of `page`, if anything.
fn broken(page: &Path, target: &str) -> Option<String> {
    if target.is_empty() {
        return Some("the link has no target".into());
    }
    if target.contains("://") || target.starts_with("mailto:") {
        return None;
    }
    let (path, anchor) = target.split_once('#').unwrap_or((target, ""));
    let file = if path.is_empty() {
        page.to_path_buf()
    } else if let Some(from_root) = path.strip_prefix('/') {
        normalize(&root().join(from_root))
    } else {
        normalize(&page.parent().expect("a page is in a folder").join(path))
    };
    if !file.exists() {
        return Some(format!("{} does not exist", shown(&file)));
    }
    if anchor.is_empty() {
        return None;
    }
    if file.extension().is_none_or(|e| e != "md") {
        // Line anchors into source files (`#L10`) are GitHub's; only headings are checked.
        return None;
    }
    let known = anchors(&read(&file));
    (!known.contains(anchor)).then(|| {
        format!(
            "{} has no heading #{anchor} (it has: {})",
            shown(&file),
            known.into_iter().collect::<Vec<_>>().join(", ")
        )
    })
}

#[test]
fn every_relative_link_in_the_readme_and_docs_resolves() {
    let pages = doc_pages();
    assert!(
        pages.len() > 1,
        "expected README.md and pages under docs/, found {pages:?}"
    );
    let mut problems = Vec::new();
    let mut checked = 0;
    for page in &pages {
        for (line, target) in links(&read(page)) {
            checked += 1;
            if let Some(why) = broken(page, &target) {
                problems.push(format!("{}:{line}: ({target}): {why}", shown(page)));
            }
        }
    }
    assert!(checked > 0, "found no links at all in {pages:?}");
    assert_none("broken links in the documentation", problems);
}

#[test]
fn anchors_follow_the_slugs_github_makes() {
    let page = "# Accessibility (WCAG 2.1 AA)\n\
                ## How intake writes: group commit\n\
                ## The staff guide: the task force's side (`/admin`)\n\
                ```sh\n# not a heading\n```\n\
                ## Queues\n## Queues\n\
                Setext heading\n---\n";
    let expected = [
        "accessibility-wcag-21-aa",
        "how-intake-writes-group-commit",
        "the-staff-guide-the-task-forces-side-admin",
        "queues",
        "queues-1",
        "setext-heading",
    ];
    assert_eq!(anchors(page), expected.map(String::from).into());
    let text = "See [the guide](staff.md#login), [wrapped\ntext](a.md), `[code](no.md)`\n\n\
                ```\n[fenced](no.md)\n```\n[ref]: ../b.md#x\n";
    assert_eq!(
        links(text),
        [
            (1, "staff.md#login".into()),
            (2, "a.md".into()),
            (7, "../b.md#x".into())
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Rust sources: the environment variables the app reads.
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Punct(char),
}

/// Rust source as words, string literals and punctuation, without comments.
fn tokens(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let word = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r' && matches!(next, Some('"' | '#')) && {
            let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
            chars.get(i + 1 + hashes) == Some(&'"')
        } {
            let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
            let start = i + 2 + hashes;
            let closing: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let mut end = start;
            while end < chars.len() && !chars[end..].starts_with(&closing) {
                end += 1;
            }
            out.push(Token::Str(chars[start..end].iter().collect()));
            i = end + closing.len();
        } else if c == '"' {
            let mut text = String::new();
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if let Some(c) = chars.get(i) {
                    text.push(*c);
                }
                i += 1;
            }
            out.push(Token::Str(text));
            i += 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '"') or a lifetime ('a).
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if word(c) {
            let start = i;
            while i < chars.len() && word(chars[i]) {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            out.push(Token::Punct(c));
            i += 1;
        }
    }
    out
}

fn is_punct(token: Option<&Token>, c: char) -> bool {
    token == Some(&Token::Punct(c))
}

fn is_word(token: Option<&Token>, w: &str) -> bool {
    matches!(token, Some(Token::Word(t)) if t == w)
}

/// Where `#[cfg(test)]` starts at `tokens[i]`, the index just after it.
fn cfg_test_at(tokens: &[Token], i: usize) -> Option<usize> {
    let pattern = ["#", "[", "cfg", "(", "test", ")", "]"];
    pattern
        .iter()
        .enumerate()
        .all(|(k, p)| match tokens.get(i + k) {
            Some(Token::Punct(c)) => p.len() == 1 && p.starts_with(*c),
            Some(Token::Word(w)) => w == p,
            _ => false,
        })
        .then_some(i + pattern.len())
}

/// The tokens without `#[cfg(test)]` items, and the names of test-only modules declared
/// in other files (`#[cfg(test)] mod name;`).
fn without_tests(tokens: &[Token]) -> (Vec<Token>, Vec<String>) {
    let mut kept = Vec::new();
    let mut test_modules = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let Some(mut j) = cfg_test_at(tokens, i) else {
            kept.push(tokens[i].clone());
            i += 1;
            continue;
        };
        if let (true, Some(Token::Word(name)), true) = (
            is_word(tokens.get(j), "mod"),
            tokens.get(j + 1),
            is_punct(tokens.get(j + 2), ';'),
        ) {
            test_modules.push(name.clone());
        }
        // Skip the item: up to its `;`, or through the braces it opens.
        let mut depth = 0;
        while j < tokens.len() {
            match &tokens[j] {
                Token::Punct(';') if depth == 0 => break,
                Token::Punct('{') => depth += 1,
                Token::Punct('}') => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        i = j + 1;
    }
    (kept, test_modules)
}

/// Looks like an environment variable: `BIND`, `SMTP_URL`, `SLA_HIGH_HOURS`.
fn env_like(s: &str) -> bool {
    s.len() >= 3
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !s.ends_with('_')
        && !s.contains("__")
}

/// The environment variables the app reads, each with the file that reads it:
/// - every variable-like string literal outside tests in the settings (`src/config.rs`, or
///   `src/config/`), however the settings look them up;
/// - anywhere in `src/` outside tests, clap's `env = "…"` and `std::env::var("…")` /
///   `var_os("…")`.
fn variables_in_code() -> HashMap<String, String> {
    let src = root().join("src");
    let mut settings: Vec<PathBuf> = files_under(&src.join("config"), "rs");
    if src.join("config.rs").exists() {
        settings.push(src.join("config.rs"));
    }
    assert!(
        !settings.is_empty(),
        "neither src/config.rs nor src/config/ exists: tell tests/api/docs.rs where the settings are read"
    );

    let parsed: Vec<(PathBuf, Vec<Token>, Vec<String>)> = files_under(&src, "rs")
        .into_iter()
        .map(|path| {
            let (tokens, test_modules) = without_tests(&tokens(&read(&path)));
            (path, tokens, test_modules)
        })
        .collect();
    // Files of modules that exist only in tests: `mod x;` under `#[cfg(test)]`.
    let mut test_only: Vec<PathBuf> = Vec::new();
    for (path, _, modules) in &parsed {
        let stem = path.file_stem().unwrap().to_string_lossy();
        let dir = if ["mod", "lib", "main"].contains(&stem.as_ref()) {
            path.parent().unwrap().to_path_buf()
        } else {
            path.with_extension("")
        };
        for name in modules {
            test_only.push(dir.join(format!("{name}.rs")));
            test_only.push(dir.join(name));
        }
    }

    let mut found = HashMap::new();
    let mut in_settings = 0;
    for (path, tokens, _) in &parsed {
        if test_only.iter().any(|t| path.starts_with(t)) {
            continue;
        }
        let is_settings = settings.contains(path);
        for (i, token) in tokens.iter().enumerate() {
            let Token::Str(s) = token else { continue };
            if !env_like(s) {
                continue;
            }
            let before = |k: usize| i.checked_sub(k).and_then(|j| tokens.get(j));
            let clap_env = is_punct(before(1), '=') && is_word(before(2), "env");
            let env_call = is_punct(before(1), '(')
                && (is_word(before(2), "var") || is_word(before(2), "var_os"))
                && is_punct(before(3), ':')
                && is_word(before(5), "env");
            if is_settings || clap_env || env_call {
                in_settings += usize::from(is_settings);
                found.insert(s.clone(), shown(path));
            }
        }
    }
    assert!(
        in_settings > 0,
        "found no environment variables in {:?}: the way the settings read them has changed; \
         teach variables_in_code in tests/api/docs.rs to find them",
        settings.iter().map(|p| shown(p)).collect::<Vec<_>>()
    );
    found
}

const CONFIGURATION: &str = "docs/operating/configuration.md";

/// The variables named (in backticks) in the first column of the reference tables of the
/// configuration page, those whose first header cell is `variable`, with their lines.
fn variables_documented() -> HashMap<String, usize> {
    let text = read(&root().join(CONFIGURATION));
    let mut found = HashMap::new();
    let mut in_reference = false;
    for (i, line) in text.lines().enumerate() {
        let Some(row) = line.trim().strip_prefix('|') else {
            in_reference = false;
            continue;
        };
        let first = row.split('|').next().unwrap_or("").trim();
        if first == "variable" {
            in_reference = true;
            continue;
        }
        if !in_reference {
            continue;
        }
        for (k, part) in first.split('`').enumerate() {
            if k % 2 == 1 && env_like(part) {
                found.insert(part.to_string(), i + 1);
            }
        }
    }
    assert!(
        !found.is_empty(),
        "{CONFIGURATION} has no reference table (a table whose first column is `variable`)"
    );
    found
}

/// Fails with every problem found, one a line, in a stable order.
fn assert_none(what: &str, mut problems: Vec<String>) {
    problems.sort();
    assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
}

#[test]
fn the_configuration_reference_names_exactly_the_variables_the_app_reads() {
    let in_code = variables_in_code();
    let documented = variables_documented();
    let mut problems: Vec<String> = in_code
        .iter()
        .filter(|(name, _)| !documented.contains_key(*name))
        .map(|(name, file)| format!("{name}: read in {file}, missing from {CONFIGURATION}"))
        .collect();
    problems.extend(
        documented
            .iter()
            .filter(|(name, _)| !in_code.contains_key(*name))
            .map(|(name, line)| format!("{CONFIGURATION}:{line}: {name} is never read by the app")),
    );
    assert_none(
        "the configuration reference and the code disagree",
        problems,
    );
}
