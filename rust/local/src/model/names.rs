//! Names and ARNs: the service's patterns for feature group and feature names, and how a name or an ARN
//! resolves to a feature group.

/// Names the offline store adds as columns; no feature may take them.
pub const RESERVED_FEATURE_NAMES: [&str; 3] = ["is_deleted", "write_time", "api_invocation_time"];

pub const MAX_NAME_LEN: usize = 64;

/// The service's pattern for feature group and feature names, `[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}`: ASCII
/// letters and digits, hyphens and underscores inside, starting and ending with a letter or digit, at most 64
/// characters.
pub fn is_valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            bytes.len() <= MAX_NAME_LEN
                && first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes.iter().all(|b| NAME_BYTES[usize::from(*b)])
        }
        _ => false,
    }
}

/// The bytes a name may contain; a table because every feature name of every record is checked.
static NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
        b += 1;
    }
    table
};

pub const NAME_PATTERN: &str = "[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}";
pub const NAME_OR_ARN_PATTERN: &str = "(arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:feature-group/)?([a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63})";

/// The ARN of a feature group. SageMaker lower-cases resource names in ARNs.
pub fn feature_group_arn(region: &str, account_id: &str, name: &str) -> String {
    format!(
        "arn:aws:sagemaker:{region}:{account_id}:feature-group/{}",
        name.to_ascii_lowercase()
    )
}

/// What a `FeatureGroupName` member (a name or an ARN) refers to.
#[derive(Debug, PartialEq, Eq)]
pub enum NameOrArn<'a> {
    Name(&'a str),
    /// An ARN: its region, account and the feature group name it ends with.
    Arn {
        region: &'a str,
        account_id: &'a str,
        name: &'a str,
    },
}

impl<'a> NameOrArn<'a> {
    /// Parses a name or an ARN against the service's pattern; `None` when it matches neither.
    pub fn parse(value: &'a str) -> Option<NameOrArn<'a>> {
        let Some(rest) = value.strip_prefix("arn:") else {
            return is_valid_name(value).then_some(NameOrArn::Name(value));
        };
        // arn:aws[a-z-]*:sagemaker:<region>:<account>:feature-group/<name>
        let mut parts = rest.splitn(5, ':');
        let partition = parts.next()?;
        let service = parts.next()?;
        let region = parts.next()?;
        let account_id = parts.next()?;
        let name = parts.next()?.strip_prefix("feature-group/")?;
        let partition_ok = partition
            .strip_prefix("aws")
            .is_some_and(|suffix| suffix.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'));
        let region_ok = region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let account_ok = account_id.len() == 12 && account_id.bytes().all(|b| b.is_ascii_digit());
        (partition_ok && service == "sagemaker" && region_ok && account_ok && is_valid_name(name)).then_some(
            NameOrArn::Arn {
                region,
                account_id,
                name,
            },
        )
    }

    pub fn name(&self) -> &'a str {
        match self {
            NameOrArn::Name(name) | NameOrArn::Arn { name, .. } => name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_service_pattern() {
        for ok in ["a", "customers", "Customers-2024_v1", "a-_-b", &"x".repeat(64)] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "_a", "a b", "a.b", "é", &"x".repeat(65)] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn arns_resolve_to_their_name_region_and_account() {
        let arn = "arn:aws:sagemaker:us-east-1:123456789012:feature-group/customers";
        assert_eq!(
            NameOrArn::parse(arn),
            Some(NameOrArn::Arn {
                region: "us-east-1",
                account_id: "123456789012",
                name: "customers"
            })
        );
        assert_eq!(NameOrArn::parse("customers"), Some(NameOrArn::Name("customers")));
        assert_eq!(
            NameOrArn::parse("arn:aws:sagemaker:us-east-1:1234:feature-group/x"),
            None
        );
        assert_eq!(
            NameOrArn::parse("arn:aws:s3:us-east-1:123456789012:feature-group/x"),
            None
        );
        assert_eq!(
            NameOrArn::parse("arn:aws:sagemaker:us-east-1:123456789012:feature-group/"),
            None
        );
        assert_eq!(feature_group_arn("us-east-1", "123456789012", "Customers"), arn);
    }
}
