//! Tree objects served from memory during the tree-diff phase ([`portcullis_pack::trees`]).

pub(crate) use portcullis_pack::trees::*;
