//! Patch files as `git format-patch` writes them: reading one into the
//! commit it describes, and the file names a series uses.

use anyhow::Result;

/// One `git format-patch` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailPatch {
    pub author_name: String,
    pub author_email: String,
    /// Seconds since the epoch and the offset in minutes, from `Date:`.
    pub time: (i64, i32),
    /// The subject without its `[PATCH n/m]` prefix.
    pub subject: String,
    /// The message body (between the headers and `---`), may be empty.
    pub body: String,
    /// The diff itself (from the first `diff --git`), without the signature.
    pub diff: Vec<u8>,
}

impl MailPatch {
    /// The commit message: subject, blank line, body.
    pub fn message(&self) -> String {
        if self.body.trim().is_empty() {
            format!("{}\n", self.subject)
        } else {
            format!("{}\n\n{}\n", self.subject, self.body.trim_end())
        }
    }
}

pub fn parse(bytes: &[u8]) -> Result<MailPatch, String> {
    let text = String::from_utf8_lossy(bytes);
    let diff_start = text
        .find("\ndiff --git ")
        .map(|i| i + 1)
        .or_else(|| text.starts_with("diff --git ").then_some(0))
        .ok_or("it contains no `diff --git` section")?;
    let (mail, diff) = text.split_at(diff_start);
    // format-patch ends with "-- \n<version>\n"; the diff parser wants none of it.
    let diff = match diff.rfind("\n-- \n") {
        Some(end) => &diff[..end + 1],
        None => diff,
    };

    let (headers, message) = mail.split_once("\n\n").unwrap_or((mail, ""));
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in headers.lines() {
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let from = field("from").ok_or("it has no `From:` header")?;
    let (author_name, author_email) = match from.rsplit_once('<') {
        Some((name, email)) => (name.trim().trim_matches('"').to_string(), email.trim_end_matches('>').to_string()),
        None => (from.to_string(), from.to_string()),
    };
    let time = field("date").and_then(parse_date).ok_or("its `Date:` header is missing or not RFC 2822")?;
    let mut subject = field("subject").ok_or("it has no `Subject:` header")?.to_string();
    if subject.starts_with('[')
        && let Some(end) = subject.find(']')
    {
        subject = subject[end + 1..].trim_start().to_string();
    }
    let body = match message.find("\n---\n").or_else(|| message.starts_with("---\n").then_some(0)) {
        Some(end) => &message[..end],
        None => message,
    };
    Ok(MailPatch {
        author_name,
        author_email,
        time,
        subject,
        body: body.trim().to_string(),
        diff: diff.as_bytes().to_vec(),
    })
}

/// `Mon, 1 Jan 2024 10:00:00 +0100` → (epoch seconds, offset minutes).
fn parse_date(text: &str) -> Option<(i64, i32)> {
    let text = text.split_once(',').map_or(text, |(_, rest)| rest).trim();
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [day, month, year, clock, zone] = parts[..] else { return None };
    let month = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        .iter()
        .position(|m| month.to_ascii_lowercase().starts_with(m))? as i64
        + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let clock: Vec<i64> = clock.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let [hour, minute, second] = clock[..] else { return None };
    // Out of range is not a date (and would overflow the arithmetic below:
    // a 20-digit day once did, found by `cargo xtask fuzz`).
    let in_range = (1..=31).contains(&day)
        && (0..=9999).contains(&year)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute)
        && (0..=60).contains(&second);
    if !in_range {
        return None;
    }
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let zone = zone.trim_start_matches(['+', '-']);
    let offset = sign * (zone.get(..2)?.parse::<i32>().ok()? * 60 + zone.get(2..4)?.parse::<i32>().ok()?);
    let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Some((local - i64::from(offset) * 60, offset))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// libgit2 ends a patch with `--\nlibgit2 VERSION\n`; `git am` and the
/// parser here expect git's `-- \n` separator, so the ending is rewritten.
pub fn with_signature(email: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(email);
    let body = match text.rfind("\n--\nlibgit2 ") {
        Some(end) => &text[..end + 1],
        None => return email.to_vec(),
    };
    format!("{body}-- \nwarp {}\n\n", env!("CARGO_PKG_VERSION")).into_bytes()
}

/// `0003-fix-the-thing.patch`, as `git format-patch` names it.
pub fn file_name(number: usize, subject: &str) -> String {
    let mut slug = String::new();
    for c in subject.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug: String = slug.trim_matches(['-', '.']).chars().take(52).collect();
    slug = slug.trim_end_matches(['-', '.']).to_string();
    format!("{number:04}-{slug}.patch")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATCH: &str = "From 1234567890abcdef1234567890abcdef12345678 Mon Sep 17 00:00:00 2001
From: Ada Lovelace <ada@example.org>
Date: Tue, 10 May 2022 14:03:07 +0200
Subject: [PATCH 2/3] dns: ask the warpgrid shim first for
 *.warp.local names

Names in the cluster domain never reach the host's resolver.
---
 src/netdb.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/src/netdb.c b/src/netdb.c
index 1111111..2222222 100644
--- a/src/netdb.c
+++ b/src/netdb.c
@@ -1 +1 @@
-old
+new
-- 
2.39.5

";

    /// `cargo xtask fuzz`'s `patch_series` target: a `Date:` whose day has
    /// 20 digits overflowed the epoch arithmetic (a panic with debug
    /// assertions, a wrong commit date without).
    #[test]
    fn an_out_of_range_date_is_refused_not_overflowed() {
        let crash = PATCH.replace(
            "Date: Tue, 10 May 2022 14:03:07 +0200",
            "Date: Sun,  0000000000000000801505682082758677 Nov 2026 23:01:12 +0000",
        );
        assert_eq!(parse(crash.as_bytes()).unwrap_err(), "its `Date:` header is missing or not RFC 2822");
        for date in ["32 Jan 2024 10:00:00 +0000", "1 Jan 2024 24:00:00 +0000", "1 Jan 99999 10:00:00 +0000"] {
            assert_eq!(parse_date(date), None, "{date}");
        }
        assert_eq!(parse_date("Thu, 1 Jan 1970 00:00:00 +0000"), Some((0, 0)));
    }

    #[test]
    fn a_format_patch_file_reads_back_into_a_commit() {
        let patch = parse(PATCH.as_bytes()).unwrap();
        assert_eq!((patch.author_name.as_str(), patch.author_email.as_str()), ("Ada Lovelace", "ada@example.org"));
        assert_eq!(patch.subject, "dns: ask the warpgrid shim first for *.warp.local names");
        assert_eq!(patch.body, "Names in the cluster domain never reach the host's resolver.");
        assert_eq!(patch.time, (1_652_184_187, 120));
        let diff = String::from_utf8(patch.diff.clone()).unwrap();
        assert!(diff.starts_with("diff --git a/src/netdb.c") && diff.ends_with("+new\n"), "{diff:?}");
        assert!(patch.message().starts_with("dns: ask the warpgrid shim first for *.warp.local names\n\nNames"));
    }

    #[test]
    fn broken_patches_say_what_is_missing() {
        assert!(parse(b"just some text\n").unwrap_err().contains("no `diff --git`"));
        let no_date = PATCH.replace("Date: Tue, 10 May 2022 14:03:07 +0200\n", "");
        assert!(parse(no_date.as_bytes()).unwrap_err().contains("Date:"));
    }

    #[test]
    fn libgit2_signatures_become_gits() {
        let email = b"Subject: x\n\ndiff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n--\n+-x\n--\nlibgit2 1.9.7\n\n";
        let fixed = String::from_utf8(with_signature(email)).unwrap();
        assert!(fixed.ends_with("+-x\n-- \nwarp 0.1.0\n\n"), "{fixed:?}");
        assert!(fixed.contains("@@ -1 +1 @@\n--\n"), "a removed `-` line stays");
    }

    #[test]
    fn file_names_follow_format_patch() {
        assert_eq!(
            file_name(1, "dns: ask the shim first (*.warp.local)"),
            "0001-dns-ask-the-shim-first-.warp.local.patch"
        );
        assert_eq!(file_name(12, "Fix"), "0012-Fix.patch");
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }
}
