//! `regctl pull-secret`: the Kubernetes pull secret built from the stored
//! credential, checked against what kubectl makes for the same server and
//! credential (Debian's kubernetes-client; scripts/test installs it).

use base64::Engine as _;

use crate::harness::{regctl, PASSWORD, USER};

const SERVER: &str = "registry.example:5000";

/// The `.dockerconfigjson` of a Secret printed as JSON, decoded.
fn docker_config_of(secret_json: &str) -> serde_json::Value {
    let secret: serde_json::Value = serde_json::from_str(secret_json).unwrap();
    assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");
    let data = secret["data"][".dockerconfigjson"].as_str().unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap();
    serde_json::from_slice(&decoded).unwrap()
}

#[test]
fn the_secret_carries_the_stored_credential_as_kubectl_makes_it() {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    let run = regctl()
        .docker_config(&format!(
            r#"{{"auths":{{"{SERVER}":{{"auth":"{auth}"}}}}}}"#
        ))
        .args(["pull-secret", SERVER, "--name", "regcred", "-o", "json"])
        .run();
    run.success();
    assert!(run.stderr.contains("imagePullSecrets"), "{}", run.stderr);
    let ours = docker_config_of(&run.stdout);
    assert_eq!(ours["auths"][SERVER]["username"], USER);
    assert_eq!(ours["auths"][SERVER]["password"], PASSWORD);
    assert_eq!(ours["auths"][SERVER]["auth"], auth.as_str());
    let secret: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(secret["metadata"]["name"], "regcred");

    let kubectl = std::process::Command::new("kubectl")
        .args(["create", "secret", "docker-registry", "regcred"])
        .arg(format!("--docker-server={SERVER}"))
        .arg(format!("--docker-username={USER}"))
        .arg(format!("--docker-password={PASSWORD}"))
        .args(["--dry-run=client", "-o", "json"])
        .env("KUBECONFIG", "/dev/null")
        .output()
        .expect("kubectl is installed (scripts/test installs kubernetes-client)");
    assert!(
        kubectl.status.success(),
        "{}",
        String::from_utf8_lossy(&kubectl.stderr)
    );
    let theirs = docker_config_of(&String::from_utf8_lossy(&kubectl.stdout));
    assert_eq!(ours, theirs);

    // The YAML form carries the same data, and the namespace when given.
    let yaml = regctl()
        .docker_config(&format!(
            r#"{{"auths":{{"{SERVER}":{{"auth":"{auth}"}}}}}}"#
        ))
        .args([
            "pull-secret",
            SERVER,
            "--name",
            "regcred",
            "--namespace",
            "ci",
        ])
        .run();
    yaml.success();
    let secret: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let data = secret["data"][".dockerconfigjson"].as_str().unwrap();
    assert!(
        yaml.stdout.contains(data) && yaml.stdout.contains("namespace: \"ci\""),
        "{}",
        yaml.stdout
    );
}

#[test]
fn an_identity_token_alone_or_no_credential_gives_no_secret() {
    let run = regctl()
        .docker_config(&format!(
            r#"{{"auths":{{"{SERVER}":{{"identitytoken":"refresh-only"}}}}}}"#
        ))
        .args(["pull-secret", SERVER, "--name", "regcred"])
        .run();
    run.code(2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("identity token") && !run.stderr.contains("refresh-only"),
        "{}",
        run.stderr
    );
    let none = regctl()
        .args(["pull-secret", SERVER, "--name", "regcred"])
        .run();
    none.code(4);
    assert_eq!(none.stdout, "");
}
