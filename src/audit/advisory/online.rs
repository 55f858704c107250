//! `--online`: the OSV API. `POST <url>/v1/querybatch` names the advisories affecting each
//! (ecosystem, name, version); each one is then fetched with `GET <url>/v1/vulns/<id>` for its
//! aliases, fixed versions, severity and summary. Any failure (connect error, timeout, non-2xx,
//! bad JSON) marks the `osv-api` source failed, which makes the audit degraded.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{Affected, LoadedSources, osv};
use crate::audit::lockfile::{LockedPackage, PackageSource};
use crate::audit::{AuditOptions, Ecosystem, SourceInfo};

const BATCH: usize = 500;

/// Why the OSV API could not be used (the `osv-api` source's error).
#[derive(Debug, thiserror::Error)]
pub enum OnlineError {
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Client(#[source] reqwest::Error),
    /// The request failed (connect error, timeout).
    #[error("{method} {url}: {detail}")]
    Send {
        /// `GET` or `POST`.
        method: &'static str,
        /// The URL.
        url: String,
        /// The failure in words (`timed out`, `cannot connect (...)`).
        detail: String,
        /// The HTTP error.
        #[source]
        source: reqwest::Error,
    },
    /// The answer's status is not 2xx.
    #[error("{method} {url}: HTTP {status}")]
    Status {
        /// `GET` or `POST`.
        method: &'static str,
        /// The URL.
        url: String,
        /// The status.
        status: reqwest::StatusCode,
    },
    /// The answer is not JSON.
    #[error("{method} {url}: invalid JSON answer: {detail}")]
    BadJson {
        /// `GET` or `POST`.
        method: &'static str,
        /// The URL.
        url: String,
        /// The failure in words.
        detail: String,
        /// The decoding error.
        #[source]
        source: reqwest::Error,
    },
    /// The batch answer does not fit the query (no `results`, wrong count, endless pages).
    #[error("POST {url}: {problem}")]
    Answer {
        /// The URL.
        url: String,
        /// What is wrong with the answer.
        problem: String,
    },
    /// A fetched record is not a usable OSV record.
    #[error("{id}: {source}")]
    Record {
        /// The advisory id.
        id: String,
        /// What is wrong.
        #[source]
        source: osv::InvalidRecord,
    },
}

fn send(
    method: &'static str,
    url: &str,
    req: reqwest::blocking::RequestBuilder,
) -> Result<Value, OnlineError> {
    let resp = req.send().map_err(|source| OnlineError::Send {
        method,
        url: url.to_string(),
        detail: describe(&source),
        source,
    })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(OnlineError::Status {
            method,
            url: url.to_string(),
            status,
        });
    }
    resp.json::<Value>().map_err(|source| OnlineError::BadJson {
        method,
        url: url.to_string(),
        detail: describe(&source),
        source,
    })
}

fn post(client: &reqwest::blocking::Client, url: &str, body: &Value) -> Result<Value, OnlineError> {
    send("POST", url, client.post(url).json(body))
}

fn get(client: &reqwest::blocking::Client, url: &str) -> Result<Value, OnlineError> {
    send("GET", url, client.get(url))
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        format!("cannot connect ({e})")
    } else {
        e.to_string()
    }
}

/// Query the OSV API for the given packages and add what it reports to `out`.
pub fn query(packages: &[&LockedPackage], opts: &AuditOptions, out: &mut LoadedSources) {
    let base = opts.osv_api_url.trim_end_matches('/').to_string();
    let mut info = SourceInfo {
        date: Some(jiff::Timestamp::now().to_string()),
        license: Some("per-record (OSV aggregates many databases)".into()),
        ..SourceInfo::new("osv-api", "osv-api", base.clone()).covering([
            Ecosystem::CratesIo,
            Ecosystem::PyPI,
            Ecosystem::Npm,
            Ecosystem::Go,
        ])
    };
    match run(packages, opts, &base, out) {
        Ok(n) => info.advisories = Some(n),
        Err(e) => {
            info.ok = false;
            info.error = Some(e.to_string());
        }
    }
    out.infos.push(info);
}

fn run(
    packages: &[&LockedPackage],
    opts: &AuditOptions,
    base: &str,
    out: &mut LoadedSources,
) -> Result<usize, OnlineError> {
    let client = reqwest::blocking::Client::builder()
        .timeout(opts.timeout)
        .connect_timeout(opts.timeout)
        .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(OnlineError::Client)?;
    let queries: BTreeSet<(Ecosystem, String, String)> = packages
        .iter()
        .filter(|p| p.source == PackageSource::Registry)
        .map(|p| (p.ecosystem, p.name.clone(), p.version.clone()))
        .collect();
    let queries: Vec<_> = queries.into_iter().collect();
    // id -> the (ecosystem, normalised name, version) triples the API says it affects.
    let mut hits: BTreeMap<String, BTreeSet<(Ecosystem, String, String)>> = BTreeMap::new();
    let url = format!("{base}/v1/querybatch");
    for chunk in queries.chunks(BATCH) {
        let mut pending: Vec<(usize, Option<String>)> =
            (0..chunk.len()).map(|i| (i, None)).collect();
        let mut rounds = 0;
        while !pending.is_empty() {
            rounds += 1;
            if rounds > 20 {
                return Err(OnlineError::Answer {
                    url: url.clone(),
                    problem: "too many result pages".into(),
                });
            }
            let body = json!({
                "queries": pending.iter().map(|(i, token)| {
                    let (eco, name, version) = &chunk[*i];
                    let mut q = json!({"package": {"name": name, "ecosystem": eco.as_str()}, "version": version});
                    if let Some(t) = token { q["page_token"] = json!(t); }
                    q
                }).collect::<Vec<_>>()
            });
            let answer = post(&client, &url, &body)?;
            let results = answer
                .get("results")
                .and_then(Value::as_array)
                .ok_or_else(|| OnlineError::Answer {
                    url: url.clone(),
                    problem: "answer has no `results` list".into(),
                })?;
            if results.len() != pending.len() {
                return Err(OnlineError::Answer {
                    url: url.clone(),
                    problem: format!("{} results for {} queries", results.len(), pending.len()),
                });
            }
            let mut next = Vec::new();
            for ((i, _), r) in pending.iter().zip(results) {
                let (eco, name, version) = &chunk[*i];
                for v in r
                    .get("vulns")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(id) = v.get("id").and_then(Value::as_str) {
                        hits.entry(id.to_string()).or_default().insert((
                            *eco,
                            eco.normalize_name(name),
                            version.clone(),
                        ));
                    }
                }
                if let Some(t) = r
                    .get("next_page_token")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                {
                    next.push((*i, Some(t.to_string())));
                }
            }
            pending = next;
        }
    }
    let mut count = 0;
    for (id, affected) in &hits {
        let doc = get(&client, &format!("{base}/v1/vulns/{id}"))?;
        let mut advisories = osv::parse_record(&doc).map_err(|source| OnlineError::Record {
            id: id.clone(),
            source,
        })?;
        for a in &mut advisories {
            a.source_name = "osv-api".into();
            // The API matched these exact versions (GIT ranges included): record them so the
            // local evaluation agrees.
            if let Affected::Osv { entries } = &mut a.affected {
                let extra: Vec<String> = affected
                    .iter()
                    .filter(|(e, n, _)| *e == a.ecosystem && *n == a.package)
                    .map(|(_, _, v)| v.clone())
                    .collect();
                if let Some(first) = entries.first_mut() {
                    first.versions.extend(extra);
                }
            }
        }
        count += advisories.len();
        out.index.extend(advisories);
    }
    Ok(count)
}
