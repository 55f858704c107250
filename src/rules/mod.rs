//! gitleaks v8 TOML configuration: schema, `[extend]` merging and compilation.
