//! The authorisation workflow: a state machine whose rules are enforced,
//! and whose every state change and access is appended to the log before
//! it takes effect.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::entry::{Entry, Event, Pseudonymiser, ENTRY_VERSION};
use crate::model::{
    AccessRequest, Assessment, AuthorisationRequest, Person, PersonId, Policy, Role, Timestamp, DAY,
};
use crate::OversightError;

/// Where the workflow appends its entries: the transparency log.
pub trait LogSink {
    /// Appends one entry durably and returns its index in the log.
    fn append(&mut self, entry: Vec<u8>) -> Result<u64, String>;
}

/// Identifier of an authorisation (opaque, sequential: `A-000001`).
pub type AuthId = String;

/// Where an authorisation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for the (first) approval.
    AwaitingApproval,
    /// Sensitive category: approved once, waiting for the second lock.
    AwaitingSecondApproval,
    /// Live: operational access may cite it until `valid_until`.
    Active,
    /// Refused.
    Refused,
    /// Revoked before expiry.
    Revoked,
    /// Reached its hard expiry.
    Expired,
}

/// One approval given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The approver.
    pub approver: PersonId,
    /// Their authority.
    pub authority: String,
    /// When.
    pub at: Timestamp,
}

/// An authorisation as the database keeps it (with plaintext) — each
/// change also points to the log entry that recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorisation {
    /// Identifier.
    pub id: AuthId,
    /// The request as filed.
    pub request: AuthorisationRequest,
    /// Current status.
    pub status: Status,
    /// Approvals given.
    pub approvals: Vec<Approval>,
    /// Start of validity.
    pub valid_from: Option<Timestamp>,
    /// Hard expiry.
    pub valid_until: Option<Timestamp>,
    /// When the measure ended (revocation or expiry).
    pub ended_at: Option<Timestamp>,
    /// Devices accessed so far (database references).
    pub devices: BTreeSet<String>,
    /// Operators who accessed under it.
    pub operators: BTreeSet<PersonId>,
    /// Next scheduled review.
    pub next_review_due: Option<Timestamp>,
    /// When collected data was destroyed.
    pub destroyed_at: Option<Timestamp>,
    /// When the target was notified.
    pub notified_at: Option<Timestamp>,
    /// Notification deferred until.
    pub notification_deferred_until: Option<Timestamp>,
    /// Complaint references and their outcome (`None` while pending).
    pub complaints: BTreeMap<String, Option<bool>>,
    /// The authorisation this one renews.
    pub renewal_of: Option<AuthId>,
    /// Log index of every entry about this authorisation, in order.
    pub log_indices: Vec<u64>,
}

impl Authorisation {
    /// Whether an access at `now` may cite this authorisation.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.status == Status::Active
            && self.valid_from.is_some_and(|f| f <= now)
            && self.valid_until.is_some_and(|u| now < u)
    }

    fn ended(&self) -> bool {
        matches!(self.status, Status::Revoked | Status::Expired)
    }
}

fn assessment_digest(a: &Assessment) -> [u8; 32] {
    Sha256::digest(serde_json::to_vec(a).unwrap_or_default()).into()
}

/// Fails with [`OversightError::InvalidTransition`] unless `allowed`.
fn require(
    auth: &Authorisation,
    allowed: bool,
    action: &'static str,
) -> Result<(), OversightError> {
    if allowed {
        Ok(())
    } else {
        Err(OversightError::InvalidTransition {
            id: auth.id.clone(),
            status: auth.status,
            action,
        })
    }
}

/// The workflow: people, authorisations, policy and the log.
#[derive(Debug)]
pub struct Oversight<L> {
    policy: Policy,
    people: BTreeMap<PersonId, Person>,
    auths: BTreeMap<AuthId, Authorisation>,
    log: L,
    pseud: Pseudonymiser,
    last_time: Timestamp,
    next_id: u64,
}

impl<L: LogSink> Oversight<L> {
    /// A workflow with `policy`, appending to `log`, hashing identifiers
    /// with `pseud`.
    pub fn new(policy: Policy, log: L, pseud: Pseudonymiser) -> Self {
        Self {
            policy,
            people: BTreeMap::new(),
            auths: BTreeMap::new(),
            log,
            pseud,
            last_time: 0,
            next_id: 1,
        }
    }

    /// Rebuilds a workflow from persisted state: the authorisations as
    /// stored, the time of the last recorded event (earlier steps are then
    /// refused as backdated) and the number of the next authorisation.
    pub fn restore(
        policy: Policy,
        log: L,
        pseud: Pseudonymiser,
        auths: Vec<Authorisation>,
        last_time: Timestamp,
        next_id: u64,
    ) -> Self {
        let next_id = auths
            .iter()
            .filter_map(|a| a.id.strip_prefix("A-")?.parse::<u64>().ok())
            .map(|n| n + 1)
            .fold(next_id.max(1), u64::max);
        Self {
            policy,
            people: BTreeMap::new(),
            auths: auths.into_iter().map(|a| (a.id.clone(), a)).collect(),
            log,
            pseud,
            last_time,
            next_id,
        }
    }

    /// Replaces the whole directory of people.
    pub fn set_people(&mut self, people: impl IntoIterator<Item = Person>) {
        self.people = people.into_iter().map(|p| (p.id.clone(), p)).collect();
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Adds or replaces a person in the directory.
    pub fn add_person(&mut self, person: Person) {
        self.people.insert(person.id.clone(), person);
    }

    /// The log sink.
    pub fn log(&self) -> &L {
        &self.log
    }

    /// The log sink, mutably (e.g. to checkpoint it).
    pub fn log_mut(&mut self) -> &mut L {
        &mut self.log
    }

    /// An authorisation by id.
    pub fn get(&self, id: &str) -> Option<&Authorisation> {
        self.auths.get(id)
    }

    /// All authorisations.
    pub fn authorisations(&self) -> impl Iterator<Item = &Authorisation> {
        self.auths.values()
    }

    fn tick_clock(&mut self, now: Timestamp) -> Result<(), OversightError> {
        if now < self.last_time {
            return Err(OversightError::Backdated {
                now,
                last: self.last_time,
            });
        }
        self.last_time = now;
        Ok(())
    }

    fn person(&self, id: &PersonId, role: Role) -> Result<&Person, OversightError> {
        let p = self
            .people
            .get(id)
            .ok_or_else(|| OversightError::UnknownPerson(id.0.clone()))?;
        if !p.roles.contains(&role) {
            return Err(OversightError::MissingRole {
                person: id.0.clone(),
                role,
            });
        }
        Ok(p)
    }

    fn auth(&self, id: &str) -> Result<&Authorisation, OversightError> {
        self.auths
            .get(id)
            .ok_or_else(|| OversightError::UnknownAuthorisation(id.to_string()))
    }

    fn hash_person(&self, p: &PersonId) -> String {
        self.pseud.hash("person", &p.0)
    }

    /// Appends an entry; returns its index. Nothing changes if this fails.
    fn record(&mut self, at: Timestamp, event: Event) -> Result<u64, OversightError> {
        let entry = Entry {
            v: ENTRY_VERSION,
            at,
            event,
        };
        self.log
            .append(entry.to_bytes())
            .map_err(OversightError::Log)
    }

    /// Records `event` about authorisation `id`, then returns the row to
    /// update (with the entry's log index already attached).
    fn commit(
        &mut self,
        id: &str,
        now: Timestamp,
        event: Event,
    ) -> Result<&mut Authorisation, OversightError> {
        self.tick_clock(now)?;
        let idx = self.record(now, event)?;
        let a = self
            .auths
            .get_mut(id)
            .ok_or_else(|| OversightError::UnknownAuthorisation(id.into()))?;
        a.log_indices.push(idx);
        Ok(a)
    }

    fn check_independent(
        &self,
        auth: &Authorisation,
        who: &PersonId,
        role: Role,
    ) -> Result<(), OversightError> {
        let p = self.person(who, role)?;
        if *who == auth.request.officer {
            return Err(OversightError::SeparationOfDuties(format!(
                "{} filed the request and cannot act as {role:?} on it",
                who.0
            )));
        }
        if p.organisation == auth.request.agency {
            return Err(OversightError::SeparationOfDuties(format!(
                "{} belongs to the requesting agency {} and is not independent",
                who.0, auth.request.agency
            )));
        }
        Ok(())
    }

    fn validate_request(&self, req: &AuthorisationRequest) -> Result<(), OversightError> {
        let missing = |field: &str| OversightError::InvalidRequest(format!("{field} is required"));
        let blank = |s: &str| s.trim().is_empty();
        for (name, value) in [
            ("agency", &req.agency),
            ("tool.registry_id", &req.tool.registry_id),
            ("tool.vendor_id", &req.tool.vendor_id),
            ("tool.product", &req.tool.product),
            ("tool.export_licence", &req.tool.export_licence),
            ("legal_basis.jurisdiction", &req.legal_basis.jurisdiction),
            ("legal_basis.instrument", &req.legal_basis.instrument),
            ("legal_basis.provision", &req.legal_basis.provision),
            ("purpose", &req.purpose),
            ("offence_category", &req.offence_category),
            ("target_ref", &req.target_ref),
            ("assessment.necessity", &req.assessment.necessity),
            (
                "assessment.proportionality",
                &req.assessment.proportionality,
            ),
            (
                "assessment.collateral_intrusion",
                &req.assessment.collateral_intrusion,
            ),
        ] {
            if blank(value) {
                return Err(missing(name));
            }
        }
        if req.assessment.alternatives.is_empty()
            || req
                .assessment
                .alternatives
                .iter()
                .any(|a| blank(&a.means) || blank(&a.why_rejected))
        {
            return Err(OversightError::InvalidRequest(
                "assessment.alternatives: at least one less intrusive means, each with why it was rejected".into(),
            ));
        }
        if req.scope.max_devices == 0
            || req.scope.data_types.is_empty()
            || req.scope.geography.is_empty()
        {
            return Err(OversightError::InvalidRequest(
                "scope: max_devices, data_types and geography must be set".into(),
            ));
        }
        if req.duration_days == 0 || req.duration_days > self.policy.max_duration_days {
            return Err(OversightError::InvalidRequest(format!(
                "duration_days must be 1..={}",
                self.policy.max_duration_days
            )));
        }
        Ok(())
    }

    /// Files a request. The officer must be a requester of the agency.
    pub fn submit(
        &mut self,
        req: AuthorisationRequest,
        now: Timestamp,
    ) -> Result<AuthId, OversightError> {
        self.submit_inner(req, None, now)
    }

    fn submit_inner(
        &mut self,
        req: AuthorisationRequest,
        renewal_of: Option<AuthId>,
        now: Timestamp,
    ) -> Result<AuthId, OversightError> {
        let officer = self.person(&req.officer, Role::Requester)?;
        if officer.organisation != req.agency {
            return Err(OversightError::SeparationOfDuties(format!(
                "{} does not belong to agency {}",
                req.officer.0, req.agency
            )));
        }
        self.validate_request(&req)?;
        self.tick_clock(now)?;
        let id = format!("A-{:06}", self.next_id);
        let event = Event::Requested {
            auth: id.clone(),
            agency: req.agency.clone(),
            requester: self.hash_person(&req.officer),
            tool: req.tool.registry_id.clone(),
            offence_category: req.offence_category.clone(),
            target_category: req.target_category.as_str().into(),
            sensitive: req.target_category.is_sensitive(),
            duration_days: req.duration_days,
            max_devices: req.scope.max_devices,
            renewal_of: renewal_of.clone(),
        };
        let idx = self.record(now, event)?;
        self.next_id += 1;
        self.auths.insert(
            id.clone(),
            Authorisation {
                id: id.clone(),
                request: req,
                status: Status::AwaitingApproval,
                approvals: Vec::new(),
                valid_from: None,
                valid_until: None,
                ended_at: None,
                devices: BTreeSet::new(),
                operators: BTreeSet::new(),
                next_review_due: None,
                destroyed_at: None,
                notified_at: None,
                notification_deferred_until: None,
                complaints: BTreeMap::new(),
                renewal_of,
                log_indices: vec![idx],
            },
        );
        Ok(id)
    }

    /// Approves a request for `duration_days` (at most what was asked).
    ///
    /// The approver must be an independent approver (not the requester, not
    /// of the requesting agency). Sensitive categories need two approvals by
    /// different people. Validity starts at the final approval, never
    /// earlier.
    pub fn approve(
        &mut self,
        id: &str,
        approver: &PersonId,
        duration_days: u32,
        now: Timestamp,
    ) -> Result<Status, OversightError> {
        let auth = self.auth(id)?.clone();
        self.check_independent(&auth, approver, Role::Approver)?;
        let lock = match auth.status {
            Status::AwaitingApproval => 1u8,
            Status::AwaitingSecondApproval => {
                if auth.approvals.iter().any(|a| a.approver == *approver) {
                    return Err(OversightError::SeparationOfDuties(format!(
                        "{} already gave the first approval; the double lock needs another person",
                        approver.0
                    )));
                }
                2
            }
            s => {
                return Err(OversightError::InvalidTransition {
                    id: id.into(),
                    status: s,
                    action: "approve",
                })
            }
        };
        if duration_days == 0 || duration_days > auth.request.duration_days {
            return Err(OversightError::InvalidRequest(format!(
                "approved duration must be 1..={} days",
                auth.request.duration_days
            )));
        }
        let final_lock = !auth.request.target_category.is_sensitive() || lock == 2;
        self.tick_clock(now)?;
        let authority = self.people[approver].organisation.clone();
        let until = now + u64::from(duration_days) * DAY;
        let event = Event::Approved {
            auth: id.into(),
            approver: self.hash_person(approver),
            authority: authority.clone(),
            lock,
            valid_from: final_lock.then_some(now),
            valid_until: final_lock.then_some(until),
            duration_days: final_lock.then_some(duration_days),
        };
        let review = u64::from(self.policy.review_interval_days) * DAY;
        let a = self.commit(id, now, event)?;
        a.approvals.push(Approval {
            approver: approver.clone(),
            authority,
            at: now,
        });
        if final_lock {
            a.status = Status::Active;
            a.valid_from = Some(now);
            a.valid_until = Some(until);
            a.next_review_due = Some(now + review);
        } else {
            a.status = Status::AwaitingSecondApproval;
        }
        Ok(a.status)
    }

    /// Refuses a pending request.
    pub fn refuse(
        &mut self,
        id: &str,
        approver: &PersonId,
        now: Timestamp,
    ) -> Result<(), OversightError> {
        let auth = self.auth(id)?.clone();
        self.check_independent(&auth, approver, Role::Approver)?;
        require(
            &auth,
            matches!(
                auth.status,
                Status::AwaitingApproval | Status::AwaitingSecondApproval
            ),
            "refuse",
        )?;
        let event = Event::Refused {
            auth: id.into(),
            approver: self.hash_person(approver),
            authority: self.people[approver].organisation.clone(),
        };
        let a = self.commit(id, now, event)?;
        a.status = Status::Refused;
        Ok(())
    }

    /// Revokes an authorisation with immediate effect. An independent
    /// approver or auditor may revoke.
    pub fn revoke(
        &mut self,
        id: &str,
        by: &PersonId,
        now: Timestamp,
    ) -> Result<(), OversightError> {
        let auth = self.auth(id)?.clone();
        let role = if self
            .people
            .get(by)
            .is_some_and(|p| p.roles.contains(&Role::Approver))
        {
            Role::Approver
        } else {
            Role::Auditor
        };
        self.check_independent(&auth, by, role)?;
        require(
            &auth,
            matches!(
                auth.status,
                Status::Active | Status::AwaitingApproval | Status::AwaitingSecondApproval
            ),
            "revoke",
        )?;
        let a = self.commit(
            id,
            now,
            Event::Revoked {
                auth: id.into(),
                by: self.hash_person(by),
            },
        )?;
        let was_active = a.status == Status::Active;
        a.status = Status::Revoked;
        if was_active {
            a.ended_at = Some(now);
        }
        Ok(())
    }

    /// Records the hard expiry of every live authorisation whose validity
    /// ended by `now`. Expiry is enforced at access time regardless; this
    /// puts it on the log and starts the retention and notification clocks.
    pub fn expire_due(&mut self, now: Timestamp) -> Result<Vec<AuthId>, OversightError> {
        self.tick_clock(now)?;
        let due: Vec<(AuthId, Timestamp)> = self
            .auths
            .values()
            .filter(|a| a.status == Status::Active && a.valid_until.is_some_and(|u| u <= now))
            .map(|a| (a.id.clone(), a.valid_until.unwrap_or(now)))
            .collect();
        for (id, until) in &due {
            let a = self.commit(id, now, Event::Expired { auth: id.clone() })?;
            a.status = Status::Expired;
            a.ended_at = Some(*until);
        }
        Ok(due.into_iter().map(|(id, _)| id).collect())
    }

    /// Requests renewal of a live authorisation. A fresh assessment is
    /// required: the same assessment as before is refused. The renewal is a
    /// new request that needs approval like any other.
    pub fn renew(
        &mut self,
        id: &str,
        assessment: Assessment,
        duration_days: u32,
        now: Timestamp,
    ) -> Result<AuthId, OversightError> {
        let auth = self.auth(id)?.clone();
        require(&auth, auth.is_live(now), "renew")?;
        if assessment_digest(&assessment) == assessment_digest(&auth.request.assessment) {
            return Err(OversightError::InvalidRequest(
                "renewal needs a fresh necessity and proportionality assessment".into(),
            ));
        }
        let mut req = auth.request.clone();
        req.assessment = assessment;
        req.duration_days = duration_days;
        self.submit_inner(req, Some(id.to_string()), now)
    }

    /// An operational access citing authorisation `id`. Granted only if the
    /// authorisation is live and the access is within its scope and done by
    /// an operator other than the requester and approvers. Granted or
    /// refused, the attempt is logged; a refusal is returned as
    /// [`OversightError::AccessRefused`] with the log index.
    pub fn access(
        &mut self,
        id: &str,
        access: &AccessRequest,
        now: Timestamp,
    ) -> Result<u64, OversightError> {
        self.tick_clock(now)?;
        let refusal = self.access_refusal(id, access, now);
        let auth_field = if self.auths.contains_key(id) {
            id.to_string()
        } else {
            format!("unknown:{}", self.pseud.hash("citation", id))
        };
        let event = Event::Access {
            auth: auth_field,
            operator: self.hash_person(&access.operator),
            device: self.pseud.hash("device", &access.device_ref),
            data_type: access.data_type.clone(),
            granted: refusal.is_none(),
            refusal: refusal.clone(),
        };
        let idx = self.record(now, event)?;
        if let Some(a) = self.auths.get_mut(id) {
            a.log_indices.push(idx);
            if refusal.is_none() {
                a.devices.insert(access.device_ref.clone());
                a.operators.insert(access.operator.clone());
            }
        }
        match refusal {
            None => Ok(idx),
            Some(reason) => Err(OversightError::AccessRefused {
                reason,
                log_index: idx,
            }),
        }
    }

    fn access_refusal(&self, id: &str, access: &AccessRequest, now: Timestamp) -> Option<String> {
        let Some(auth) = self.auths.get(id) else {
            return Some("no such authorisation".into());
        };
        if let Err(e) = self.person(&access.operator, Role::Operator) {
            return Some(e.to_string());
        }
        if access.operator == auth.request.officer
            || auth.approvals.iter().any(|a| a.approver == access.operator)
        {
            return Some("operator also requested or approved this authorisation".into());
        }
        if !auth.is_live(now) {
            return Some(match auth.status {
                Status::Active => "authorisation has expired".into(),
                s => format!("authorisation is not live ({s:?})"),
            });
        }
        let scope = &auth.request.scope;
        if !scope.data_types.contains(&access.data_type) {
            return Some(format!(
                "data type {} is outside the authorised scope",
                access.data_type
            ));
        }
        if !scope.geography.contains(&access.geography) {
            return Some(format!(
                "geography {} is outside the authorised scope",
                access.geography
            ));
        }
        if !auth.devices.contains(&access.device_ref)
            && auth.devices.len() as u64 >= u64::from(scope.max_devices)
        {
            return Some(format!("more than {} devices", scope.max_devices));
        }
        None
    }

    /// Records a scheduled review by an independent auditor who took no part
    /// in the authorisation.
    pub fn review(
        &mut self,
        id: &str,
        auditor: &PersonId,
        compliant: bool,
        now: Timestamp,
    ) -> Result<(), OversightError> {
        let auth = self.auth(id)?.clone();
        self.check_independent(&auth, auditor, Role::Auditor)?;
        if auth.approvals.iter().any(|a| a.approver == *auditor) || auth.operators.contains(auditor)
        {
            return Err(OversightError::SeparationOfDuties(format!(
                "{} took part in this authorisation and cannot review it",
                auditor.0
            )));
        }
        require(
            &auth,
            !(matches!(
                auth.status,
                Status::AwaitingApproval | Status::AwaitingSecondApproval | Status::Refused
            )),
            "review",
        )?;
        let event = Event::Reviewed {
            auth: id.into(),
            auditor: self.hash_person(auditor),
            compliant,
        };
        let interval = u64::from(self.policy.review_interval_days) * DAY;
        let a = self.commit(id, now, event)?;
        a.next_review_due = (a.status == Status::Active).then_some(now + interval);
        Ok(())
    }

    /// Live authorisations whose scheduled review is overdue at `now`.
    pub fn reviews_due(&self, now: Timestamp) -> Vec<AuthId> {
        self.auths
            .values()
            .filter(|a| a.status == Status::Active && a.next_review_due.is_some_and(|d| d <= now))
            .map(|a| a.id.clone())
            .collect()
    }

    /// Records destruction of the data collected under an ended
    /// authorisation.
    pub fn destroy(
        &mut self,
        id: &str,
        by: &PersonId,
        now: Timestamp,
    ) -> Result<(), OversightError> {
        let auth = self.auth(id)?.clone();
        let p = self
            .people
            .get(by)
            .ok_or_else(|| OversightError::UnknownPerson(by.0.clone()))?;
        if !p.roles.contains(&Role::Operator) && !p.roles.contains(&Role::Auditor) {
            return Err(OversightError::MissingRole {
                person: by.0.clone(),
                role: Role::Operator,
            });
        }
        require(
            &auth,
            auth.ended() || auth.destroyed_at.is_some(),
            "destroy",
        )?;
        let a = self.commit(
            id,
            now,
            Event::Destroyed {
                auth: id.into(),
                by: self.hash_person(by),
            },
        )?;
        a.destroyed_at = Some(now);
        Ok(())
    }

    /// Ended authorisations whose data is past its retention deadline and
    /// not yet destroyed.
    pub fn destructions_overdue(&self, now: Timestamp) -> Vec<AuthId> {
        let keep = u64::from(self.policy.retention_days) * DAY;
        self.auths
            .values()
            .filter(|a| a.destroyed_at.is_none() && a.ended_at.is_some_and(|e| e + keep <= now))
            .map(|a| a.id.clone())
            .collect()
    }

    /// Records that the targeted person was notified.
    pub fn notify(&mut self, id: &str, now: Timestamp) -> Result<(), OversightError> {
        let auth = self.auth(id)?.clone();
        require(
            &auth,
            !(auth.ended_at.is_none() || auth.notified_at.is_some()),
            "notify",
        )?;
        let a = self.commit(id, now, Event::Notified { auth: id.into() })?;
        a.notified_at = Some(now);
        Ok(())
    }

    /// Defers notification until `until`, on the decision of an independent
    /// approver with a written justification; each deferral is limited to
    /// the policy's maximum.
    pub fn defer_notification(
        &mut self,
        id: &str,
        approver: &PersonId,
        justification: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<(), OversightError> {
        let auth = self.auth(id)?.clone();
        self.check_independent(&auth, approver, Role::Approver)?;
        require(
            &auth,
            !(auth.ended_at.is_none() || auth.notified_at.is_some()),
            "defer notification",
        )?;
        if justification.trim().is_empty() {
            return Err(OversightError::InvalidRequest(
                "a deferral needs a justification".into(),
            ));
        }
        let max = now + u64::from(self.policy.max_deferral_days) * DAY;
        if until <= now || until > max {
            return Err(OversightError::InvalidRequest(format!(
                "a deferral may last at most {} days",
                self.policy.max_deferral_days
            )));
        }
        let event = Event::NotificationDeferred {
            auth: id.into(),
            approver: self.hash_person(approver),
            until,
        };
        let a = self.commit(id, now, event)?;
        a.notification_deferred_until = Some(until);
        Ok(())
    }

    /// Ended authorisations whose target is not notified past the deadline
    /// (the later of the policy deadline and any deferral).
    pub fn notifications_overdue(&self, now: Timestamp) -> Vec<AuthId> {
        let grace = u64::from(self.policy.notification_days) * DAY;
        self.auths
            .values()
            .filter(|a| a.notified_at.is_none())
            .filter(|a| {
                a.ended_at.is_some_and(|e| {
                    let due = (e + grace).max(a.notification_deferred_until.unwrap_or(0));
                    due <= now
                })
            })
            .map(|a| a.id.clone())
            .collect()
    }

    /// Records a complaint about an authorisation.
    pub fn complaint(
        &mut self,
        id: &str,
        complaint_ref: &str,
        now: Timestamp,
    ) -> Result<(), OversightError> {
        self.auth(id)?;
        let event = Event::Complaint {
            auth: id.into(),
            complaint: self.pseud.hash("complaint", complaint_ref),
        };
        let a = self.commit(id, now, event)?;
        a.complaints.insert(complaint_ref.to_string(), None);
        Ok(())
    }

    /// Records the decision on a complaint.
    pub fn remedy(
        &mut self,
        id: &str,
        complaint_ref: &str,
        upheld: bool,
        now: Timestamp,
    ) -> Result<(), OversightError> {
        let auth = self.auth(id)?;
        if auth.complaints.get(complaint_ref) != Some(&None) {
            return Err(OversightError::InvalidRequest(format!(
                "no pending complaint {complaint_ref:?} on {id}"
            )));
        }
        let event = Event::Remedy {
            auth: id.into(),
            complaint: self.pseud.hash("complaint", complaint_ref),
            upheld,
        };
        let a = self.commit(id, now, event)?;
        a.complaints.insert(complaint_ref.to_string(), Some(upheld));
        Ok(())
    }
}
