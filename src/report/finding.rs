//! The finding model, re-exported from its leaf module [`crate::finding`] (kept so that
//! `report::finding::…` paths keep working).

pub use crate::finding::{Confidence, Finding, report_order, secret_fingerprint};
