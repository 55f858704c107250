//! Reading TOML values the way viper + mapstructure do: keys are case-insensitive, scalar
//! types are converted weakly (`"3"` → 3, `1` → true, a single string → a one-element list),
//! unknown keys are reported as warnings.

use toml::{Table, Value};

/// Lowercase every table key, recursively. When two keys differ only in case, the last one
/// wins (viper behaviour) and a warning is recorded.
pub fn normalise_keys(v: Value, ctx: &str, warnings: &mut Vec<String>) -> Value {
    match v {
        Value::Table(t) => Value::Table(normalise_table(t, ctx, warnings)),
        Value::Array(a) => Value::Array(
            a.into_iter()
                .map(|x| normalise_keys(x, ctx, warnings))
                .collect(),
        ),
        other => other,
    }
}

/// [`normalise_keys`] for a table.
pub fn normalise_table(t: Table, ctx: &str, warnings: &mut Vec<String>) -> Table {
    let mut out = Table::new();
    for (k, v) in t {
        let lk = k.to_lowercase();
        let v = normalise_keys(v, ctx, warnings);
        if out.insert(lk.clone(), v).is_some() {
            warnings.push(format!(
                "{ctx}: key `{k}` given twice (keys are case-insensitive); the last one is used"
            ));
        }
    }
    out
}

/// A typed view of one table, tracking which keys were read.
pub struct Fields<'a> {
    table: &'a Table,
    used: Vec<&'static str>,
}

/// Type errors: `(key, message)`.
pub type FieldError = (String, String);

impl<'a> Fields<'a> {
    /// Wrap a (normalised) table.
    pub fn new(table: &'a Table) -> Self {
        Fields {
            table,
            used: Vec::new(),
        }
    }

    fn get(&mut self, key: &'static str) -> Option<&'a Value> {
        self.used.push(key);
        self.table.get(key)
    }

    /// A string (numbers and booleans are converted).
    pub fn string(&mut self, key: &'static str) -> Result<Option<String>, FieldError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => weak_string(v)
                .map(Some)
                .ok_or_else(|| type_err(key, "a string", v)),
        }
    }

    /// An integer.
    pub fn int(&mut self, key: &'static str) -> Result<Option<i64>, FieldError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => {
                let r = match v {
                    Value::Integer(i) => Some(*i),
                    Value::Float(f) if f.is_finite() => Some(f.trunc() as i64),
                    Value::Boolean(b) => Some(i64::from(*b)),
                    Value::String(s) if s.trim().is_empty() => Some(0),
                    Value::String(s) => s.trim().parse::<i64>().ok(),
                    _ => None,
                };
                r.map(Some).ok_or_else(|| type_err(key, "an integer", v))
            }
        }
    }

    /// A float.
    pub fn float(&mut self, key: &'static str) -> Result<Option<f64>, FieldError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => {
                let r = match v {
                    Value::Float(f) => Some(*f),
                    Value::Integer(i) => Some(*i as f64),
                    Value::Boolean(b) => Some(if *b { 1.0 } else { 0.0 }),
                    Value::String(s) if s.trim().is_empty() => Some(0.0),
                    Value::String(s) => s.trim().parse::<f64>().ok(),
                    _ => None,
                };
                r.filter(|f| f.is_finite())
                    .map(Some)
                    .ok_or_else(|| type_err(key, "a number", v))
            }
        }
    }

    /// A boolean (`"true"`, `"1"`, `1` ... accepted like Go's `strconv.ParseBool`).
    pub fn bool(&mut self, key: &'static str) -> Result<Option<bool>, FieldError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => {
                let r = match v {
                    Value::Boolean(b) => Some(*b),
                    Value::Integer(i) => Some(*i != 0),
                    Value::Float(f) => Some(*f != 0.0),
                    Value::String(s) => match s.as_str() {
                        "" => Some(false),
                        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
                        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
                        _ => None,
                    },
                    _ => None,
                };
                r.map(Some).ok_or_else(|| type_err(key, "a boolean", v))
            }
        }
    }

    /// A list of strings (a single scalar becomes a one-element list).
    pub fn strings(&mut self, key: &'static str) -> Result<Option<Vec<String>>, FieldError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| weak_string(x).ok_or_else(|| type_err(key, "a list of strings", x)))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(v) => weak_string(v)
                .map(|s| Some(vec![s]))
                .ok_or_else(|| type_err(key, "a list of strings", v)),
        }
    }

    /// A single table.
    pub fn table(&mut self, key: &'static str) -> Result<Option<&'a Table>, FieldError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Table(t)) => Ok(Some(t)),
            Some(v) => Err(type_err(key, "a table", v)),
        }
    }

    /// An array of tables (a single table becomes a one-element list).
    pub fn tables(&mut self, key: &'static str) -> Result<Vec<&'a Table>, FieldError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Table(t)) => Ok(vec![t]),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| match x {
                    Value::Table(t) => Ok(t),
                    other => Err(type_err(key, "an array of tables", other)),
                })
                .collect(),
            Some(v) => Err(type_err(key, "an array of tables", v)),
        }
    }

    /// Keys present in the table that were never read.
    pub fn unknown_keys(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .table
            .keys()
            .filter(|k| !self.used.contains(&k.as_str()))
            .cloned()
            .collect();
        v.sort();
        v
    }
}

fn weak_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Boolean(b) => Some(if *b { "1".into() } else { "0".into() }),
        _ => None,
    }
}

fn type_err(key: &str, want: &str, got: &Value) -> FieldError {
    (
        key.to_string(),
        format!("`{key}` must be {want}, found {}", got.type_str()),
    )
}
