//! STIX Domain Objects (STIX 2.1 §4) and Relationship Objects (§5).

use serde_json::{Map, Number, Value};

use crate::common::{stix_type, Common, KillChainPhase};
use crate::{Identifier, Timestamp};

stix_type! {
    /// `attack-pattern`: a way adversaries attempt to compromise targets (TTP).
    AttackPattern(Common) = "attack-pattern" { name: String, }
    optional {
        description: String,
        aliases: Vec<String>,
        kill_chain_phases: Vec<KillChainPhase>,
    }
}

stix_type! {
    /// `campaign`: a set of malicious activity over a period against a set of targets.
    Campaign(Common) = "campaign" { name: String, }
    optional {
        description: String,
        aliases: Vec<String>,
        first_seen: Timestamp,
        last_seen: Timestamp,
        objective: String,
    }
}

stix_type! {
    /// `course-of-action`: a recommendation to prevent or respond to an attack.
    CourseOfAction(Common) = "course-of-action" { name: String, }
    optional {
        description: String,
    }
}

stix_type! {
    /// `grouping`: objects asserted to be related to a shared context.
    Grouping(Common) = "grouping" { context: String, object_refs: Vec<Identifier>, }
    optional {
        name: String,
        description: String,
    }
}

stix_type! {
    /// `identity`: an individual, organisation or group.
    Identity(Common) = "identity" { name: String, }
    optional {
        description: String,
        roles: Vec<String>,
        identity_class: String,
        sectors: Vec<String>,
        contact_information: String,
    }
}

stix_type! {
    /// `incident`: a security incident (a stub in STIX 2.1, meant for extensions).
    Incident(Common) = "incident" { name: String, }
    optional {
        description: String,
        kill_chain_phases: Vec<KillChainPhase>,
    }
}

stix_type! {
    /// `indicator`: a pattern that can detect suspicious or malicious activity.
    Indicator(Common) = "indicator" { pattern: String, pattern_type: String, valid_from: Timestamp, }
    optional {
        name: String,
        description: String,
        indicator_types: Vec<String>,
        pattern_version: String,
        valid_until: Timestamp,
        kill_chain_phases: Vec<KillChainPhase>,
    }
}

stix_type! {
    /// `infrastructure`: systems and services used for attack or defence.
    Infrastructure(Common) = "infrastructure" { name: String, }
    optional {
        description: String,
        infrastructure_types: Vec<String>,
        aliases: Vec<String>,
        kill_chain_phases: Vec<KillChainPhase>,
        first_seen: Timestamp,
        last_seen: Timestamp,
    }
}

stix_type! {
    /// `intrusion-set`: adversarial behaviours and resources attributed to one organisation.
    IntrusionSet(Common) = "intrusion-set" { name: String, }
    optional {
        description: String,
        aliases: Vec<String>,
        first_seen: Timestamp,
        last_seen: Timestamp,
        goals: Vec<String>,
        resource_level: String,
        primary_motivation: String,
        secondary_motivations: Vec<String>,
    }
}

stix_type! {
    /// `location`: a geographic location. Coordinates keep their JSON number form.
    Location(Common) = "location" {}
    optional {
        name: String,
        description: String,
        latitude: Number,
        longitude: Number,
        precision: Number,
        region: String,
        country: String,
        administrative_area: String,
        city: String,
        street_address: String,
        postal_code: String,
    }
}

stix_type! {
    /// `malware`: a malware instance or family.
    Malware(Common) = "malware" { is_family: bool, }
    optional {
        name: String,
        description: String,
        malware_types: Vec<String>,
        aliases: Vec<String>,
        kill_chain_phases: Vec<KillChainPhase>,
        first_seen: Timestamp,
        last_seen: Timestamp,
        operating_system_refs: Vec<Identifier>,
        architecture_execution_envs: Vec<String>,
        implementation_languages: Vec<String>,
        capabilities: Vec<String>,
        sample_refs: Vec<Identifier>,
    }
}

stix_type! {
    /// `malware-analysis`: the result of a static or dynamic analysis of malware.
    MalwareAnalysis(Common) = "malware-analysis" { product: String, }
    optional {
        version: String,
        host_vm_ref: Identifier,
        operating_system_ref: Identifier,
        installed_software_refs: Vec<Identifier>,
        configuration_version: String,
        modules: Vec<String>,
        analysis_engine_version: String,
        analysis_definition_version: String,
        submitted: Timestamp,
        analysis_started: Timestamp,
        analysis_ended: Timestamp,
        result_name: String,
        result: String,
        analysis_sco_refs: Vec<Identifier>,
        sample_ref: Identifier,
    }
}

stix_type! {
    /// `note`: context or analysis added to other objects.
    Note(Common) = "note" { content: String, object_refs: Vec<Identifier>, }
    optional {
        r#abstract: String,
        authors: Vec<String>,
    }
}

stix_type! {
    /// `observed-data`: raw cyber-observable data seen on systems and networks.
    ObservedData(Common) = "observed-data" { first_observed: Timestamp, last_observed: Timestamp, number_observed: u64, }
    optional {
        /// Deprecated embedded observables, kept as read.
        objects: Map<String, Value>,
        object_refs: Vec<Identifier>,
    }
}

stix_type! {
    /// `opinion`: an assessment of the correctness of other objects.
    Opinion(Common) = "opinion" { opinion: String, object_refs: Vec<Identifier>, }
    optional {
        explanation: String,
        authors: Vec<String>,
    }
}

stix_type! {
    /// `report`: a collection of threat intelligence on one or more topics.
    Report(Common) = "report" { name: String, published: Timestamp, object_refs: Vec<Identifier>, }
    optional {
        description: String,
        report_types: Vec<String>,
    }
}

stix_type! {
    /// `threat-actor`: individuals, groups or organisations acting with malicious intent.
    ThreatActor(Common) = "threat-actor" { name: String, }
    optional {
        description: String,
        threat_actor_types: Vec<String>,
        aliases: Vec<String>,
        first_seen: Timestamp,
        last_seen: Timestamp,
        roles: Vec<String>,
        goals: Vec<String>,
        sophistication: String,
        resource_level: String,
        primary_motivation: String,
        secondary_motivations: Vec<String>,
        personal_motivations: Vec<String>,
    }
}

stix_type! {
    /// `tool`: legitimate software that can be used by threat actors.
    Tool(Common) = "tool" { name: String, }
    optional {
        description: String,
        tool_types: Vec<String>,
        aliases: Vec<String>,
        kill_chain_phases: Vec<KillChainPhase>,
        tool_version: String,
    }
}

stix_type! {
    /// `vulnerability`: a flaw in software that can be exploited.
    Vulnerability(Common) = "vulnerability" { name: String, }
    optional {
        description: String,
    }
}

stix_type! {
    /// `relationship`: a typed link between two objects.
    Relationship(Common) = "relationship" { relationship_type: String, source_ref: Identifier, target_ref: Identifier, }
    optional {
        description: String,
        start_time: Timestamp,
        stop_time: Timestamp,
    }
}

stix_type! {
    /// `sighting`: the belief that something (usually an indicator) was seen.
    Sighting(Common) = "sighting" { sighting_of_ref: Identifier, }
    optional {
        description: String,
        first_seen: Timestamp,
        last_seen: Timestamp,
        count: u64,
        observed_data_refs: Vec<Identifier>,
        where_sighted_refs: Vec<Identifier>,
        summary: bool,
    }
}
