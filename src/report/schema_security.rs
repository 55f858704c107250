//! Validation of `portcullis/security-report/v1` frontmatter (see README, "Security report").

use super::verdict::{Outcome, reasons_field, verdict_field};

/// Check a security report's frontmatter; returns the outcome and reasons, or why it cannot be
/// trusted (which the reader turns into FAIL).
pub fn validate(fm: &serde_norway::Mapping) -> Result<(Outcome, Vec<String>), String> {
    let outcome = verdict_field(fm, &[Outcome::Pass, Outcome::Fail])?;
    let reasons = reasons_field(fm)?;
    Ok((outcome, reasons))
}
