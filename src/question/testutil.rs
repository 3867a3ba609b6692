//! An independent referee for the answer schemas in tests: the `boon` crate's JSON-schema
//! validator (draft 2020-12), never this crate's own checks.

use serde_json::Value;

/// A compiled schema.
pub(crate) struct Referee {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Referee {
    /// Compiles `schema`; panics on a schema that is not a valid JSON schema (a test
    /// failure: every schema the harness sends must be one).
    pub(crate) fn new(schema: &Value) -> Referee {
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler.set_default_draft(boon::Draft::V2020_12);
        let url = "urn:fishbanks:answer";
        compiler
            .add_resource(url, schema.clone())
            .expect("the schema is a resource");
        let index = compiler
            .compile(url, &mut schemas)
            .unwrap_or_else(|e| panic!("not a valid JSON schema: {e}\n{schema}"));
        Referee { schemas, index }
    }

    /// Whether the schema admits `instance`.
    pub(crate) fn is_valid(&self, instance: &Value) -> bool {
        self.schemas.validate(instance, self.index).is_ok()
    }
}
