//! Each controller's chart, installed with the reference helm into the local control plane.

use ferroflux_e2e::{Cluster, TestNamespace, repo_root};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, ListParams};

async fn install_and_check(chart: &str) {
    let cluster = Cluster::shared().unwrap();
    let client = cluster.client().await.unwrap();
    let ns = TestNamespace::create(&client, &cluster, "chart")
        .await
        .unwrap();
    let path = repo_root().join("charts").join(chart);
    let release = chart.to_string();
    cluster
        .helm(&[
            "install",
            &release,
            path.to_str().unwrap(),
            "-n",
            &ns.name,
            "--wait=false",
            "--skip-crds",
        ])
        .unwrap();
    let selector = ListParams::default().labels(&format!("app.kubernetes.io/instance={release}"));
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns.name);
    let deploy = deployments.list(&selector).await.unwrap();
    assert_eq!(deploy.items.len(), 1, "{chart}: one Deployment");
    let spec = deploy.items[0].spec.template.spec.clone().unwrap();
    let container = &spec.containers[0];
    let ports: Vec<(String, i32)> = container
        .ports
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.name.unwrap_or_default(), p.container_port))
        .collect();
    assert!(
        ports.contains(&("http-prom".into(), 8080)),
        "{chart} ports {ports:?}"
    );
    assert!(
        ports.contains(&("healthz".into(), 9440)),
        "{chart} ports {ports:?}"
    );
    if chart == "source-controller" {
        assert!(
            ports.contains(&("http".into(), 9090)),
            "{chart} ports {ports:?}"
        );
    }
    let sc = container.security_context.clone().unwrap();
    assert_eq!(sc.read_only_root_filesystem, Some(true));
    assert_eq!(sc.allow_privilege_escalation, Some(false));
    let args = container.args.clone().unwrap_or_default();
    assert!(
        args.iter().any(|a| a.starts_with("--metrics-addr")),
        "{chart} args {args:?}"
    );
    assert!(
        !Api::<ServiceAccount>::namespaced(client.clone(), &ns.name)
            .list(&selector)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        !Api::<Service>::namespaced(client.clone(), &ns.name)
            .list(&selector)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        !Api::<ClusterRoleBinding>::all(client.clone())
            .list(&selector)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    if chart == "source-controller" {
        let roles = Api::<ClusterRole>::all(client.clone())
            .list(&selector)
            .await
            .unwrap();
        assert!(
            !roles.items.is_empty(),
            "source-controller has its own least-privilege ClusterRole"
        );
    }
    cluster
        .helm(&["uninstall", &release, "-n", &ns.name, "--wait"])
        .unwrap();
    let left = Api::<ClusterRoleBinding>::all(client.clone())
        .list(&selector)
        .await
        .unwrap();
    assert!(
        left.items.is_empty(),
        "uninstall removes cluster-scoped objects"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn source_controller_chart_installs() {
    install_and_check("source-controller").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kustomize_controller_chart_installs() {
    install_and_check("kustomize-controller").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn helm_controller_chart_installs() {
    install_and_check("helm-controller").await;
}
