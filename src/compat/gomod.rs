//! The `require` directives of a `go.mod`: single-line and block forms,
//! with `// indirect` marked, as `go mod` writes them (and as people do:
//! quoted paths, comments, several blocks). Other directives (`module`,
//! `go`, `toolchain`, `replace`, `exclude`, `retract`, `tool`, `godebug`)
//! are skipped, blocks included. Pure: no `go` process.

use anyhow::{Result, bail};

use super::Dependency;

/// The modules `text` (a go.mod) requires, in file order.
pub fn requirements(text: &str) -> Result<Vec<Dependency>> {
    let mut found = Vec::new();
    // The directive of the block we are in, if any.
    let mut block: Option<String> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let (code, comment) = split_comment(raw);
        let code = code.trim();
        if code.is_empty() {
            continue;
        }
        if let Some(directive) = &block {
            if code == ")" {
                block = None;
            } else if directive == "require" {
                found.push(requirement(code, comment, line)?);
            }
            continue;
        }
        let (directive, rest) = code.split_once(char::is_whitespace).unwrap_or((code, ""));
        let rest = rest.trim();
        if rest == "(" {
            block = Some(directive.to_string());
        } else if directive == "require" {
            if rest.is_empty() {
                bail!("line {line}: `require` without a module");
            }
            found.push(requirement(rest, comment, line)?);
        }
    }
    if let Some(directive) = block {
        bail!("a `{directive} (` block is not closed with `)`");
    }
    Ok(found)
}

/// `path version` of one requirement (the words after `require`, or a
/// line of a require block).
fn requirement(code: &str, comment: Option<&str>, line: usize) -> Result<Dependency> {
    let words = words(code);
    let [name, version] = words.as_slice() else {
        bail!("line {line}: expected `MODULE VERSION` in a require, found `{code}`");
    };
    if !version.starts_with('v') {
        bail!("line {line}: `{version}` is not a module version (they start with `v`), in `{code}`");
    }
    // `// indirect`, possibly followed by more after a semicolon (as go writes it).
    let indirect = comment.is_some_and(|c| {
        let c = c.trim();
        c == "indirect" || c.starts_with("indirect;")
    });
    Ok(Dependency { name: name.clone(), version: version.clone(), indirect, line })
}

/// The code of a line and its `//` comment, if any. A `//` inside a
/// quoted string is not a comment.
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let bytes = line.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        match (quote, bytes[i]) {
            (Some(b'"'), b'\\') => i += 1,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, c @ (b'"' | b'`')) => quote = Some(c),
            (None, b'/') if bytes.get(i + 1) == Some(&b'/') => return (&line[..i], Some(&line[i + 2..])),
            (None, _) => {}
        }
        i += 1;
    }
    (line, None)
}

/// The words of a directive, quoted ones unquoted.
fn words(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = code.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' || c == '`' {
            chars.next();
            let mut word = String::new();
            while let Some(d) = chars.next() {
                if d == c {
                    break;
                }
                if c == '"' && d == '\\' {
                    if let Some(escaped) = chars.next() {
                        word.push(escaped);
                    }
                    continue;
                }
                word.push(d);
            }
            out.push(word);
        } else {
            let mut word = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_whitespace() {
                    break;
                }
                word.push(d);
                chars.next();
            }
            out.push(word);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(String, String, bool)> {
        requirements(text).unwrap().into_iter().map(|d| (d.name, d.version, d.indirect)).collect()
    }

    fn dep(name: &str, version: &str, indirect: bool) -> (String, String, bool) {
        (name.into(), version.into(), indirect)
    }

    #[test]
    fn blocks_and_single_lines_with_indirect_marked() {
        let text = "module example.com/shop\n\ngo 1.24\n\ntoolchain go1.26.8\n\n\
                    require github.com/go-chi/chi/v5 v5.2.3\n\n\
                    require (\n\tgithub.com/google/uuid v1.6.0\n\tgithub.com/gorilla/websocket v1.5.3 // indirect\n)\n\n\
                    require (\n\t// a comment line\n\n\tgolang.org/x/crypto v0.45.0 // indirect; via bcrypt\n\tgopkg.in/yaml.v3 v3.0.1 // pinned, not indirect\n)\n";
        assert_eq!(
            names(text),
            [
                dep("github.com/go-chi/chi/v5", "v5.2.3", false),
                dep("github.com/google/uuid", "v1.6.0", false),
                dep("github.com/gorilla/websocket", "v1.5.3", true),
                dep("golang.org/x/crypto", "v0.45.0", true),
                dep("gopkg.in/yaml.v3", "v3.0.1", false),
            ]
        );
        let lines: Vec<usize> = requirements(text).unwrap().iter().map(|d| d.line).collect();
        assert_eq!(lines, [7, 10, 11, 17, 18]);
    }

    #[test]
    fn other_blocks_are_not_requirements() {
        let text = "module m\n\nreplace (\n\tgithub.com/a/b v1.0.0 => ../b\n\tgithub.com/c/d => github.com/e/d v1.2.0\n)\n\n\
                    exclude (\n\tgithub.com/x/y v0.1.0\n)\n\nretract [v1.0.0, v1.0.5]\n\n\
                    tool golang.org/x/tools/cmd/stringer\n\nrequire github.com/a/b v1.0.0 // indirect\n";
        assert_eq!(names(text), [dep("github.com/a/b", "v1.0.0", true)]);
    }

    #[test]
    fn quoted_paths_and_pseudo_versions() {
        let text = "module m\nrequire \"example.com/quoted//path\" v0.0.0-20240101000000-abcdef123456 // indirect\n\
                    require (\n\t`example.com/raw` v1.2.3+incompatible\n)\n";
        assert_eq!(
            names(text),
            [
                dep("example.com/quoted//path", "v0.0.0-20240101000000-abcdef123456", true),
                dep("example.com/raw", "v1.2.3+incompatible", false),
            ]
        );
    }

    #[test]
    fn no_requirements_is_empty_not_an_error() {
        assert!(names("module example.com/alone\n\ngo 1.24\n").is_empty());
        assert!(names("").is_empty());
    }

    #[test]
    fn malformed_requirements_name_the_line() {
        let error = requirements("module m\n\nrequire github.com/a/b\n").unwrap_err().to_string();
        assert!(error.contains("line 3") && error.contains("MODULE VERSION"), "{error}");
        let error = requirements("module m\nrequire (\n\tgithub.com/a/b latest\n)\n").unwrap_err().to_string();
        assert!(error.contains("line 3") && error.contains("`latest` is not a module version"), "{error}");
        let error = requirements("module m\nrequire (\n\tgithub.com/a/b v1.0.0\n").unwrap_err().to_string();
        assert!(error.contains("`require (` block is not closed"), "{error}");
        let error = requirements("module m\nrequire\n").unwrap_err().to_string();
        assert!(error.contains("line 2"), "{error}");
    }
}
