//! The model's constraints (required members, lengths, patterns, enums, ranges), reported the way AWS
//! services report them: "2 validation errors detected: Value null at 'featureGroupName' failed to satisfy
//! constraint: Member must not be null; ...". Paths use camelCase member names and `.N.member` (1-based) for
//! list items, like the service.

use std::fmt::Display;

#[derive(Debug, Default)]
pub struct Constraints {
    errors: Vec<String>,
}

/// How many characters of an offending value a message quotes.
const QUOTED_VALUE_LIMIT: usize = 100;

impl Constraints {
    pub fn new() -> Self {
        Self::default()
    }

    fn fail(&mut self, value: Option<&dyn Display>, path: &str, constraint: &str) {
        let value = match value {
            None => "null".to_owned(),
            Some(value) => {
                let text = value.to_string();
                let quoted: String = text.chars().take(QUOTED_VALUE_LIMIT).collect();
                format!("'{quoted}'")
            }
        };
        self.errors.push(format!(
            "Value {value} at '{path}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// A required member; returns whether it is present.
    pub fn required<T: ?Sized>(&mut self, path: &str, value: Option<&T>) -> bool {
        if value.is_none() {
            self.fail(None, path, "Member must not be null");
        }
        value.is_some()
    }

    /// A string's length in characters.
    pub fn length(&mut self, path: &str, value: &str, min: usize, max: usize) -> bool {
        let len = value.chars().count();
        if len < min {
            self.fail(
                Some(&value),
                path,
                &format!("Member must have length greater than or equal to {min}"),
            );
            return false;
        }
        if len > max {
            self.fail(
                Some(&value),
                path,
                &format!("Member must have length less than or equal to {max}"),
            );
            return false;
        }
        true
    }

    /// A list's number of members.
    pub fn count(&mut self, path: &str, shown: &dyn Display, len: usize, min: usize, max: usize) -> bool {
        if len < min {
            self.fail(
                Some(shown),
                path,
                &format!("Member must have length greater than or equal to {min}"),
            );
            return false;
        }
        if len > max {
            self.fail(
                Some(shown),
                path,
                &format!("Member must have length less than or equal to {max}"),
            );
            return false;
        }
        true
    }

    pub fn pattern(&mut self, path: &str, value: &str, matches: bool, pattern: &str) -> bool {
        if !matches {
            self.fail(
                Some(&value),
                path,
                &format!("Member must satisfy regular expression pattern: {pattern}"),
            );
        }
        matches
    }

    pub fn one_of(&mut self, path: &str, value: &str, allowed: &[&str]) -> bool {
        let ok = allowed.contains(&value);
        if !ok {
            self.fail(
                Some(&value),
                path,
                &format!("Member must satisfy enum value set: [{}]", allowed.join(", ")),
            );
        }
        ok
    }

    pub fn range(&mut self, path: &str, value: i64, min: i64, max: i64) -> bool {
        if value < min {
            self.fail(
                Some(&value),
                path,
                &format!("Member must have value greater than or equal to {min}"),
            );
            return false;
        }
        if value > max {
            self.fail(
                Some(&value),
                path,
                &format!("Member must have value less than or equal to {max}"),
            );
            return false;
        }
        true
    }

    /// `Ok` when every constraint held, else the service's summary message.
    pub fn finish(self) -> Result<(), String> {
        match self.errors.len() {
            0 => Ok(()),
            1 => Err(format!("1 validation error detected: {}", self.errors[0])),
            n => Err(format!(
                "{n} validation errors detected: {}",
                self.errors.join("; ")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_like_the_service() {
        let mut c = Constraints::new();
        assert!(c.required::<String>("featureGroupName", Some(&"x".to_owned())));
        assert!(c.finish().is_ok());

        let mut c = Constraints::new();
        c.required::<String>("featureGroupName", None);
        assert_eq!(
            c.finish().unwrap_err(),
            "1 validation error detected: Value null at 'featureGroupName' failed to satisfy constraint: \
             Member must not be null"
        );

        let mut c = Constraints::new();
        c.one_of(
            "featureDefinitions.1.member.featureType",
            "Text",
            &["Integral", "Fractional", "String"],
        );
        c.length("description", &"d".repeat(129), 0, 128);
        let message = c.finish().unwrap_err();
        assert!(
            message.starts_with("2 validation errors detected: Value 'Text' at"),
            "{message}"
        );
        assert!(message.contains("enum value set: [Integral, Fractional, String]"));
        assert!(message.contains("length less than or equal to 128"));
    }
}
