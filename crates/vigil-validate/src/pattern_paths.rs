//! Finds the object paths (`type:property`) a STIX pattern compares, without
//! parsing the full grammar. Syntax is the pattern crate's job; this only
//! needs the names, to apply the naming rules of section 9.
//!
//! Quoted strings are skipped so that `'a:b'` inside a literal is not taken
//! for a path.

/// Returns `(object type, first property)` for every comparison in `pattern`.
pub(crate) fn object_paths(pattern: &str) -> Vec<(&str, &str)> {
    let b = pattern.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' => {
                // Skip a string literal; `\'` and `\\` are escapes.
                i += 1;
                while i < b.len() && b[i] != b'\'' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'-' || b[i] == b'_')
                {
                    i += 1;
                }
                let word = &pattern[start..i];
                if i < b.len() && b[i] == b':' {
                    let pstart = i + 1;
                    let mut j = pstart;
                    while j < b.len()
                        && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'-')
                    {
                        j += 1;
                    }
                    if j > pstart {
                        out.push((word, &pattern[pstart..j]));
                    }
                    i = j;
                } else if i == start {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::object_paths;

    #[test]
    fn finds_paths_and_skips_literals() {
        let p = "[file:hashes.'SHA-256' = 'ab:cd'] AND [app:id = 'x\\'y:z'] WITHIN 5 SECONDS";
        assert_eq!(object_paths(p), vec![("file", "hashes"), ("app", "id")]);
        assert_eq!(
            object_paths("[android-property:name = 'a']"),
            vec![("android-property", "name")]
        );
    }
}
