//! Meta objects (STIX 2.1 §7): marking-definition (with TLP 1.0 and TLP 2.0),
//! language-content and extension-definition.

use serde_json::{json, Map, Value};

use crate::common::{stix_type, Common, MarkingCommon};
use crate::{Identifier, Timestamp};

stix_type! {
    /// `marking-definition`: a data marking, such as TLP or a statement.
    MarkingDefinition(MarkingCommon) = "marking-definition" {}
    optional {
        name: String,
        /// `tlp` or `statement` for the STIX 2.1 predefined kinds; absent for extension-based markings.
        definition_type: String,
        /// The marking itself (`{"tlp": "green"}`, `{"statement": "…"}`), kept as read.
        definition: Map<String, Value>,
    }
}

stix_type! {
    /// `language-content`: translations of another object's text properties.
    LanguageContent(Common) = "language-content" { object_ref: Identifier, contents: Map<String, Value>, }
    optional {
        object_modified: Timestamp,
    }
}

stix_type! {
    /// `extension-definition`: the schema and kind of a STIX extension.
    ExtensionDefinition(Common) = "extension-definition" { name: String, schema: String, version: String, extension_types: Vec<String>, }
    optional {
        description: String,
        extension_properties: Vec<String>,
    }
}

/// The id of the extension-definition through which TLP 2.0 markings are expressed.
pub const TLP_2_EXTENSION_ID: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// A Traffic Light Protocol marking, TLP 1.0 (predefined by STIX 2.1 §7.2.1.4)
/// or TLP 2.0 (the OASIS TLP 2.0 extension), with its canonical id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tlp {
    /// TLP 1.0 WHITE.
    White,
    /// TLP 1.0 GREEN.
    Green,
    /// TLP 1.0 AMBER.
    Amber,
    /// TLP 1.0 RED.
    Red,
    /// TLP 2.0 CLEAR.
    V2Clear,
    /// TLP 2.0 GREEN.
    V2Green,
    /// TLP 2.0 AMBER.
    V2Amber,
    /// TLP 2.0 AMBER+STRICT.
    V2AmberStrict,
    /// TLP 2.0 RED.
    V2Red,
}

impl Tlp {
    /// Every TLP marking, TLP 1.0 first.
    pub const ALL: [Tlp; 9] = [
        Tlp::White,
        Tlp::Green,
        Tlp::Amber,
        Tlp::Red,
        Tlp::V2Clear,
        Tlp::V2Green,
        Tlp::V2Amber,
        Tlp::V2AmberStrict,
        Tlp::V2Red,
    ];

    /// The canonical `marking-definition--…` id.
    pub fn id(self) -> &'static str {
        match self {
            Tlp::White => "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
            Tlp::Green => "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
            Tlp::Amber => "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
            Tlp::Red => "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
            Tlp::V2Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
            Tlp::V2Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
            Tlp::V2Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
            Tlp::V2AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
            Tlp::V2Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        }
    }

    /// The level in lower case as the marking writes it (`white`, `amber+strict`, …).
    pub fn level(self) -> &'static str {
        match self {
            Tlp::White => "white",
            Tlp::Green | Tlp::V2Green => "green",
            Tlp::Amber | Tlp::V2Amber => "amber",
            Tlp::Red | Tlp::V2Red => "red",
            Tlp::V2Clear => "clear",
            Tlp::V2AmberStrict => "amber+strict",
        }
    }

    /// Whether this is a TLP 2.0 marking.
    pub fn is_v2(self) -> bool {
        matches!(
            self,
            Tlp::V2Clear | Tlp::V2Green | Tlp::V2Amber | Tlp::V2AmberStrict | Tlp::V2Red
        )
    }

    /// The display name (`TLP:WHITE`, `TLP:AMBER+STRICT`).
    pub fn name(self) -> String {
        format!("TLP:{}", self.level().to_ascii_uppercase())
    }

    /// The TLP marking with this canonical id, if any.
    pub fn from_id(id: &str) -> Option<Tlp> {
        Tlp::ALL.into_iter().find(|t| t.id() == id)
    }

    /// The canonical marking-definition object, as published.
    pub fn marking_definition(self) -> MarkingDefinition {
        let value = if self.is_v2() {
            json!({
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": self.id(),
                "created": "2022-10-01T00:00:00.000Z",
                "name": self.name(),
                "extensions": {
                    TLP_2_EXTENSION_ID: {
                        "extension_type": "property-extension",
                        "tlp_2_0": self.level(),
                    }
                }
            })
        } else {
            json!({
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": self.id(),
                "created": "2017-01-20T00:00:00.000Z",
                "definition_type": "tlp",
                "name": self.name(),
                "definition": {"tlp": self.level()},
            })
        };
        // The literal above has every required property with valid values.
        serde_json::from_value(value)
            .unwrap_or_else(|e| unreachable!("predefined TLP marking: {e}"))
    }
}

impl MarkingDefinition {
    /// The TLP level this marking expresses, recognised by content (not only by id).
    pub fn tlp(&self) -> Option<Tlp> {
        if let Some(level) = self
            .common
            .extensions
            .as_ref()
            .and_then(|e| e.get(TLP_2_EXTENSION_ID))
            .and_then(|e| e.get("tlp_2_0"))
            .and_then(Value::as_str)
        {
            return Tlp::ALL
                .into_iter()
                .find(|t| t.is_v2() && t.level() == level.to_ascii_lowercase());
        }
        if self.definition_type.as_deref() == Some("tlp") {
            let level = self.definition.as_ref()?.get("tlp")?.as_str()?;
            return Tlp::ALL
                .into_iter()
                .find(|t| !t.is_v2() && t.level() == level.to_ascii_lowercase());
        }
        None
    }

    /// The statement of a `statement` marking.
    pub fn statement(&self) -> Option<&str> {
        if self.definition_type.as_deref() != Some("statement") {
            return None;
        }
        self.definition.as_ref()?.get("statement")?.as_str()
    }

    /// A new statement marking (`definition_type: statement`) created now.
    pub fn new_statement(statement: &str) -> MarkingDefinition {
        let mut definition = Map::new();
        definition.insert("statement".into(), Value::String(statement.into()));
        MarkingDefinition {
            common: MarkingCommon {
                object_type: Self::TYPE.into(),
                spec_version: Some("2.1".into()),
                id: Identifier::new_v4(Self::TYPE)
                    .unwrap_or_else(|e| unreachable!("fixed valid type name: {e}")),
                created_by_ref: None,
                created: Timestamp::now(),
                external_references: None,
                object_marking_refs: None,
                granular_markings: None,
                extensions: None,
            },
            name: None,
            definition_type: Some("statement".into()),
            definition: Some(definition),
            custom: Map::new(),
        }
    }
}
