//! kstatus: whether an object has reached its desired state, by the rules of
//! `sigs.k8s.io/cli-utils/pkg/kstatus` that Flux's health checks use: generic rules first
//! (deletion, `observedGeneration`, `Reconciling`/`Stalled` conditions), then per-kind rules for
//! the built-in workloads, then a `Ready` condition, else Current.

use std::fmt;

use serde_json::Value;

use crate::object::{group_of, str_at};

/// kstatus's status values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    InProgress,
    Failed,
    Current,
    Terminating,
    NotFound,
    Unknown,
}

impl Status {
    /// The spelling kstatus prints (`InProgress`, `Current`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "InProgress",
            Status::Failed => "Failed",
            Status::Current => "Current",
            Status::Terminating => "Terminating",
            Status::NotFound => "NotFound",
            Status::Unknown => "Unknown",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A computed status and a human message explaining it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Result {
    pub status: Status,
    pub message: String,
}

impl Result {
    fn new(status: Status, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
    fn in_progress(message: impl Into<String>) -> Self {
        Self::new(Status::InProgress, message)
    }
    fn current(message: impl Into<String>) -> Self {
        Self::new(Status::Current, message)
    }
    fn failed(message: impl Into<String>) -> Self {
        Self::new(Status::Failed, message)
    }
}

/// Computes the status of one object as read from the API server.
pub fn compute(obj: &Value) -> Result {
    if let Some(r) = generic(obj) {
        return r;
    }
    let kind = str_at(obj, &["kind"]);
    let group = group_of(str_at(obj, &["apiVersion"]));
    let by_kind = match (group, kind) {
        ("", "Service") => Some(service(obj)),
        ("", "Pod") => Some(pod(obj)),
        ("", "PersistentVolumeClaim") => Some(pvc(obj)),
        ("", "Secret" | "ConfigMap") | ("batch", "CronJob") => {
            Some(Result::current("Resource is always ready"))
        }
        ("", "Namespace") => Some(namespace(obj)),
        ("apps" | "extensions", "Deployment") => Some(deployment(obj)),
        ("apps", "StatefulSet") => Some(statefulset(obj)),
        ("apps" | "extensions", "DaemonSet") => Some(daemonset(obj)),
        ("apps" | "extensions", "ReplicaSet") => Some(replicaset(obj)),
        ("policy", "PodDisruptionBudget") => Some(pdb(obj)),
        ("batch", "Job") => Some(job(obj)),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => Some(crd(obj)),
        _ => None,
    };
    if let Some(r) = by_kind {
        return r;
    }
    if let Some(r) = ready_condition(obj) {
        return r;
    }
    Result::current("Resource is current")
}

/// A condition as found in `status.conditions[]`.
struct Condition<'a> {
    type_: &'a str,
    status: &'a str,
    reason: &'a str,
    message: &'a str,
}

fn conditions(obj: &Value) -> Vec<Condition<'_>> {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| Condition {
                    type_: str_at(c, &["type"]),
                    status: str_at(c, &["status"]),
                    reason: str_at(c, &["reason"]),
                    message: str_at(c, &["message"]),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn int_at(obj: &Value, pointer: &str) -> Option<i64> {
    obj.pointer(pointer).and_then(Value::as_i64)
}

fn int_or(obj: &Value, pointer: &str, default: i64) -> i64 {
    int_at(obj, pointer).unwrap_or(default)
}

fn string_at<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// Deletion, generation not yet observed, `Reconciling=True`, `Stalled=True`.
fn generic(obj: &Value) -> Option<Result> {
    if !string_at(obj, "/metadata/deletionTimestamp").is_empty() {
        return Some(Result::new(
            Status::Terminating,
            "Resource scheduled for deletion",
        ));
    }
    if let (Some(generation), Some(observed)) = (
        int_at(obj, "/metadata/generation"),
        int_at(obj, "/status/observedGeneration"),
    ) && generation != observed
    {
        return Some(Result::in_progress(format!(
            "{} generation is {generation}, but latest observed generation is {observed}",
            str_at(obj, &["kind"])
        )));
    }
    for c in conditions(obj) {
        if c.type_ == "Reconciling" && c.status == "True" {
            return Some(Result::in_progress(c.message));
        }
        if c.type_ == "Stalled" && c.status == "True" {
            return Some(Result::failed(c.message));
        }
    }
    None
}

fn ready_condition(obj: &Value) -> Option<Result> {
    let c = conditions(obj).into_iter().find(|c| c.type_ == "Ready")?;
    Some(match c.status {
        "True" => Result::current("Resource is Ready"),
        _ => Result::in_progress(if c.message.is_empty() {
            c.reason.to_string()
        } else {
            c.message.to_string()
        }),
    })
}

fn deployment(obj: &Value) -> Result {
    // Without progressDeadlineSeconds (MaxInt32) the controller never sets Progressing.
    let mut progressing = int_at(obj, "/spec/progressDeadlineSeconds") == Some(i64::from(i32::MAX));
    let mut available = false;
    for c in conditions(obj) {
        match c.type_ {
            "Progressing" => {
                if c.reason == "ProgressDeadlineExceeded" {
                    return Result::failed("Progress deadline exceeded");
                }
                if c.status == "True" && c.reason == "NewReplicaSetAvailable" {
                    progressing = true;
                }
            }
            "Available" if c.status == "True" => available = true,
            _ => {}
        }
    }
    let spec = int_or(obj, "/spec/replicas", 1);
    let replicas = int_or(obj, "/status/replicas", 0);
    let updated = int_or(obj, "/status/updatedReplicas", 0);
    let ready = int_or(obj, "/status/readyReplicas", 0);
    let avail = int_or(obj, "/status/availableReplicas", 0);
    if spec > replicas {
        return Result::in_progress(format!("replicas: {replicas}/{spec}"));
    }
    if spec > updated {
        return Result::in_progress(format!("Updated: {updated}/{spec}"));
    }
    if replicas > spec {
        return Result::in_progress(format!("Pending termination: {}", replicas - spec));
    }
    if updated > avail {
        return Result::in_progress(format!("Available: {avail}/{updated}"));
    }
    if spec > ready {
        return Result::in_progress(format!("Ready: {ready}/{spec}"));
    }
    if !progressing {
        return Result::in_progress("ReplicaSet not Available");
    }
    if !available {
        return Result::in_progress("Deployment not Available");
    }
    Result::current(format!("Deployment is available. Replicas: {replicas}"))
}

fn statefulset(obj: &Value) -> Result {
    if string_at(obj, "/spec/updateStrategy/type") == "OnDelete" {
        return Result::current("StatefulSet is using the ondelete update strategy");
    }
    let spec = int_or(obj, "/spec/replicas", 1);
    let ready = int_or(obj, "/status/readyReplicas", 0);
    let current = int_or(obj, "/status/currentReplicas", 0);
    let updated = int_or(obj, "/status/updatedReplicas", 0);
    let replicas = int_or(obj, "/status/replicas", 0);
    let partition = int_or(obj, "/spec/updateStrategy/rollingUpdate/partition", -1);
    if spec > replicas {
        return Result::in_progress(format!("Replicas: {replicas}/{spec}"));
    }
    if spec > ready {
        return Result::in_progress(format!("Ready: {ready}/{spec}"));
    }
    if replicas > spec {
        return Result::in_progress(format!("Pending termination: {}", replicas - spec));
    }
    if partition != -1 {
        if updated < spec - partition {
            return Result::in_progress(format!("updated: {updated}/{}", spec - partition));
        }
        return Result::current(format!("Partition rollout complete. updated: {updated}"));
    }
    if spec > current {
        return Result::in_progress(format!("current: {current}/{spec}"));
    }
    if string_at(obj, "/status/currentRevision") != string_at(obj, "/status/updateRevision") {
        return Result::in_progress("Waiting for updated revision to match current");
    }
    Result::current(format!(
        "All replicas scheduled as expected. Replicas: {replicas}"
    ))
}

fn daemonset(obj: &Value) -> Result {
    let Some(desired) = int_at(obj, "/status/desiredNumberScheduled") else {
        return Result::in_progress("Missing .status.desiredNumberScheduled");
    };
    let current = int_or(obj, "/status/currentNumberScheduled", 0);
    let updated = int_or(obj, "/status/updatedNumberScheduled", 0);
    let available = int_or(obj, "/status/numberAvailable", 0);
    let ready = int_or(obj, "/status/numberReady", 0);
    if desired > current {
        return Result::in_progress(format!("Current: {current}/{desired}"));
    }
    if desired > updated {
        return Result::in_progress(format!("Updated: {updated}/{desired}"));
    }
    if desired > available {
        return Result::in_progress(format!("Available: {available}/{desired}"));
    }
    if desired > ready {
        return Result::in_progress(format!("Ready: {ready}/{desired}"));
    }
    Result::current(format!(
        "All replicas scheduled as expected. Replicas: {desired}"
    ))
}

fn replicaset(obj: &Value) -> Result {
    if conditions(obj)
        .iter()
        .any(|c| c.type_ == "ReplicaFailure" && c.status == "True")
    {
        return Result::in_progress("Replica Failure condition. Check Pods");
    }
    let spec = int_or(obj, "/spec/replicas", 1);
    let replicas = int_or(obj, "/status/replicas", 0);
    let ready = int_or(obj, "/status/readyReplicas", 0);
    let available = int_or(obj, "/status/availableReplicas", 0);
    let labelled = int_or(obj, "/status/fullyLabeledReplicas", 0);
    if spec > labelled {
        return Result::in_progress(format!("Labelled: {labelled}/{spec}"));
    }
    if spec > available {
        return Result::in_progress(format!("Available: {available}/{spec}"));
    }
    if spec > ready {
        return Result::in_progress(format!("Ready: {ready}/{spec}"));
    }
    if replicas > spec {
        return Result::in_progress(format!("Pending termination: {}", replicas - spec));
    }
    Result::current(format!("ReplicaSet is available. Replicas: {replicas}"))
}

fn pdb(obj: &Value) -> Result {
    let current = int_or(obj, "/status/currentHealthy", 0);
    let desired = int_or(obj, "/status/desiredHealthy", 0);
    if desired > current {
        return Result::in_progress(format!(
            "Budget not met. healthy replicas: {current}/{desired}"
        ));
    }
    Result::current(format!("Budget is met. Replicas: {current}/{desired}"))
}

/// Flux waits for Jobs to complete (its Job status reader), where plain kstatus would call a
/// started Job current.
fn job(obj: &Value) -> Result {
    let parallelism = int_or(obj, "/spec/parallelism", 1);
    let completions = int_or(obj, "/spec/completions", parallelism);
    let succeeded = int_or(obj, "/status/succeeded", 0);
    let failed = int_or(obj, "/status/failed", 0);
    let active = int_or(obj, "/status/active", 0);
    for c in conditions(obj) {
        match (c.type_, c.status) {
            ("Complete", "True") => {
                return Result::current(format!(
                    "Job Completed. succeeded: {succeeded}/{completions}"
                ));
            }
            ("Failed", "True") => {
                return Result::failed(format!("Job Failed. failed: {failed}/{completions}"));
            }
            _ => {}
        }
    }
    if string_at(obj, "/status/startTime").is_empty() {
        return Result::in_progress("Job not started");
    }
    Result::in_progress(format!(
        "Job in progress. success:{succeeded}, active: {active}, failed: {failed}"
    ))
}

/// How long an unschedulable Pod counts as still progressing (kstatus's schedule window).
const SCHEDULE_WINDOW_SECONDS: i64 = 15;

fn pod(obj: &Value) -> Result {
    let conds = conditions(obj);
    match string_at(obj, "/status/phase") {
        "Succeeded" => Result::current("Pod has completed successfully"),
        "Failed" => Result::failed("Pod has completed, but not successfully"),
        "Running" => {
            if conds
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
            {
                return Result::current("Pod is Ready");
            }
            let crashing: Vec<&str> = obj
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|cs| string_at(cs, "/state/waiting/reason") == "CrashLoopBackOff")
                .map(|cs| str_at(cs, &["name"]))
                .collect();
            if !crashing.is_empty() {
                return Result::failed(format!(
                    "Containers in CrashLoop state: {}",
                    crashing.join(",")
                ));
            }
            Result::in_progress("Pod is running but is not Ready")
        }
        "Pending" => {
            let unschedulable = conds.iter().any(|c| {
                c.type_ == "PodScheduled" && c.status == "False" && c.reason == "Unschedulable"
            });
            if !unschedulable {
                return Result::in_progress("Pod is in the Pending phase");
            }
            let created = string_at(obj, "/metadata/creationTimestamp")
                .parse::<jiff::Timestamp>()
                .ok();
            let young = created.is_none_or(|t| {
                jiff::Timestamp::now().as_second() - t.as_second() < SCHEDULE_WINDOW_SECONDS
            });
            if young {
                Result::in_progress("Pod has not been scheduled")
            } else {
                Result::failed("Pod could not be scheduled")
            }
        }
        "" => Result::in_progress("Pod phase not available"),
        phase => Result::new(Status::Unknown, format!("unknown phase {phase}")),
    }
}

fn pvc(obj: &Value) -> Result {
    let phase = string_at(obj, "/status/phase");
    if phase != "Bound" {
        return Result::in_progress(format!("PVC is not Bound. phase: {phase}"));
    }
    Result::current("PVC is Bound")
}

/// kstatus only requires a LoadBalancer Service to have its cluster IP; it does not wait for
/// an external address (which never comes on clusters without a load-balancer provider).
fn service(obj: &Value) -> Result {
    let ty = match string_at(obj, "/spec/type") {
        "" => "ClusterIP",
        t => t,
    };
    if ty == "LoadBalancer" && string_at(obj, "/spec/clusterIP").is_empty() {
        return Result::in_progress("ClusterIP not set. Service type: LoadBalancer");
    }
    Result::current("Service is ready")
}

fn namespace(obj: &Value) -> Result {
    match string_at(obj, "/status/phase") {
        "Terminating" => Result::new(Status::Terminating, "Namespace is terminating"),
        _ => Result::current("Resource is current"),
    }
}

fn crd(obj: &Value) -> Result {
    for c in conditions(obj) {
        if c.type_ == "NamesAccepted" && c.status == "False" {
            return Result::failed(c.message);
        }
        if c.type_ == "Established" {
            if c.status == "False" && c.reason != "Installing" {
                return Result::failed(c.message);
            }
            if c.status == "True" {
                return Result::current("CRD is established");
            }
        }
    }
    Result::in_progress("Install in progress")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status_of(v: Value) -> Status {
        compute(&v).status
    }

    fn deploy(status: Value) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "generation": 2},
            "spec": {"replicas": 2},
            "status": status,
        })
    }

    #[test]
    fn deployment_is_current_only_when_rolled_out() {
        let ok = deploy(json!({
            "observedGeneration": 2, "replicas": 2, "updatedReplicas": 2,
            "readyReplicas": 2, "availableReplicas": 2,
            "conditions": [
                {"type": "Available", "status": "True"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}
            ]
        }));
        let r = compute(&ok);
        assert_eq!(r.status, Status::Current);
        assert_eq!(r.message, "Deployment is available. Replicas: 2");

        let old_gen = deploy(json!({"observedGeneration": 1, "replicas": 2}));
        let r = compute(&old_gen);
        assert_eq!(r.status, Status::InProgress);
        assert_eq!(
            r.message,
            "Deployment generation is 2, but latest observed generation is 1"
        );

        let few_ready = deploy(json!({
            "observedGeneration": 2, "replicas": 2, "updatedReplicas": 2,
            "readyReplicas": 1, "availableReplicas": 2,
        }));
        assert_eq!(compute(&few_ready).message, "Ready: 1/2");

        let no_status = deploy(json!({}));
        assert_eq!(compute(&no_status).message, "replicas: 0/2");

        let surge = deploy(json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 2}));
        assert_eq!(compute(&surge).message, "Pending termination: 1");

        let not_progressing = deploy(json!({
            "observedGeneration": 2, "replicas": 2, "updatedReplicas": 2,
            "readyReplicas": 2, "availableReplicas": 2,
            "conditions": [{"type": "Available", "status": "True"}]
        }));
        assert_eq!(
            compute(&not_progressing).message,
            "ReplicaSet not Available"
        );
    }

    #[test]
    fn deployment_past_its_progress_deadline_failed() {
        let d = deploy(json!({
            "observedGeneration": 2, "replicas": 2, "updatedReplicas": 2,
            "conditions": [{"type": "Progressing", "status": "False",
                            "reason": "ProgressDeadlineExceeded", "message": "too slow"}]
        }));
        let r = compute(&d);
        assert_eq!(r.status, Status::Failed);
        assert_eq!(r.message, "Progress deadline exceeded");
    }

    #[test]
    fn deletion_timestamp_means_terminating() {
        let mut d = deploy(json!({}));
        d["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        assert_eq!(status_of(d), Status::Terminating);
    }

    #[test]
    fn statefulset_rules() {
        let sts = |spec: Value, status: Value| {
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
                   "metadata": {"name": "s"}, "spec": spec, "status": status})
        };
        let full = json!({"replicas": 3, "readyReplicas": 3, "currentReplicas": 3,
                          "updatedReplicas": 3, "currentRevision": "a", "updateRevision": "a"});
        assert_eq!(
            status_of(sts(json!({"replicas": 3}), full.clone())),
            Status::Current
        );
        let mut rolling = full.clone();
        rolling["updateRevision"] = json!("b");
        assert_eq!(
            compute(&sts(json!({"replicas": 3}), rolling)).message,
            "Waiting for updated revision to match current"
        );
        assert_eq!(
            compute(&sts(
                json!({"replicas": 3}),
                json!({"replicas": 3, "readyReplicas": 1})
            ))
            .message,
            "Ready: 1/3"
        );
        assert_eq!(
            status_of(sts(
                json!({"updateStrategy": {"type": "OnDelete"}}),
                json!({})
            )),
            Status::Current
        );
        let partitioned = json!({"replicas": 3, "updateStrategy":
            {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}});
        let mut st = full.clone();
        st["updatedReplicas"] = json!(0);
        assert_eq!(
            compute(&sts(partitioned.clone(), st)).message,
            "updated: 0/1"
        );
        let mut st = full;
        st["updatedReplicas"] = json!(1);
        assert_eq!(status_of(sts(partitioned, st)), Status::Current);
    }

    #[test]
    fn daemonset_rules() {
        let ds = |status: Value| {
            json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
                   "metadata": {"name": "d"}, "status": status})
        };
        assert_eq!(
            compute(&ds(json!({}))).message,
            "Missing .status.desiredNumberScheduled"
        );
        assert_eq!(
            compute(&ds(
                json!({"desiredNumberScheduled": 2, "currentNumberScheduled": 2,
                               "updatedNumberScheduled": 2, "numberAvailable": 1})
            ))
            .message,
            "Available: 1/2"
        );
        assert_eq!(
            status_of(ds(
                json!({"desiredNumberScheduled": 2, "currentNumberScheduled": 2,
                                "updatedNumberScheduled": 2, "numberAvailable": 2,
                                "numberReady": 2})
            )),
            Status::Current
        );
    }

    #[test]
    fn replicaset_and_pdb_rules() {
        let rs = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "r"},
            "spec": {"replicas": 2},
            "status": {"replicas": 2, "fullyLabeledReplicas": 2, "availableReplicas": 2,
                       "readyReplicas": 2}});
        assert_eq!(status_of(rs.clone()), Status::Current);
        let mut failing = rs;
        failing["status"]["conditions"] = json!([{"type": "ReplicaFailure", "status": "True"}]);
        assert_eq!(status_of(failing), Status::InProgress);

        let pdb = |cur: i64, want: i64| {
            json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                   "metadata": {"name": "p"},
                   "status": {"currentHealthy": cur, "desiredHealthy": want}})
        };
        assert_eq!(status_of(pdb(1, 2)), Status::InProgress);
        assert_eq!(status_of(pdb(2, 2)), Status::Current);
    }

    #[test]
    fn job_waits_for_completion() {
        let job = |status: Value| {
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
                   "spec": {"completions": 1}, "status": status})
        };
        assert_eq!(compute(&job(json!({}))).message, "Job not started");
        assert_eq!(
            status_of(job(
                json!({"startTime": "2026-01-01T00:00:00Z", "active": 1})
            )),
            Status::InProgress
        );
        assert_eq!(
            status_of(job(json!({"succeeded": 1,
                "conditions": [{"type": "Complete", "status": "True"}]}))),
            Status::Current
        );
        let failed = compute(&job(json!({"failed": 6,
            "conditions": [{"type": "Failed", "status": "True"}]})));
        assert_eq!(failed.status, Status::Failed);
        assert_eq!(failed.message, "Job Failed. failed: 6/1");
    }

    #[test]
    fn pod_pvc_service_rules() {
        let pod = |status: Value| json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "status": status});
        assert_eq!(
            status_of(pod(json!({"phase": "Running",
                "conditions": [{"type": "Ready", "status": "True"}]}))),
            Status::Current
        );
        assert_eq!(
            status_of(pod(json!({"phase": "Pending"}))),
            Status::InProgress
        );
        assert_eq!(status_of(pod(json!({"phase": "Failed"}))), Status::Failed);
        let crash = compute(&pod(json!({"phase": "Running", "containerStatuses": [
            {"name": "c", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]})));
        assert_eq!(crash.status, Status::Failed);
        assert_eq!(crash.message, "Containers in CrashLoop state: c");
        let mut unschedulable = pod(json!({"phase": "Pending", "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}));
        unschedulable["metadata"]["creationTimestamp"] = json!("2020-01-01T00:00:00Z");
        assert_eq!(
            compute(&unschedulable).message,
            "Pod could not be scheduled"
        );
        unschedulable["metadata"]["creationTimestamp"] = json!(jiff::Timestamp::now().to_string());
        assert_eq!(status_of(unschedulable), Status::InProgress);

        let pvc = |phase: &str| {
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                   "metadata": {"name": "c"}, "status": {"phase": phase}})
        };
        assert_eq!(status_of(pvc("Pending")), Status::InProgress);
        assert_eq!(status_of(pvc("Bound")), Status::Current);

        let svc = |spec: Value| json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": spec});
        assert_eq!(
            status_of(svc(json!({"type": "ClusterIP"}))),
            Status::Current
        );
        assert_eq!(
            status_of(svc(json!({"type": "LoadBalancer"}))),
            Status::InProgress
        );
        assert_eq!(
            status_of(svc(
                json!({"type": "LoadBalancer", "clusterIP": "10.0.0.1"})
            )),
            Status::Current
        );
    }

    #[test]
    fn crd_established_and_names_rejected() {
        let crd = |conds: Value| {
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                   "metadata": {"name": "x"}, "status": {"conditions": conds}})
        };
        assert_eq!(status_of(crd(json!([]))), Status::InProgress);
        assert_eq!(
            status_of(crd(json!([{"type": "Established", "status": "True"}]))),
            Status::Current
        );
        assert_eq!(
            status_of(crd(json!([{"type": "NamesAccepted", "status": "False",
                                  "message": "conflict"}]))),
            Status::Failed
        );
    }

    #[test]
    fn custom_resources_use_ready_reconciling_stalled() {
        let cr = |conds: Value| {
            json!({"apiVersion": "example.com/v1", "kind": "Widget",
                   "metadata": {"name": "w", "generation": 1},
                   "status": {"observedGeneration": 1, "conditions": conds}})
        };
        assert_eq!(status_of(cr(json!([]))), Status::Current);
        let r = compute(&cr(json!([{"type": "Ready", "status": "False",
                                    "reason": "Broken", "message": "widget is broken"}])));
        assert_eq!(r.status, Status::InProgress);
        assert_eq!(r.message, "widget is broken");
        assert_eq!(
            status_of(cr(json!([{"type": "Ready", "status": "True"}]))),
            Status::Current
        );
        assert_eq!(
            status_of(cr(json!([{"type": "Reconciling", "status": "True"}]))),
            Status::InProgress
        );
        assert_eq!(
            status_of(cr(
                json!([{"type": "Stalled", "status": "True", "message": "bad"}])
            )),
            Status::Failed
        );
    }

    #[test]
    fn flux_kinds_are_in_progress_until_observed() {
        // Flux's CRDs default `status.observedGeneration` to -1, so a new object is not
        // Current before its controller has looked at it.
        let hr = json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
                        "metadata": {"name": "h", "generation": 1},
                        "status": {"observedGeneration": -1}});
        let r = compute(&hr);
        assert_eq!(r.status, Status::InProgress);
        assert_eq!(
            r.message,
            "HelmRelease generation is 1, but latest observed generation is -1"
        );
        let mut ready = hr;
        ready["status"] = json!({"observedGeneration": 1,
            "conditions": [{"type": "Ready", "status": "True"}]});
        assert_eq!(status_of(ready), Status::Current);
    }

    #[test]
    fn config_objects_are_always_current() {
        for (api, kind) in [
            ("v1", "ConfigMap"),
            ("v1", "Secret"),
            ("batch/v1", "CronJob"),
        ] {
            assert_eq!(
                status_of(json!({"apiVersion": api, "kind": kind, "metadata": {"name": "x"}})),
                Status::Current
            );
        }
    }
}
