//! The `dependencies` of a `package.json`: each package with the range the
//! project asks for and the line that declares it, in file order. These
//! are what the app can import, so what `warp pack --lang ts` (or `--lang
//! bun`, for a Bun project: looked up in the Bun records) bundles.
//! `devDependencies` (TypeScript, test runners, linters, `@types/*`) are
//! build and test tools, not bundled: they are listed as not looked up.
//! `peerDependencies` and `optionalDependencies` are not read. Pure: no
//! `npm` process, no `node_modules`.

use anyhow::{Result, bail};

use super::{Declared, Dependency, Skipped};

/// What `text` (a package.json) declares.
pub fn dependencies(text: &str) -> Result<Declared> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    let Some(object) = value.as_object() else { bail!("the top level is not an object") };
    let section = |name: &str| -> Result<Vec<(String, String)>> {
        let Some(section) = object.get(name) else { return Ok(Vec::new()) };
        let Some(entries) = section.as_object() else {
            bail!("`{name}` is not an object of package names and version ranges");
        };
        entries
            .iter()
            .map(|(package, range)| match range.as_str() {
                Some(range) => Ok((package.clone(), range.to_string())),
                None => bail!("`{name}.{package}` is not a version range (a string): {range}"),
            })
            .collect()
    };
    let declared = section("dependencies")?;
    let dev = section("devDependencies")?;

    let mut dependencies = Vec::new();
    for (name, line) in key_lines(text, "dependencies") {
        // A key given twice counts once, with the value JSON keeps (the last).
        if dependencies.iter().any(|d: &Dependency| d.name == name) {
            dependencies.retain(|d| d.name != name);
        }
        let version = declared.iter().find(|(n, _)| *n == name).map(|(_, range)| range.clone()).unwrap_or_default();
        dependencies.push(Dependency { name, version, indirect: false, line });
    }
    let mut names: Vec<String> = Vec::new();
    for (name, _) in key_lines(text, "devDependencies") {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    debug_assert_eq!(names.len(), dev.len());
    let skipped = (!names.is_empty()).then_some(Skipped {
        what: "devDependencies",
        why: "build and test tools, not bundled",
        names,
    });
    Ok(Declared { dependencies, skipped })
}

/// The keys of the top-level object's member `section` (an object), each
/// with its line (1-based), in file order. `text` is valid JSON.
fn key_lines(text: &str, section: &str) -> Vec<(String, usize)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    // The open objects and arrays, and whether the next string is a key.
    let (mut open, mut expect_key) = (Vec::new(), false);
    let (mut line, mut top_key) = (1, None::<String>);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => line += 1,
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if expect_key && open.last() == Some(&b'{') {
                    let key: String = serde_json::from_str(&text[start..=i.min(bytes.len() - 1)]).unwrap_or_default();
                    match open.len() {
                        1 => top_key = Some(key),
                        2 if top_key.as_deref() == Some(section) && open[1] == b'{' => found.push((key, line)),
                        _ => {}
                    }
                }
                expect_key = false;
            }
            c @ (b'{' | b'[') => {
                open.push(c);
                expect_key = c == b'{';
            }
            b'}' | b']' => {
                open.pop();
                expect_key = false;
            }
            b',' => expect_key = open.last() == Some(&b'{'),
            _ => {}
        }
        i += 1;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(String, String, usize)> {
        dependencies(text).unwrap().dependencies.into_iter().map(|d| (d.name, d.version, d.line)).collect()
    }

    fn dep(name: &str, version: &str, line: usize) -> (String, String, usize) {
        (name.into(), version.into(), line)
    }

    #[test]
    fn dependencies_in_file_order_with_lines_and_dev_dependencies_skipped() {
        let text = r#"{
  "name": "shop",
  "version": "1.0.0",
  "scripts": { "build": "warp pack", "dependencies": "not a section" },
  "dependencies": {
    "zod": "^4.1.0",
    "@sinclair/typebox": "0.34.x",
    "hono": "4.13.19",
    "@warpgrid/sdk": "file:./vendor/warpgrid-sdk"
  },
  "devDependencies": {"typescript": "^5.9.0", "@types/node": "^24.0.0"},
  "overrides": { "dependencies": { "x": "1" } }
}
"#;
        assert_eq!(
            names(text),
            [
                dep("zod", "^4.1.0", 6),
                dep("@sinclair/typebox", "0.34.x", 7),
                dep("hono", "4.13.19", 8),
                dep("@warpgrid/sdk", "file:./vendor/warpgrid-sdk", 9),
            ]
        );
        let skipped = dependencies(text).unwrap().skipped.unwrap();
        assert_eq!(skipped.what, "devDependencies");
        assert_eq!(skipped.names, ["typescript", "@types/node"]);
        assert!(dependencies(text).unwrap().dependencies.iter().all(|d| !d.indirect));
    }

    #[test]
    fn strings_with_braces_quotes_and_escapes_do_not_confuse_the_lines() {
        let text = "{\"description\": \"a { tricky \\\" } [ string\",\n\"dependencies\"\n:\n{\n\"a\\u002fb\": \"1.0.0\", \"c\": \"^2\"\n}}";
        assert_eq!(names(text), [dep("a/b", "1.0.0", 5), dep("c", "^2", 5)]);
        assert!(dependencies(text).unwrap().skipped.is_none());
    }

    #[test]
    fn no_dependencies_is_empty_not_an_error() {
        assert!(names("{}").is_empty());
        assert!(names(r#"{"name": "alone", "dependencies": {}}"#).is_empty());
        let only_dev = dependencies(r#"{"devDependencies": {"vitest": "^3"}}"#).unwrap();
        assert!(only_dev.dependencies.is_empty());
        assert_eq!(only_dev.skipped.unwrap().names, ["vitest"]);
    }

    #[test]
    fn malformed_package_json_is_named() {
        let error = dependencies("{\n  \"dependencies\": {\"a\": \"1\",}\n}").unwrap_err().to_string();
        assert!(error.contains("line 2"), "serde's position: {error}");
        let error = dependencies("[]").unwrap_err().to_string();
        assert!(error.contains("not an object"), "{error}");
        let error = dependencies(r#"{"dependencies": ["hono"]}"#).unwrap_err().to_string();
        assert!(error.contains("`dependencies` is not an object"), "{error}");
        let error = dependencies(r#"{"dependencies": {"hono": 4}}"#).unwrap_err().to_string();
        assert!(error.contains("`dependencies.hono` is not a version range"), "{error}");
    }
}
