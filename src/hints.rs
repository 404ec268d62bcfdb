//! regctl's words for the registry library's hints: the flags, variables and
//! commands a user of this CLI types. Installed once, at start-up.

use crate::registry::error::Hint;

/// How regctl words `hint`.
pub fn words(hint: &Hint) -> String {
    match hint {
        Hint::GiveCredentials { registry } => format!(
            "run `regctl login {registry}` (or docker login), pass --username with \
--password-stdin, or set REGCTL_USERNAME and REGCTL_PASSWORD"
        ),
        Hint::TrustCa { certs_d } => format!(
            "trust its CA certificate: pass --ca-file <ca.pem>, or put it at {certs_d}/ca.crt, or \
install it in the system trust store (update-ca-certificates, or a bundle named by SSL_CERT_FILE) \
(--insecure skips verification)"
        ),
        Hint::TrustCaElsewhere { registry } => format!(
            "{registry} sent regctl to this host (a token realm or a redirect): trust its CA \
certificate with --ca-file <ca.pem>, or install it in the system trust store (update-ca-certificates, \
or a bundle named by SSL_CERT_FILE); the certs.d folder and verification settings for {registry} \
do not apply to another host"
        ),
        Hint::UsePlainHttp => "if the registry speaks plain HTTP, pass --plain-http".into(),
        Hint::DropPlainHttp => "the port speaks TLS (HTTPS): drop --plain-http".into(),
        Hint::DropScheme => "drop the `http://`; pass --plain-http to talk HTTP".into(),
        Hint::RaiseTimeout => "raise --timeout if the registry is slow".into(),
        Hint::RaiseListBound => "raise --max-list-items if it really holds more".into(),
        Hint::ListOneRepository { registry } => {
            format!("list one repository instead: regctl ls {registry}/REPOSITORY")
        }
        other => other.default_words(),
    }
}

/// Makes every error message word its hints as regctl does.
pub fn install() {
    crate::registry::error::set_hint_words(words);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_hint() -> Vec<Hint> {
        vec![
            Hint::GiveCredentials {
                registry: "r:5000".into(),
            },
            Hint::CheckCredentials,
            Hint::AskForScope {
                scope: "repository:app:delete".into(),
            },
            Hint::NeedPush {
                repository: "app".into(),
            },
            Hint::CheckRedirects,
            Hint::TrustCa {
                certs_d: "/etc/docker/certs.d/r:5000".into(),
            },
            Hint::TrustCaElsewhere {
                registry: "r:5000".into(),
            },
            Hint::CheckElsewhere {
                registry: "r:5000".into(),
            },
            Hint::UseCertificateName,
            Hint::RenewCertificate,
            Hint::CheckClock,
            Hint::UsePlainHttp,
            Hint::DropPlainHttp,
            Hint::DropScheme,
            Hint::CheckTls,
            Hint::RaiseTimeout,
            Hint::RaiseListBound,
            Hint::ListOneRepository {
                registry: "r:5000".into(),
            },
            Hint::EnableDeletion,
            Hint::LeaveReadOnly,
            Hint::CheckAddress,
        ]
    }

    #[test]
    fn the_library_names_no_flag_and_regctl_names_its_own() {
        for hint in every_hint() {
            let library = hint.default_words();
            assert!(
                !library.contains("--")
                    && !library.contains("regctl")
                    && !library.contains("REGCTL"),
                "{library}"
            );
            assert!(!words(&hint).is_empty());
        }
        let ca = words(&Hint::TrustCa {
            certs_d: "/etc/docker/certs.d/r:5000".into(),
        });
        assert!(
            ca.contains("--ca-file") && ca.contains("/etc/docker/certs.d/r:5000/ca.crt"),
            "{ca}"
        );
        // Another host's certificate: the flag that turns verification off for
        // the registry does not apply there, and is not suggested.
        for elsewhere in [
            Hint::TrustCaElsewhere {
                registry: "r:5000".into(),
            },
            Hint::CheckElsewhere {
                registry: "r:5000".into(),
            },
        ] {
            let words = words(&elsewhere);
            assert!(!words.contains("--insecure"), "{words}");
        }
        assert!(words(&Hint::RaiseTimeout).contains("--timeout"));
        assert!(words(&Hint::ListOneRepository {
            registry: "r:5000".into()
        })
        .contains("regctl ls r:5000/REPOSITORY"));
    }
}
