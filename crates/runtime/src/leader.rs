//! Leader election through a `coordination.k8s.io/v1` Lease, with client-go's algorithm (what
//! controller-runtime and therefore Flux use): a candidate takes the lease when it is free or
//! has not been renewed for `leaseDuration` *as observed locally* (immune to clock skew), the
//! leader renews every `retryPeriod` and gives up when it cannot renew within `renewDeadline`.
//! Every write carries the read `resourceVersion`, so two candidates can never both win.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use tokio::sync::watch;

use crate::Result;
use crate::flags::LeaderElectionConfig;

/// Namespace file of the in-cluster service account.
const SERVICE_ACCOUNT_NAMESPACE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/// The process's host name (the pod name in a cluster), as Go's `os.Hostname`.
pub fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// A unique holder identity: `<hostname>_<random uuid>`, as controller-runtime makes it.
pub fn new_identity() -> String {
    format!("{}_{}", hostname(), random_uuid())
}

/// A random (v4) UUID string.
pub fn random_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Where the lease lives: the runtime namespace (`RUNTIME_NAMESPACE`, see
/// [`crate::RuntimeConfig::runtime_namespace`]), else the service account's namespace, else
/// `flux-system`.
pub fn lease_namespace(runtime_namespace: Option<&str>) -> String {
    runtime_namespace
        .map(str::to_string)
        .filter(|s| !s.trim().is_empty())
        .or_else(|| std::fs::read_to_string(SERVICE_ACCOUNT_NAMESPACE).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "flux-system".to_string())
}

/// Flux's lease name for a controller: `<controller>-leader-election`.
pub fn lease_name(controller: &str) -> String {
    format!("{controller}-leader-election")
}

/// What a candidate does with the lease it read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// We hold it: renew, keeping `acquireTime` and `leaseTransitions`.
    Renew,
    /// It is free or expired: take it, recording one more transition.
    Acquire { transitions: i32 },
    /// Someone else holds a live lease.
    Wait { holder: String },
}

/// client-go's `tryAcquireOrRenew` decision. `observed_at` is when this candidate last saw the
/// lease *change* (not the lease's own `renewTime`, which may come from a skewed clock).
pub fn decide(spec: &LeaseSpec, observed_at: Instant, now: Instant, me: &str) -> Decision {
    let holder = spec.holder_identity.as_deref().unwrap_or("");
    let transitions = spec.lease_transitions.unwrap_or(0);
    if holder == me {
        return Decision::Renew;
    }
    let duration =
        Duration::from_secs(u64::try_from(spec.lease_duration_seconds.unwrap_or(0)).unwrap_or(0));
    if !holder.is_empty() && observed_at + duration > now {
        return Decision::Wait {
            holder: holder.to_string(),
        };
    }
    Decision::Acquire {
        transitions: transitions.saturating_add(1),
    }
}

/// The lease spec written by a holder.
pub fn holder_spec(
    me: &str,
    lease_duration: Duration,
    acquire_time: Option<MicroTime>,
    transitions: i32,
) -> LeaseSpec {
    let now = MicroTime(jiff::Timestamp::now());
    LeaseSpec {
        holder_identity: Some(me.to_string()),
        lease_duration_seconds: Some(
            i32::try_from(lease_duration.as_secs().max(1)).unwrap_or(i32::MAX),
        ),
        acquire_time: Some(acquire_time.unwrap_or_else(|| now.clone())),
        renew_time: Some(now),
        lease_transitions: Some(transitions),
        ..LeaseSpec::default()
    }
}

/// The lease spec a leader writes when it steps down (client-go's `release`): no holder and a
/// one-second duration so the next candidate takes it at once.
pub fn released_spec(previous: &LeaseSpec) -> LeaseSpec {
    let now = MicroTime(jiff::Timestamp::now());
    LeaseSpec {
        holder_identity: Some(String::new()),
        lease_duration_seconds: Some(1),
        acquire_time: Some(now.clone()),
        renew_time: Some(now),
        lease_transitions: previous.lease_transitions,
        ..LeaseSpec::default()
    }
}

/// Why [`LeaderElector::hold`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldOutcome {
    /// Shutdown was requested while leading.
    Shutdown,
    /// The lease could not be renewed within the renew deadline.
    Lost,
}

/// One candidate for one lease.
pub struct LeaderElector {
    api: Api<Lease>,
    namespace: String,
    name: String,
    identity: String,
    config: LeaderElectionConfig,
    /// The last lease read and when it was last seen to change.
    observed: Option<(Lease, Instant)>,
    leading: bool,
}

impl std::fmt::Debug for LeaderElector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaderElector")
            .field("name", &self.name)
            .field("identity", &self.identity)
            .field("leading", &self.leading)
            .finish_non_exhaustive()
    }
}

impl LeaderElector {
    /// A candidate for lease `name` in `namespace` with holder identity `identity`.
    pub fn new(
        client: kube::Client,
        namespace: &str,
        name: &str,
        identity: &str,
        config: LeaderElectionConfig,
    ) -> Self {
        LeaderElector {
            api: Api::namespaced(client, namespace),
            namespace: namespace.to_string(),
            name: name.to_string(),
            identity: identity.to_string(),
            config,
            observed: None,
            leading: false,
        }
    }

    /// This candidate's holder identity.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Whether the last attempt left us holding the lease.
    pub fn is_leader(&self) -> bool {
        self.leading
    }

    /// One acquire-or-renew round; `Ok(true)` when we hold the lease afterwards.
    pub async fn try_acquire_or_renew(&mut self) -> Result<bool> {
        let now = Instant::now();
        let current = match self.api.get_opt(&self.name).await? {
            None => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(self.name.clone()),
                        ..ObjectMeta::default()
                    },
                    spec: Some(holder_spec(
                        &self.identity,
                        self.config.lease_duration,
                        None,
                        0,
                    )),
                };
                return match self.api.create(&PostParams::default(), &lease).await {
                    Ok(created) => {
                        self.observed = Some((created, Instant::now()));
                        self.leading = true;
                        Ok(true)
                    }
                    Err(kube::Error::Api(e)) if e.code == 409 => {
                        self.leading = false;
                        Ok(false)
                    }
                    Err(e) => Err(e.into()),
                };
            }
            Some(lease) => lease,
        };
        let changed = match &self.observed {
            Some((prev, _)) => prev.spec != current.spec,
            None => true,
        };
        if changed {
            self.observed = Some((current.clone(), now));
        }
        let observed_at = self.observed.as_ref().map(|(_, t)| *t).unwrap_or(now);
        let spec = current.spec.clone().unwrap_or_default();
        let new_spec = match decide(&spec, observed_at, now, &self.identity) {
            Decision::Wait { holder } => {
                tracing::debug!(lease = %self.name, %holder, "lease is held by another candidate and has not yet expired");
                self.leading = false;
                return Ok(false);
            }
            Decision::Renew => holder_spec(
                &self.identity,
                self.config.lease_duration,
                spec.acquire_time.clone(),
                spec.lease_transitions.unwrap_or(0),
            ),
            Decision::Acquire { transitions } => holder_spec(
                &self.identity,
                self.config.lease_duration,
                None,
                transitions,
            ),
        };
        // Optimistic concurrency: `current` carries the resourceVersion we read.
        let mut update = current;
        update.spec = Some(new_spec);
        match self
            .api
            .replace(&self.name, &PostParams::default(), &update)
            .await
        {
            Ok(written) => {
                self.observed = Some((written, Instant::now()));
                self.leading = true;
                Ok(true)
            }
            Err(kube::Error::Api(e)) if e.code == 409 => {
                tracing::debug!(lease = %self.name, "lease changed while updating it");
                self.leading = false;
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Waits until this candidate leads (`Ok(true)`) or `shutdown` turns true (`Ok(false)`).
    pub async fn acquire(&mut self, shutdown: &mut watch::Receiver<bool>) -> Result<bool> {
        tracing::info!(lease = %format!("{}/{}", self.namespace, self.name), identity = %self.identity, "attempting to acquire leader lease");
        loop {
            if *shutdown.borrow() {
                return Ok(false);
            }
            let attempt =
                tokio::time::timeout(self.config.renew_deadline, self.try_acquire_or_renew()).await;
            match attempt {
                Ok(Ok(true)) => {
                    tracing::info!(lease = %self.name, identity = %self.identity, "successfully acquired lease");
                    return Ok(true);
                }
                Ok(Ok(false)) => {}
                Ok(Err(e)) => {
                    tracing::error!(lease = %self.name, error = %e, "error retrieving or updating the lease")
                }
                Err(_) => tracing::error!(lease = %self.name, "timed out acquiring the lease"),
            }
            // client-go waits retryPeriod plus up to 1.2x jitter; up to 0.2x keeps a standby's
            // takeover close to the lease duration while still spreading candidates apart.
            let jitter = self
                .config
                .retry_period
                .mul_f64(rand::random::<f64>() * 0.2);
            tokio::select! {
                _ = tokio::time::sleep(self.config.retry_period + jitter) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Renews the lease every retry period until `shutdown` turns true or renewals fail for
    /// longer than the renew deadline.
    pub async fn hold(&mut self, shutdown: &mut watch::Receiver<bool>) -> HoldOutcome {
        let mut last_renew = Instant::now();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(self.config.retry_period) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return HoldOutcome::Shutdown;
            }
            let remaining = self
                .config
                .renew_deadline
                .saturating_sub(last_renew.elapsed());
            let renewed = match tokio::time::timeout(remaining, self.try_acquire_or_renew()).await {
                Ok(Ok(true)) => true,
                Ok(Ok(false)) => false,
                Ok(Err(e)) => {
                    tracing::error!(lease = %self.name, error = %e, "failed to renew the lease");
                    false
                }
                Err(_) => false,
            };
            if renewed {
                last_renew = Instant::now();
            } else if last_renew.elapsed() >= self.config.renew_deadline {
                self.leading = false;
                tracing::error!(lease = %self.name, "failed to renew lease within the renew deadline");
                return HoldOutcome::Lost;
            }
        }
    }

    /// Steps down if leading: clears the holder so a standby takes over at once.
    pub async fn release(&mut self) -> Result<()> {
        if !self.leading {
            return Ok(());
        }
        let Some(current) = self.api.get_opt(&self.name).await? else {
            return Ok(());
        };
        let spec = current.spec.clone().unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            self.leading = false;
            return Ok(());
        }
        let mut update = current;
        update.spec = Some(released_spec(&spec));
        self.api
            .replace(&self.name, &PostParams::default(), &update)
            .await?;
        self.leading = false;
        tracing::info!(lease = %self.name, "released the leader lease");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(holder: Option<&str>, secs: i32, transitions: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: holder.map(str::to_string),
            lease_duration_seconds: Some(secs),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }

    #[test]
    fn lease_decisions() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        struct Case {
            name: &'static str,
            spec: LeaseSpec,
            now: Instant,
            want: Decision,
        }
        let cases = [
            Case {
                name: "ours: renew",
                spec: spec(Some("me"), 15, 3),
                now: at(100),
                want: Decision::Renew,
            },
            Case {
                name: "other, live",
                spec: spec(Some("other"), 15, 3),
                now: at(14),
                want: Decision::Wait {
                    holder: "other".into(),
                },
            },
            Case {
                name: "other, exactly expired",
                spec: spec(Some("other"), 15, 3),
                now: at(15),
                want: Decision::Acquire { transitions: 4 },
            },
            Case {
                name: "other, expired",
                spec: spec(Some("other"), 15, 3),
                now: at(60),
                want: Decision::Acquire { transitions: 4 },
            },
            Case {
                name: "released (empty holder)",
                spec: spec(Some(""), 1, 3),
                now: at(0),
                want: Decision::Acquire { transitions: 4 },
            },
            Case {
                name: "no holder field",
                spec: LeaseSpec::default(),
                now: at(0),
                want: Decision::Acquire { transitions: 1 },
            },
        ];
        for c in cases {
            assert_eq!(decide(&c.spec, t0, c.now, "me"), c.want, "{}", c.name);
        }
    }

    #[test]
    fn expiry_counts_from_local_observation_not_renew_time() {
        // A renewTime far in the past (skewed clock) does not make a live lease look expired:
        // only the local observation time matters.
        let mut s = spec(Some("other"), 10, 0);
        s.renew_time = Some(MicroTime(jiff::Timestamp::from_second(0).unwrap()));
        let observed = Instant::now();
        assert_eq!(
            decide(&s, observed, observed + Duration::from_secs(5), "me"),
            Decision::Wait {
                holder: "other".into()
            }
        );
    }

    #[test]
    fn holder_and_released_specs() {
        let s = holder_spec("me", Duration::from_secs(35), None, 2);
        assert_eq!(s.holder_identity.as_deref(), Some("me"));
        assert_eq!(s.lease_duration_seconds, Some(35));
        assert_eq!(s.lease_transitions, Some(2));
        assert!(s.acquire_time.is_some() && s.renew_time.is_some());
        let acquired = MicroTime(jiff::Timestamp::from_second(1000).unwrap());
        let renewed = holder_spec("me", Duration::from_secs(35), Some(acquired.clone()), 2);
        assert_eq!(renewed.acquire_time, Some(acquired));
        let r = released_spec(&s);
        assert_eq!(r.holder_identity.as_deref(), Some(""));
        assert_eq!(r.lease_duration_seconds, Some(1));
        assert_eq!(r.lease_transitions, Some(2));
        // A released lease is free for the next candidate at once.
        let now = Instant::now();
        assert_eq!(
            decide(&r, now, now, "next"),
            Decision::Acquire { transitions: 3 }
        );
    }

    #[test]
    fn identities_and_names() {
        let a = new_identity();
        let b = new_identity();
        assert_ne!(a, b);
        assert!(a.starts_with(&format!("{}_", hostname())));
        let uuid = random_uuid();
        assert_eq!(uuid.len(), 36);
        assert_eq!(uuid.as_bytes()[14], b'4');
        assert_eq!(
            lease_name("source-controller"),
            "source-controller-leader-election"
        );
    }
}
