//! JSON read into a `serde_json::Value` with every object's keys checked
//! to be distinct: serde_json keeps the last of two equal keys, so
//! `{"vlan": 10, "vlan": null}` would quietly mean untagged.

use std::cell::RefCell;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why input was refused.
#[derive(Debug)]
pub enum Error {
    /// A key given twice, by its path (`ipam.type`, `routes[1].dst`).
    Duplicate(String),
    /// Not JSON.
    Syntax(serde_json::Error),
}

/// Parses `input`; a key given twice in any object is
/// [`Error::Duplicate`].
pub fn parse(input: &[u8]) -> Result<Value, Error> {
    let dup = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(input);
    let value = Unique { path: String::new(), dup: &dup }.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match (value, dup.into_inner()) {
        (_, Some(path)) => Err(Error::Duplicate(path)),
        (Ok(v), None) => Ok(v),
        (Err(e), None) => Err(Error::Syntax(e)),
    }
}

/// A value at `path`; the first duplicate key found is kept in `dup`.
struct Unique<'a> {
    path: String,
    dup: &'a RefCell<Option<String>>,
}

impl Unique<'_> {
    fn at(&self, path: String) -> Unique<'_> {
        Unique { path, dup: self.dup }
    }
}

impl<'de> DeserializeSeed<'de> for Unique<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Unique<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self.at(format!("{}[{}]", self.path, out.len())))? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let path = if self.path.is_empty() { k.clone() } else { format!("{}.{k}", self.path) };
            if out.contains_key(&k) {
                *self.dup.borrow_mut() = Some(path);
                return Err(serde::de::Error::custom("a key given twice"));
            }
            let v = map.next_value_seed(self.at(path))?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_found_by_path_and_the_rest_reads_as_serde_json_does() {
        let ok = br#"{"a": [1, -2, 3.5, "x", null, true, {"b": {}}], "c": {"d": 1}}"#;
        assert_eq!(parse(ok).unwrap(), serde_json::from_slice::<Value>(ok).unwrap());
        for (input, path) in [
            (&br#"{"vlan": 10, "vlan": null}"#[..], "vlan"),
            (br#"{"ipam": {"type": "a", "type": "b"}}"#, "ipam.type"),
            (br#"{"r": [{"x": 1}, {"dst": 1, "dst": 2}]}"#, "r[1].dst"),
        ] {
            match parse(input) {
                Err(Error::Duplicate(p)) => assert_eq!(p, path),
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(parse(b"{\"a\": 1} x"), Err(Error::Syntax(_))));
        assert!(matches!(parse(b"{\"a\": "), Err(Error::Syntax(_))));
    }
}
