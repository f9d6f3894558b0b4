//! The git attributes the marker check reads, asked of git itself: one `git check-attr --stdin`
//! per source commit for every path of a push that may hold a conflict block (none at all when no
//! path may), so the cost does not grow with a process per file.
//!
//! The source is a commit of the remote's side (see [`super::remote_side`]), or no commit (an
//! empty tree: only what git reads outside any tree, `info/attributes`, `core.attributesFile`
//! and the system's file). Without `--source`, git would read the work tree's `.gitattributes`,
//! which is the pushed commit's.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

use gix::ObjectId;

use super::markers;
use crate::repo::Repo;

/// What git's attributes say about one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attributes {
    /// `conflict-marker-size`, 7 when unset or not a positive number.
    pub marker_size: usize,
    /// `diff`: `Some(true)` when unset (`-diff`, `binary`), `Some(false)` when set (text
    /// whatever its bytes), `None` when unspecified or a driver's name (git looks at the bytes).
    pub binary: Option<bool>,
}

impl Default for Attributes {
    fn default() -> Self {
        Attributes {
            marker_size: markers::DEFAULT_SIZE,
            binary: None,
        }
    }
}

/// The attributes of each of `paths` with `source`'s tree, in one `git check-attr` process.
pub fn read(
    repo: &Repo,
    source: Option<ObjectId>,
    paths: &[&str],
) -> Result<HashMap<String, Attributes>, String> {
    let source = source.unwrap_or_else(|| ObjectId::empty_tree(repo.object_format()));
    let mut child = Command::new("git")
        .arg("--git-dir")
        .arg(repo.git_dir())
        .args(["check-attr", "--stdin", "-z"])
        .arg(format!("--source={source}"))
        .args(["conflict-marker-size", "diff"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git check-attr: {e}"))?;
    let mut input = child
        .stdin
        .take()
        .expect("stdin is piped because it was asked for");
    let mut output = child
        .stdout
        .take()
        .expect("stdout is piped because it was asked for");
    let mut answer = Vec::new();
    // Written beside the reading: git answers as it reads, and a full pipe each way would stall.
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for path in paths {
                if input.write_all(path.as_bytes()).is_err() || input.write_all(b"\0").is_err() {
                    break;
                }
            }
        });
        output.read_to_end(&mut answer)
    })
    .map_err(|e| format!("cannot read git check-attr's answer: {e}"))?;
    let done = child
        .wait_with_output()
        .map_err(|e| format!("git check-attr: {e}"))?;
    if !done.status.success() {
        return Err(format!(
            "git check-attr --source={source}: {}: {}",
            done.status,
            crate::git::trimmed(&done.stderr)
        ));
    }
    Ok(parse(&answer))
}

/// `git check-attr -z` output: `<path> NUL <attribute> NUL <value> NUL`, per path and attribute.
fn parse(answer: &[u8]) -> HashMap<String, Attributes> {
    let mut found: HashMap<String, Attributes> = HashMap::new();
    let fields: Vec<&[u8]> = answer.split(|b| *b == 0).collect();
    for triple in fields.chunks_exact(3) {
        let [path, name, value] = triple else {
            continue;
        };
        let path = String::from_utf8_lossy(path).into_owned();
        let value = String::from_utf8_lossy(value);
        let entry = found.entry(path).or_default();
        match *name {
            b"conflict-marker-size" => {
                if let Some(size) = value.trim().parse::<usize>().ok().filter(|&n| n > 0) {
                    entry.marker_size = size;
                }
            }
            b"diff" => {
                entry.binary = match value.as_ref() {
                    "unset" => Some(true),
                    "set" => Some(false),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_gits_answer() {
        let answer = b"a.md\0conflict-marker-size\x0010\0a.md\0diff\0unset\0\
                       b.md\0conflict-marker-size\0unspecified\0b.md\0diff\0set\0\
                       c\0conflict-marker-size\x000\0c\0diff\0word\0";
        let found = parse(answer);
        assert_eq!(
            found["a.md"],
            Attributes {
                marker_size: 10,
                binary: Some(true)
            }
        );
        assert_eq!(
            found["b.md"],
            Attributes {
                marker_size: 7,
                binary: Some(false)
            }
        );
        assert_eq!(found["c"], Attributes::default());
    }
}
