//! Transparency reports: statistics computed from the log entries covered
//! by a verified checkpoint, so the published figures provably derive from
//! the audited records.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use vigil_ledger::{MemoryTree, VerifiedCheckpoint};

use crate::entry::{Entry, Event, HubActionKind};
use crate::model::Timestamp;
use crate::OversightError;

/// Counts per category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryCounts {
    /// Requests filed (including renewals).
    pub requested: u64,
    /// Requests that became live.
    pub approved: u64,
    /// Requests refused.
    pub refused: u64,
}

/// Summary of approved durations, in days.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DurationStats {
    /// Authorisations that became live.
    pub count: u64,
    /// Mean approved duration.
    pub mean_days: f64,
    /// Median approved duration.
    pub median_days: u32,
    /// Longest approved duration.
    pub max_days: u32,
}

/// A transparency report for one period, tied to a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransparencyReport {
    /// The log's origin.
    pub origin: String,
    /// Checkpoint size: the report covers entries `0..size`.
    pub checkpoint_size: u64,
    /// Checkpoint root hash, hex.
    pub checkpoint_root: String,
    /// Witnesses that cosigned the checkpoint.
    pub cosigned_by: Vec<String>,
    /// Period start (inclusive), Unix seconds.
    pub period_from: Timestamp,
    /// Period end (exclusive), Unix seconds.
    pub period_to: Timestamp,
    /// Requests filed (new, not renewals).
    pub requests: u64,
    /// Renewal requests filed.
    pub renewals: u64,
    /// Requests for sensitive categories (double lock).
    pub double_lock_requests: u64,
    /// Authorisations that became live.
    pub approvals: u64,
    /// Refusals.
    pub refusals: u64,
    /// Revocations.
    pub revocations: u64,
    /// Expiries.
    pub expiries: u64,
    /// Accesses granted.
    pub accesses_granted: u64,
    /// Accesses refused.
    pub accesses_refused: u64,
    /// Reviews held.
    pub reviews: u64,
    /// Reviews finding non-compliance.
    pub reviews_non_compliant: u64,
    /// Destructions of collected data.
    pub destructions: u64,
    /// Notifications of targeted persons.
    pub notifications: u64,
    /// Notification deferrals.
    pub notification_deferrals: u64,
    /// Complaints lodged.
    pub complaints: u64,
    /// Complaints upheld.
    pub complaints_upheld: u64,
    /// Approved durations.
    pub durations: DurationStats,
    /// By target category.
    pub by_target_category: BTreeMap<String, CategoryCounts>,
    /// By offence category.
    pub by_offence_category: BTreeMap<String, CategoryCounts>,
    /// By agency.
    pub by_agency: BTreeMap<String, CategoryCounts>,
    /// Hub actions by kind.
    pub hub_actions: BTreeMap<String, u64>,
    /// Entries that are not oversight events (other producers).
    pub other_entries: u64,
}

/// Computes the report for `period` (`from..to`) from `entries`, which must
/// be exactly the log's entries `0..size` of `checkpoint`: their Merkle root
/// is recomputed and must equal the checkpoint's.
pub fn transparency_report(
    entries: &[Vec<u8>],
    checkpoint: &VerifiedCheckpoint,
    period: (Timestamp, Timestamp),
) -> Result<TransparencyReport, OversightError> {
    let cp = checkpoint.checkpoint();
    if entries.len() as u64 != cp.size {
        return Err(OversightError::ReportMismatch(format!(
            "{} entries given, checkpoint covers {}",
            entries.len(),
            cp.size
        )));
    }
    let mut tree = MemoryTree::new();
    for e in entries {
        tree.push(e);
    }
    if tree.root() != cp.root {
        return Err(OversightError::ReportMismatch(
            "entries do not hash to the checkpoint root".into(),
        ));
    }
    let mut r = TransparencyReport {
        origin: cp.origin.clone(),
        checkpoint_size: cp.size,
        checkpoint_root: cp.root.iter().map(|b| format!("{b:02x}")).collect(),
        cosigned_by: checkpoint
            .cosigners()
            .iter()
            .map(|c| c.name.clone())
            .collect(),
        period_from: period.0,
        period_to: period.1,
        requests: 0,
        renewals: 0,
        double_lock_requests: 0,
        approvals: 0,
        refusals: 0,
        revocations: 0,
        expiries: 0,
        accesses_granted: 0,
        accesses_refused: 0,
        reviews: 0,
        reviews_non_compliant: 0,
        destructions: 0,
        notifications: 0,
        notification_deferrals: 0,
        complaints: 0,
        complaints_upheld: 0,
        durations: DurationStats::default(),
        by_target_category: BTreeMap::new(),
        by_offence_category: BTreeMap::new(),
        by_agency: BTreeMap::new(),
        hub_actions: BTreeMap::new(),
        other_entries: 0,
    };
    // Categories of each request, from the whole log (a request filed before
    // the period may be approved within it).
    let mut cats: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    let mut durations = Vec::new();
    for bytes in entries {
        let Some(entry) = Entry::parse(bytes) else {
            r.other_entries += 1;
            continue;
        };
        if let Event::Requested {
            auth,
            target_category,
            offence_category,
            agency,
            ..
        } = &entry.event
        {
            cats.insert(
                auth.clone(),
                (
                    target_category.clone(),
                    offence_category.clone(),
                    agency.clone(),
                ),
            );
        }
        if entry.at < period.0 || entry.at >= period.1 {
            continue;
        }
        let mut bump = |auth: &str, f: fn(&mut CategoryCounts)| {
            if let Some((t, o, a)) = cats.get(auth) {
                f(r.by_target_category.entry(t.clone()).or_default());
                f(r.by_offence_category.entry(o.clone()).or_default());
                f(r.by_agency.entry(a.clone()).or_default());
            }
        };
        match &entry.event {
            Event::Requested {
                auth,
                sensitive,
                renewal_of,
                ..
            } => {
                bump(auth, |c| c.requested += 1);
                if renewal_of.is_some() {
                    r.renewals += 1;
                } else {
                    r.requests += 1;
                }
                if *sensitive {
                    r.double_lock_requests += 1;
                }
            }
            Event::Approved {
                auth,
                duration_days,
                ..
            } => {
                if let Some(d) = duration_days {
                    bump(auth, |c| c.approved += 1);
                    r.approvals += 1;
                    durations.push(*d);
                }
            }
            Event::Refused { auth, .. } => {
                bump(auth, |c| c.refused += 1);
                r.refusals += 1;
            }
            Event::Revoked { .. } => r.revocations += 1,
            Event::Expired { .. } => r.expiries += 1,
            Event::Access { granted: true, .. } => r.accesses_granted += 1,
            Event::Access { granted: false, .. } => r.accesses_refused += 1,
            Event::Reviewed { compliant, .. } => {
                r.reviews += 1;
                if !compliant {
                    r.reviews_non_compliant += 1;
                }
            }
            Event::Destroyed { .. } => r.destructions += 1,
            Event::Notified { .. } => r.notifications += 1,
            Event::NotificationDeferred { .. } => r.notification_deferrals += 1,
            Event::Complaint { .. } => r.complaints += 1,
            Event::Remedy { upheld, .. } => {
                if *upheld {
                    r.complaints_upheld += 1;
                }
            }
            Event::HubAction { action, .. } => {
                let name = match action {
                    HubActionKind::TlpRedRelease => "tlp_red_release",
                    HubActionKind::ExportScreening => "export_screening",
                    HubActionKind::LicenceDetermination => "licence_determination",
                    HubActionKind::AdminChange => "admin_change",
                };
                *r.hub_actions.entry(name.into()).or_default() += 1;
            }
        }
    }
    if !durations.is_empty() {
        durations.sort_unstable();
        let n = durations.len();
        r.durations = DurationStats {
            count: n as u64,
            mean_days: durations.iter().map(|d| f64::from(*d)).sum::<f64>() / n as f64,
            median_days: durations[n / 2],
            max_days: durations[n - 1],
        };
    }
    Ok(r)
}

impl TransparencyReport {
    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The report as readable text.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Transparency report for {}", self.origin);
        let _ = writeln!(
            s,
            "Period: {} to {} (Unix time)",
            self.period_from, self.period_to
        );
        let _ = writeln!(
            s,
            "Derived from log entries 0..{} at checkpoint root {}",
            self.checkpoint_size, self.checkpoint_root
        );
        if !self.cosigned_by.is_empty() {
            let _ = writeln!(s, "Checkpoint cosigned by: {}", self.cosigned_by.join(", "));
        }
        let _ = writeln!(s);
        for (label, v) in [
            ("Requests", self.requests),
            ("Renewal requests", self.renewals),
            (
                "  of which double lock (sensitive)",
                self.double_lock_requests,
            ),
            ("Approvals", self.approvals),
            ("Refusals", self.refusals),
            ("Revocations", self.revocations),
            ("Expiries", self.expiries),
            ("Accesses granted", self.accesses_granted),
            ("Accesses refused", self.accesses_refused),
            ("Reviews", self.reviews),
            ("  finding non-compliance", self.reviews_non_compliant),
            ("Destructions of data", self.destructions),
            ("Notifications of targets", self.notifications),
            ("Notification deferrals", self.notification_deferrals),
            ("Complaints", self.complaints),
            ("  upheld", self.complaints_upheld),
        ] {
            let _ = writeln!(s, "{label:<36} {v:>8}");
        }
        if self.durations.count > 0 {
            let _ = writeln!(
                s,
                "Approved duration (days): mean {:.1}, median {}, max {}",
                self.durations.mean_days, self.durations.median_days, self.durations.max_days
            );
        }
        for (title, map) in [
            ("By target category", &self.by_target_category),
            ("By offence category", &self.by_offence_category),
            ("By agency", &self.by_agency),
        ] {
            if map.is_empty() {
                continue;
            }
            let _ = writeln!(
                s,
                "\n{title:<36} {:>9} {:>9} {:>9}",
                "requested", "approved", "refused"
            );
            for (k, c) in map {
                let _ = writeln!(
                    s,
                    "  {k:<34} {:>9} {:>9} {:>9}",
                    c.requested, c.approved, c.refused
                );
            }
        }
        if !self.hub_actions.is_empty() {
            let _ = writeln!(s, "\nHub actions");
            for (k, v) in &self.hub_actions {
                let _ = writeln!(s, "  {k:<34} {v:>8}");
            }
        }
        s
    }
}
