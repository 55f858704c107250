//! Bounding the resident memory of memory-mapped pack files ([`portcullis_pack::resident`]).

pub(crate) use portcullis_pack::resident::*;
