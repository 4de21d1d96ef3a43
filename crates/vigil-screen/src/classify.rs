//! Item classification helper: records which export-control entries an
//! item falls under (Wassenaar / EU 2021/821 intrusion-software and
//! interception entries, and the EU cyber-surveillance catch-all), with the
//! officer's determination and the destination's human-rights risk notes.

use serde::{Deserialize, Serialize};

use crate::error::ScreenError;

/// A control-list entry relevant to intrusion and surveillance technology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ControlEntry {
    /// 4A005: systems, equipment and components for intrusion software.
    #[serde(rename = "4A005")]
    IntrusionEquipment,
    /// 4D004: software for generating, commanding or delivering intrusion software.
    #[serde(rename = "4D004")]
    IntrusionSoftware,
    /// 4E001.c: technology for developing intrusion software.
    #[serde(rename = "4E001c")]
    IntrusionTechnology,
    /// 5A001.j: IP network communications surveillance systems.
    #[serde(rename = "5A001j")]
    NetworkSurveillance,
    /// EU 2021/821 Article 5: the catch-all for non-listed cyber-surveillance
    /// items intended for internal repression or serious human-rights violations.
    #[serde(rename = "ART5")]
    CyberSurveillanceCatchAll,
}

impl ControlEntry {
    /// All entries the helper knows.
    pub const ALL: [ControlEntry; 5] = [
        ControlEntry::IntrusionEquipment,
        ControlEntry::IntrusionSoftware,
        ControlEntry::IntrusionTechnology,
        ControlEntry::NetworkSurveillance,
        ControlEntry::CyberSurveillanceCatchAll,
    ];

    /// The entry's code as written in the lists.
    pub fn code(self) -> &'static str {
        match self {
            ControlEntry::IntrusionEquipment => "4A005",
            ControlEntry::IntrusionSoftware => "4D004",
            ControlEntry::IntrusionTechnology => "4E001c",
            ControlEntry::NetworkSurveillance => "5A001j",
            ControlEntry::CyberSurveillanceCatchAll => "ART5",
        }
    }

    /// A one-line summary in our words.
    pub fn summary(self) -> &'static str {
        match self {
            ControlEntry::IntrusionEquipment => {
                "Wassenaar / EU 2021/821 Annex I 4A005: equipment specially designed or modified to generate, command and control or deliver intrusion software"
            }
            ControlEntry::IntrusionSoftware => {
                "Wassenaar / EU 2021/821 Annex I 4D004: software specially designed or modified to generate, command and control or deliver intrusion software"
            }
            ControlEntry::IntrusionTechnology => {
                "Wassenaar / EU 2021/821 Annex I 4E001.c: technology for the development of intrusion software"
            }
            ControlEntry::NetworkSurveillance => {
                "Wassenaar / EU 2021/821 Annex I 5A001.j: IP network communications surveillance systems for carrier-class networks"
            }
            ControlEntry::CyberSurveillanceCatchAll => {
                "EU 2021/821 Article 5: authorisation required for non-listed cyber-surveillance items intended for internal repression or serious violations of human rights"
            }
        }
    }
}

impl std::str::FromStr for ControlEntry {
    type Err = ScreenError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let k: String = s
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_uppercase();
        ControlEntry::ALL
            .into_iter()
            .find(|e| e.code().to_ascii_uppercase() == k || k == "ARTICLE5")
            .ok_or_else(|| ScreenError::UnknownControlEntry(s.to_string()))
    }
}

/// The officer's determination for one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Determination {
    /// The item is covered by the entry.
    Applies,
    /// The item is not covered.
    DoesNotApply,
    /// Not yet decided.
    Undetermined,
}

impl std::str::FromStr for Determination {
    type Err = ScreenError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace(['-', ' '], "_").as_str() {
            "applies" | "yes" => Ok(Determination::Applies),
            "does_not_apply" | "no" => Ok(Determination::DoesNotApply),
            "undetermined" | "open" => Ok(Determination::Undetermined),
            _ => Err(ScreenError::UnknownDetermination(s.to_string())),
        }
    }
}

/// One entry with its determination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryDetermination {
    /// The control entry.
    pub entry: ControlEntry,
    /// The officer's determination.
    pub determination: Determination,
}

/// A classification record for one item of a licence application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    /// Licence application reference.
    pub application: String,
    /// The item as named in the application.
    pub item: String,
    /// Determinations, one per entry considered.
    pub entries: Vec<EntryDetermination>,
    /// Destination country (ISO alpha-2).
    pub destination: String,
    /// Human-rights risk notes on the destination and end-user.
    pub risk_notes: String,
    /// Who classified.
    pub officer: String,
    /// When (RFC 3339, supplied by the caller).
    pub decided_at: String,
    /// Queue ids of the record's transparency-log entries in the hub's
    /// database (one per determination, in order), when it was recorded
    /// with the hub's database: the hub gives each its log index.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_queue_ids: Vec<i64>,
}

impl Classification {
    /// True when any entry applies: the export needs a licence.
    pub fn licence_required(&self) -> bool {
        self.entries
            .iter()
            .any(|e| e.determination == Determination::Applies)
    }

    /// The subjects of the record's transparency-log entries, one per
    /// determination: application, item, entry and determination, and the
    /// time, joined with a unit separator. Only their salted hashes reach
    /// the log; whoever holds the record (and the salt) can recompute them
    /// to find its entries.
    pub fn log_subjects(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|e| {
                let determination = match e.determination {
                    Determination::Applies => "applies",
                    Determination::DoesNotApply => "does_not_apply",
                    Determination::Undetermined => "undetermined",
                };
                format!(
                    "licence-determination\u{1f}{}\u{1f}{}\u{1f}{}={determination}\u{1f}{}",
                    self.application,
                    self.item,
                    e.entry.code(),
                    self.decided_at
                )
            })
            .collect()
    }

    /// Entries still to be determined.
    pub fn open_entries(&self) -> impl Iterator<Item = ControlEntry> + '_ {
        self.entries
            .iter()
            .filter(|e| e.determination == Determination::Undetermined)
            .map(|e| e.entry)
    }
}
