//! Helpers over `status.conditions` with fluxcd/pkg/runtime/conditions semantics, and the
//! Ready summary (kstatus) every reconciler ends with.
//!
//! Semantics kept from Flux (they are visible to users and to `flux`/kstatus):
//! * [`set`] keeps `lastTransitionTime` while status, reason and message stay the same, and
//!   always records `observedGeneration`;
//! * conditions are kept sorted: `Stalled`, `Reconciling`, `Ready`, then by type;
//! * [`mark_reconciling`] removes `Stalled`, [`mark_stalled`] removes `Reconciling`;
//! * [`summarize`] derives `Ready`: Stalled > owned negative-polarity conditions that are True >
//!   owned positive-polarity conditions that are False > the failure > Reconciling (Unknown) >
//!   Ready=True with the success reason and message.

use ferroflux_api::conditions::{READY, RECONCILING, STALLED, reason};
use ferroflux_api::meta::{Condition, ConditionStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// `metav1.Time` has second precision on the wire; truncating here keeps equality stable
/// between what we hold and what we read back.
pub fn now() -> Time {
    let now = jiff::Timestamp::now();
    Time(jiff::Timestamp::from_second(now.as_second()).unwrap_or(now))
}

/// The condition of `type_`, if present.
pub fn get<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Whether the condition is present and `True`.
pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    get(conditions, type_).is_some_and(|c| c.status == ConditionStatus::True)
}

/// Whether the condition is present and `False`.
pub fn is_false(conditions: &[Condition], type_: &str) -> bool {
    get(conditions, type_).is_some_and(|c| c.status == ConditionStatus::False)
}

/// Whether `Ready` is `True`.
pub fn is_ready(conditions: &[Condition]) -> bool {
    is_true(conditions, READY)
}

/// Removes the condition of `type_`; returns whether it was present.
pub fn remove(conditions: &mut Vec<Condition>, type_: &str) -> bool {
    let before = conditions.len();
    conditions.retain(|c| c.type_ != type_);
    before != conditions.len()
}

/// Sets a condition. `lastTransitionTime` changes only when status, reason or message change
/// (Flux's `conditions.Set`); `observedGeneration` is always `generation`.
pub fn set(
    conditions: &mut Vec<Condition>,
    type_: &str,
    status: ConditionStatus,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) {
    set_at(
        conditions,
        type_,
        status,
        reason,
        message,
        generation,
        now(),
    );
}

/// [`set`] with the transition time given (tests).
pub fn set_at(
    conditions: &mut Vec<Condition>,
    type_: &str,
    status: ConditionStatus,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    at: Time,
) {
    // The API server rejects an empty reason (`minLength: 1`).
    let reason = if reason.is_empty() {
        reason::PROGRESSING
    } else {
        reason
    };
    match conditions.iter_mut().find(|c| c.type_ == type_) {
        Some(c) => {
            if c.status != status || c.reason != reason || c.message != message {
                c.last_transition_time = at;
                c.status = status;
                c.reason = reason.to_string();
                c.message = message.to_string();
            }
            c.observed_generation = generation;
        }
        None => conditions.push(Condition {
            last_transition_time: at,
            message: message.to_string(),
            observed_generation: generation,
            reason: reason.to_string(),
            status,
            type_: type_.to_string(),
        }),
    }
    sort(conditions);
}

/// Sorts like Flux: Stalled, Reconciling, Ready first, then the rest by type.
pub fn sort(conditions: &mut [Condition]) {
    fn weight(t: &str) -> (u8, &str) {
        match t {
            STALLED => (0, ""),
            RECONCILING => (1, ""),
            READY => (2, ""),
            other => (3, other),
        }
    }
    conditions.sort_by(|a, b| weight(&a.type_).cmp(&weight(&b.type_)));
}

/// Sets `type_` to `True`.
pub fn mark_true(
    conditions: &mut Vec<Condition>,
    type_: &str,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) {
    set(
        conditions,
        type_,
        ConditionStatus::True,
        reason,
        message,
        generation,
    );
}

/// Sets `type_` to `False`.
pub fn mark_false(
    conditions: &mut Vec<Condition>,
    type_: &str,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) {
    set(
        conditions,
        type_,
        ConditionStatus::False,
        reason,
        message,
        generation,
    );
}

/// Sets `type_` to `Unknown`.
pub fn mark_unknown(
    conditions: &mut Vec<Condition>,
    type_: &str,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) {
    set(
        conditions,
        type_,
        ConditionStatus::Unknown,
        reason,
        message,
        generation,
    );
}

/// `Reconciling=True` and no `Stalled`: work is in progress (kstatus InProgress).
pub fn mark_reconciling(
    conditions: &mut Vec<Condition>,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) {
    remove(conditions, STALLED);
    mark_true(conditions, RECONCILING, reason, message, generation);
}

/// `Stalled=True` and no `Reconciling`: no progress until the object changes (kstatus Failed).
pub fn mark_stalled(
    conditions: &mut Vec<Condition>,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) {
    remove(conditions, RECONCILING);
    mark_true(conditions, STALLED, reason, message, generation);
}

/// Flux's `reconcile.ProgressiveStatus`: Reconciling=True and Ready=Unknown (or, when
/// `retrying`, Reconciling with `ProgressingWithRetry` and Ready=False), Stalled removed.
pub fn progressive_status(
    conditions: &mut Vec<Condition>,
    retrying: bool,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) {
    if retrying {
        mark_reconciling(
            conditions,
            reason::PROGRESSING_WITH_RETRY,
            message,
            generation,
        );
        mark_false(conditions, READY, reason, message, generation);
    } else {
        mark_reconciling(conditions, reason, message, generation);
        mark_unknown(conditions, READY, reason, message, generation);
    }
}

/// The condition types a reconciler owns besides Ready/Reconciling/Stalled, with their polarity,
/// in priority order: the first abnormal one gives Ready its reason and message.
#[derive(Clone, Copy, Debug, Default)]
pub struct Polarity {
    /// "Abnormal-true" types: True means something is wrong (e.g. FetchFailed,
    /// ArtifactOutdated, BuildFailed, StorageOperationFailed).
    pub negative: &'static [&'static str],
    /// "Normal-true" types whose False must show in Ready (e.g. SourceVerified).
    pub positive: &'static [&'static str],
}

/// How the reconcile ended, for [`summarize`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict<'a> {
    /// The reconciler succeeded: Ready=True with this reason and message unless an owned
    /// condition says otherwise.
    Success { reason: &'a str, message: &'a str },
    /// The reconciler failed: Ready=False with this reason and message unless Stalled or an
    /// owned condition gives a more precise one.
    Failure { reason: &'a str, message: &'a str },
}

/// Derives `Ready` from the other conditions, as Flux's summarize does:
/// 1. `Stalled=True` → Ready=False with its reason/message;
/// 2. the first owned negative-polarity condition that is True → Ready=False;
/// 3. the first owned positive-polarity condition that is False → Ready=False;
/// 4. a failure verdict → Ready=False with the failure's reason/message;
/// 5. `Reconciling=True` → Ready=Unknown with its reason/message (still in progress);
/// 6. otherwise Ready=True with the success reason/message.
///
/// Every condition gets `observedGeneration = generation`.
pub fn summarize(
    conditions: &mut Vec<Condition>,
    polarity: &Polarity,
    verdict: Verdict<'_>,
    generation: Option<i64>,
) {
    let abnormal = |cs: &[Condition]| -> Option<(String, String)> {
        let pick = |c: &Condition| Some((c.reason.clone(), c.message.clone()));
        if let Some(c) = get(cs, STALLED).filter(|c| c.status == ConditionStatus::True) {
            return pick(c);
        }
        for t in polarity.negative {
            if let Some(c) = get(cs, t).filter(|c| c.status == ConditionStatus::True) {
                return pick(c);
            }
        }
        for t in polarity.positive {
            if let Some(c) = get(cs, t).filter(|c| c.status == ConditionStatus::False) {
                return pick(c);
            }
        }
        None
    };
    let (status, reason, message) = match (abnormal(conditions), verdict) {
        (Some((r, m)), _) => (ConditionStatus::False, r, m),
        (None, Verdict::Failure { reason, message }) => (
            ConditionStatus::False,
            reason.to_string(),
            message.to_string(),
        ),
        (None, Verdict::Success { reason, message }) => match get(conditions, RECONCILING) {
            Some(c) if c.status == ConditionStatus::True => (
                ConditionStatus::Unknown,
                c.reason.clone(),
                c.message.clone(),
            ),
            _ => (
                ConditionStatus::True,
                reason.to_string(),
                message.to_string(),
            ),
        },
    };
    set(conditions, READY, status, &reason, &message, generation);
    for c in conditions.iter_mut() {
        c.observed_generation = generation;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferroflux_api::conditions::{
        ARTIFACT_IN_STORAGE, ARTIFACT_OUTDATED, FETCH_FAILED, SOURCE_VERIFIED,
    };

    fn t(secs: i64) -> Time {
        Time(jiff::Timestamp::from_second(secs).unwrap())
    }

    fn cond(type_: &str, status: ConditionStatus, reason: &str, message: &str) -> Condition {
        Condition {
            last_transition_time: t(1),
            message: message.into(),
            observed_generation: Some(1),
            reason: reason.into(),
            status,
            type_: type_.into(),
        }
    }

    use ConditionStatus::{False, True, Unknown};

    #[test]
    fn set_keeps_transition_time_while_the_state_is_unchanged() {
        let mut cs = Vec::new();
        set_at(&mut cs, READY, True, "Succeeded", "ok", Some(1), t(10));
        // Same state, new generation: time kept, generation updated.
        set_at(&mut cs, READY, True, "Succeeded", "ok", Some(2), t(20));
        assert_eq!(cs[0].last_transition_time, t(10));
        assert_eq!(cs[0].observed_generation, Some(2));
        // Status change: time updated.
        set_at(&mut cs, READY, False, "Succeeded", "ok", Some(2), t(30));
        assert_eq!(cs[0].last_transition_time, t(30));
        // Reason change (Flux's hasSameState compares reason and message too).
        set_at(&mut cs, READY, False, "Failed", "ok", Some(2), t(40));
        assert_eq!(cs[0].last_transition_time, t(40));
        set_at(&mut cs, READY, False, "Failed", "boom", Some(2), t(50));
        assert_eq!(cs[0].last_transition_time, t(50));
        assert_eq!(
            (cs[0].reason.as_str(), cs[0].message.as_str()),
            ("Failed", "boom")
        );
        assert_eq!(cs.len(), 1);
    }

    #[test]
    fn set_never_writes_an_empty_reason() {
        let mut cs = Vec::new();
        mark_true(&mut cs, RECONCILING, "", "", None);
        assert_eq!(cs[0].reason, reason::PROGRESSING);
    }

    #[test]
    fn conditions_sort_like_flux() {
        let mut cs = Vec::new();
        for ty in [
            "Zeta",
            READY,
            "Alpha",
            RECONCILING,
            STALLED,
            ARTIFACT_IN_STORAGE,
        ] {
            mark_true(&mut cs, ty, "R", "m", Some(1));
        }
        let order: Vec<_> = cs.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(
            order,
            [
                STALLED,
                RECONCILING,
                READY,
                "Alpha",
                ARTIFACT_IN_STORAGE,
                "Zeta"
            ]
        );
    }

    #[test]
    fn get_is_true_remove() {
        let mut cs = vec![
            cond(READY, True, "Succeeded", ""),
            cond(FETCH_FAILED, False, "x", ""),
        ];
        assert!(is_true(&cs, READY));
        assert!(is_ready(&cs));
        assert!(!is_true(&cs, FETCH_FAILED));
        assert!(is_false(&cs, FETCH_FAILED));
        assert!(!is_true(&cs, "Missing"));
        assert!(!is_false(&cs, "Missing"));
        assert_eq!(get(&cs, FETCH_FAILED).map(|c| c.reason.as_str()), Some("x"));
        assert!(remove(&mut cs, FETCH_FAILED));
        assert!(!remove(&mut cs, FETCH_FAILED));
        assert_eq!(cs.len(), 1);
    }

    #[test]
    fn reconciling_and_stalled_exclude_each_other() {
        let mut cs = Vec::new();
        mark_stalled(&mut cs, "InvalidURL", "bad url", Some(3));
        assert!(is_true(&cs, STALLED));
        mark_reconciling(&mut cs, reason::PROGRESSING, "working", Some(3));
        assert!(get(&cs, STALLED).is_none());
        assert!(is_true(&cs, RECONCILING));
        mark_stalled(&mut cs, "InvalidURL", "bad url", Some(3));
        assert!(get(&cs, RECONCILING).is_none());
        mark_unknown(&mut cs, "X", "R", "m", Some(3));
        assert_eq!(get(&cs, "X").map(|c| c.status), Some(Unknown));
        mark_false(&mut cs, "X", "R", "m", Some(3));
        assert!(is_false(&cs, "X"));
    }

    #[test]
    fn progressive_status_like_flux() {
        let mut cs = vec![cond(STALLED, True, "Old", "old")];
        progressive_status(
            &mut cs,
            false,
            reason::PROGRESSING,
            "processing object: new generation 1 -> 2",
            Some(2),
        );
        assert!(get(&cs, STALLED).is_none());
        let r = get(&cs, RECONCILING).unwrap();
        assert_eq!((r.status, r.reason.as_str()), (True, reason::PROGRESSING));
        let ready = get(&cs, READY).unwrap();
        assert_eq!(
            (ready.status, ready.reason.as_str()),
            (Unknown, reason::PROGRESSING)
        );
        progressive_status(&mut cs, true, "GitOperationFailed", "retrying", Some(2));
        let r = get(&cs, RECONCILING).unwrap();
        assert_eq!(r.reason, reason::PROGRESSING_WITH_RETRY);
        let ready = get(&cs, READY).unwrap();
        assert_eq!(
            (ready.status, ready.reason.as_str()),
            (False, "GitOperationFailed")
        );
    }

    const SOURCE: Polarity = Polarity {
        negative: &[FETCH_FAILED, ARTIFACT_OUTDATED],
        positive: &[SOURCE_VERIFIED],
    };

    #[test]
    fn summary_table() {
        let ok = Verdict::Success {
            reason: "Succeeded",
            message: "stored artifact",
        };
        let fail = Verdict::Failure {
            reason: "GitOperationFailed",
            message: "clone failed",
        };
        struct Case {
            name: &'static str,
            given: Vec<Condition>,
            verdict: Verdict<'static>,
            want: (ConditionStatus, &'static str, &'static str),
        }
        let cases = vec![
            Case {
                name: "nothing abnormal",
                given: vec![],
                verdict: ok,
                want: (True, "Succeeded", "stored artifact"),
            },
            Case {
                name: "positive true is normal",
                given: vec![
                    cond(ARTIFACT_IN_STORAGE, True, "Succeeded", "in storage"),
                    cond(SOURCE_VERIFIED, True, "Succeeded", "verified"),
                ],
                verdict: ok,
                want: (True, "Succeeded", "stored artifact"),
            },
            Case {
                name: "negative false is normal",
                given: vec![cond(FETCH_FAILED, False, "Succeeded", "")],
                verdict: ok,
                want: (True, "Succeeded", "stored artifact"),
            },
            Case {
                name: "stale Ready is replaced",
                given: vec![cond(READY, False, "Old", "old failure")],
                verdict: ok,
                want: (True, "Succeeded", "stored artifact"),
            },
            Case {
                name: "negative true wins over success",
                given: vec![cond(ARTIFACT_OUTDATED, True, "NewRevision", "new revision")],
                verdict: ok,
                want: (False, "NewRevision", "new revision"),
            },
            Case {
                name: "first negative in priority order",
                given: vec![
                    cond(ARTIFACT_OUTDATED, True, "NewRevision", "new"),
                    cond(FETCH_FAILED, True, "GitOperationFailed", "fetch"),
                ],
                verdict: fail,
                want: (False, "GitOperationFailed", "fetch"),
            },
            Case {
                name: "stalled beats negatives",
                given: vec![
                    cond(FETCH_FAILED, True, "GitOperationFailed", "fetch"),
                    cond(STALLED, True, "InvalidURL", "bad url"),
                ],
                verdict: fail,
                want: (False, "InvalidURL", "bad url"),
            },
            Case {
                name: "negative beats positive false",
                given: vec![
                    cond(SOURCE_VERIFIED, False, "VerificationError", "bad sig"),
                    cond(FETCH_FAILED, True, "GitOperationFailed", "fetch"),
                ],
                verdict: ok,
                want: (False, "GitOperationFailed", "fetch"),
            },
            Case {
                name: "positive false shows (bipolarity)",
                given: vec![cond(SOURCE_VERIFIED, False, "VerificationError", "bad sig")],
                verdict: ok,
                want: (False, "VerificationError", "bad sig"),
            },
            Case {
                name: "failure without owned condition",
                given: vec![cond(
                    RECONCILING,
                    True,
                    reason::PROGRESSING_WITH_RETRY,
                    "working",
                )],
                verdict: fail,
                want: (False, "GitOperationFailed", "clone failed"),
            },
            Case {
                name: "owned condition beats the failure",
                given: vec![cond(FETCH_FAILED, True, "AuthenticationFailed", "no creds")],
                verdict: fail,
                want: (False, "AuthenticationFailed", "no creds"),
            },
            Case {
                name: "reconciling without failure is unknown",
                given: vec![cond(
                    RECONCILING,
                    True,
                    reason::PROGRESSING,
                    "reconciliation in progress",
                )],
                verdict: ok,
                want: (Unknown, reason::PROGRESSING, "reconciliation in progress"),
            },
            Case {
                name: "reconciling false is ignored",
                given: vec![cond(RECONCILING, False, reason::SUCCEEDED, "")],
                verdict: ok,
                want: (True, "Succeeded", "stored artifact"),
            },
            Case {
                name: "unowned negative-looking condition is ignored",
                given: vec![cond("BuildFailed", True, "BuildFailed", "not ours")],
                verdict: ok,
                want: (True, "Succeeded", "stored artifact"),
            },
        ];
        for case in cases {
            let mut cs = case.given.clone();
            summarize(&mut cs, &SOURCE, case.verdict, Some(7));
            let ready = get(&cs, READY).unwrap_or_else(|| panic!("{}: no Ready", case.name));
            assert_eq!(
                (ready.status, ready.reason.as_str(), ready.message.as_str()),
                case.want,
                "{}",
                case.name
            );
            assert!(
                cs.iter().all(|c| c.observed_generation == Some(7)),
                "{}: observedGeneration",
                case.name
            );
            assert_eq!(
                cs.len(),
                case.given.iter().filter(|c| c.type_ != READY).count() + 1,
                "{}",
                case.name
            );
            assert_eq!(
                cs[..].iter().position(|c| c.type_ == READY).map(|i| i <= 2),
                Some(true),
                "{}: sorted",
                case.name
            );
        }
    }

    #[test]
    fn summary_keeps_ready_transition_time_when_unchanged() {
        let mut cs = vec![cond(READY, True, "Succeeded", "stored artifact")];
        summarize(
            &mut cs,
            &SOURCE,
            Verdict::Success {
                reason: "Succeeded",
                message: "stored artifact",
            },
            Some(2),
        );
        assert_eq!(cs[0].last_transition_time, t(1));
        assert_eq!(cs[0].observed_generation, Some(2));
    }
}
