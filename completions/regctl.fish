# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_regctl_global_optspecs
    string join \n ca-file= certs-dir= insecure plain-http u/username= password-stdin concurrency= timeout= deadline= retries= max-list-items= format= v/verbose h/help V/version
end

function __fish_regctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_regctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_regctl_using_subcommand
    set -l cmd (__fish_regctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c regctl -n "__fish_regctl_needs_command" -l ca-file -d 'Trust this CA certificate (PEM) in addition to the system\'s roots; repeatable' -r -F
complete -c regctl -n "__fish_regctl_needs_command" -l certs-dir -d 'Docker-style certificate folder: <DIR>/<host:port>/ca.crt, client.cert, client.key' -r -F
complete -c regctl -n "__fish_regctl_needs_command" -s u -l username -d 'User name; the password is read from standard input (--password-stdin)' -r
complete -c regctl -n "__fish_regctl_needs_command" -l concurrency -d 'How many requests may run at once' -r
complete -c regctl -n "__fish_regctl_needs_command" -l timeout -d 'Per-request timeout in seconds' -r
complete -c regctl -n "__fish_regctl_needs_command" -l deadline -d 'Stop the whole run after this many seconds, as Ctrl-C does (deletions in flight finish and are reported); exit 1' -r
complete -c regctl -n "__fish_regctl_needs_command" -l retries -d 'Retries of idempotent requests on 408, 429, 5xx and connection resets' -r
complete -c regctl -n "__fish_regctl_needs_command" -l max-list-items -d 'The most repositories (or tags of one repository) a listing may hold: a registry whose pagination never ends is stopped here' -r
complete -c regctl -n "__fish_regctl_needs_command" -l format -d 'Output format [default: table on a terminal, plain otherwise]' -r -f -a "plain\t'One item per line, for scripts'
table\t'An aligned table, for people'
json\t'One JSON document'"
complete -c regctl -n "__fish_regctl_needs_command" -l insecure -d 'Do not verify the registry\'s TLS certificate (a warning is printed)'
complete -c regctl -n "__fish_regctl_needs_command" -l plain-http -d 'Talk plain HTTP instead of HTTPS'
complete -c regctl -n "__fish_regctl_needs_command" -l password-stdin -d 'Read the password from standard input'
complete -c regctl -n "__fish_regctl_needs_command" -s v -l verbose -d 'Log each request (method, URL, status, time) to stderr, credentials redacted'
complete -c regctl -n "__fish_regctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c regctl -n "__fish_regctl_needs_command" -s V -l version -d 'Print version'
complete -c regctl -n "__fish_regctl_needs_command" -f -a "ls" -d 'List every REGISTRY/REPOSITORY:TAG, sorted'
complete -c regctl -n "__fish_regctl_needs_command" -f -a "digest" -d 'Print the digest of each reference, in the order given'
complete -c regctl -n "__fish_regctl_needs_command" -f -a "rm" -d 'Delete manifests by digest, or remove tags without touching the tags that share their manifest'
complete -c regctl -n "__fish_regctl_needs_command" -f -a "prune" -d 'Delete images by retention rules, decided per image (never a tag whose image stays): keep the newest N, delete older than a duration, match or exclude tag names'
complete -c regctl -n "__fish_regctl_needs_command" -f -a "pull-secret" -d 'Print a Kubernetes pull secret (kubernetes.io/dockerconfigjson) built from the credential stored for a registry'
complete -c regctl -n "__fish_regctl_needs_command" -f -a "inspect" -d 'Show what each manifest is: platforms, config, layers with sizes, attachments'
complete -c regctl -n "__fish_regctl_needs_command" -f -a "du" -d 'Show the space images take, per repository or per image, as the registry\'s API sees it'
complete -c regctl -n "__fish_regctl_needs_command" -f -a "doctor" -d 'Diagnose a registry: name, TCP, TLS and its trust source, the API, proxy, auth, credentials, catalog, deletion, referrers, paging'
complete -c regctl -n "__fish_regctl_needs_command" -f -a "cp" -d 'Copy images between registries and to or from OCI layout folders, keeping digests, signatures and SBOMs'
complete -c regctl -n "__fish_regctl_needs_command" -f -a "tag" -d 'Add tags to a manifest that is there: one manifest PUT each, no blob moves'
complete -c regctl -n "__fish_regctl_needs_command" -f -a "login" -d 'Check credentials against a registry, then store them where docker looks (or in the OS keyring)'
complete -c regctl -n "__fish_regctl_needs_command" -f -a "logout" -d 'Erase the credential stored for a registry (helper, OS keyring, docker\'s config)'
complete -c regctl -n "__fish_regctl_needs_command" -f -a "setup" -d 'Write what a private registry needs (certificates, htpasswd, config, unit), install client trust and proxy drop-ins, or check a set-up'
complete -c regctl -n "__fish_regctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c regctl -n "__fish_regctl_using_subcommand ls" -l ca-file -d 'Trust this CA certificate (PEM) in addition to the system\'s roots; repeatable' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand ls" -l certs-dir -d 'Docker-style certificate folder: <DIR>/<host:port>/ca.crt, client.cert, client.key' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand ls" -s u -l username -d 'User name; the password is read from standard input (--password-stdin)' -r
complete -c regctl -n "__fish_regctl_using_subcommand ls" -l concurrency -d 'How many requests may run at once' -r
complete -c regctl -n "__fish_regctl_using_subcommand ls" -l timeout -d 'Per-request timeout in seconds' -r
complete -c regctl -n "__fish_regctl_using_subcommand ls" -l deadline -d 'Stop the whole run after this many seconds, as Ctrl-C does (deletions in flight finish and are reported); exit 1' -r
complete -c regctl -n "__fish_regctl_using_subcommand ls" -l retries -d 'Retries of idempotent requests on 408, 429, 5xx and connection resets' -r
complete -c regctl -n "__fish_regctl_using_subcommand ls" -l max-list-items -d 'The most repositories (or tags of one repository) a listing may hold: a registry whose pagination never ends is stopped here' -r
complete -c regctl -n "__fish_regctl_using_subcommand ls" -l format -d 'Output format [default: table on a terminal, plain otherwise]' -r -f -a "plain\t'One item per line, for scripts'
table\t'An aligned table, for people'
json\t'One JSON document'"
complete -c regctl -n "__fish_regctl_using_subcommand ls" -l digests -d 'Also resolve each tag\'s digest'
complete -c regctl -n "__fish_regctl_using_subcommand ls" -l insecure -d 'Do not verify the registry\'s TLS certificate (a warning is printed)'
complete -c regctl -n "__fish_regctl_using_subcommand ls" -l plain-http -d 'Talk plain HTTP instead of HTTPS'
complete -c regctl -n "__fish_regctl_using_subcommand ls" -l password-stdin -d 'Read the password from standard input'
complete -c regctl -n "__fish_regctl_using_subcommand ls" -s v -l verbose -d 'Log each request (method, URL, status, time) to stderr, credentials redacted'
complete -c regctl -n "__fish_regctl_using_subcommand ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c regctl -n "__fish_regctl_using_subcommand digest" -l platform -d 'Resolve the child of a multi-platform index for os/arch[/variant]' -r
complete -c regctl -n "__fish_regctl_using_subcommand digest" -l ca-file -d 'Trust this CA certificate (PEM) in addition to the system\'s roots; repeatable' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand digest" -l certs-dir -d 'Docker-style certificate folder: <DIR>/<host:port>/ca.crt, client.cert, client.key' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand digest" -s u -l username -d 'User name; the password is read from standard input (--password-stdin)' -r
complete -c regctl -n "__fish_regctl_using_subcommand digest" -l concurrency -d 'How many requests may run at once' -r
complete -c regctl -n "__fish_regctl_using_subcommand digest" -l timeout -d 'Per-request timeout in seconds' -r
complete -c regctl -n "__fish_regctl_using_subcommand digest" -l deadline -d 'Stop the whole run after this many seconds, as Ctrl-C does (deletions in flight finish and are reported); exit 1' -r
complete -c regctl -n "__fish_regctl_using_subcommand digest" -l retries -d 'Retries of idempotent requests on 408, 429, 5xx and connection resets' -r
complete -c regctl -n "__fish_regctl_using_subcommand digest" -l max-list-items -d 'The most repositories (or tags of one repository) a listing may hold: a registry whose pagination never ends is stopped here' -r
complete -c regctl -n "__fish_regctl_using_subcommand digest" -l format -d 'Output format [default: table on a terminal, plain otherwise]' -r -f -a "plain\t'One item per line, for scripts'
table\t'An aligned table, for people'
json\t'One JSON document'"
complete -c regctl -n "__fish_regctl_using_subcommand digest" -l insecure -d 'Do not verify the registry\'s TLS certificate (a warning is printed)'
complete -c regctl -n "__fish_regctl_using_subcommand digest" -l plain-http -d 'Talk plain HTTP instead of HTTPS'
complete -c regctl -n "__fish_regctl_using_subcommand digest" -l password-stdin -d 'Read the password from standard input'
complete -c regctl -n "__fish_regctl_using_subcommand digest" -s v -l verbose -d 'Log each request (method, URL, status, time) to stderr, credentials redacted'
complete -c regctl -n "__fish_regctl_using_subcommand digest" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c regctl -n "__fish_regctl_using_subcommand rm" -l ca-file -d 'Trust this CA certificate (PEM) in addition to the system\'s roots; repeatable' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand rm" -l certs-dir -d 'Docker-style certificate folder: <DIR>/<host:port>/ca.crt, client.cert, client.key' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand rm" -s u -l username -d 'User name; the password is read from standard input (--password-stdin)' -r
complete -c regctl -n "__fish_regctl_using_subcommand rm" -l concurrency -d 'How many requests may run at once' -r
complete -c regctl -n "__fish_regctl_using_subcommand rm" -l timeout -d 'Per-request timeout in seconds' -r
complete -c regctl -n "__fish_regctl_using_subcommand rm" -l deadline -d 'Stop the whole run after this many seconds, as Ctrl-C does (deletions in flight finish and are reported); exit 1' -r
complete -c regctl -n "__fish_regctl_using_subcommand rm" -l retries -d 'Retries of idempotent requests on 408, 429, 5xx and connection resets' -r
complete -c regctl -n "__fish_regctl_using_subcommand rm" -l max-list-items -d 'The most repositories (or tags of one repository) a listing may hold: a registry whose pagination never ends is stopped here' -r
complete -c regctl -n "__fish_regctl_using_subcommand rm" -l format -d 'Output format [default: table on a terminal, plain otherwise]' -r -f -a "plain\t'One item per line, for scripts'
table\t'An aligned table, for people'
json\t'One JSON document'"
complete -c regctl -n "__fish_regctl_using_subcommand rm" -l dry-run -d 'Print the plan and change nothing'
complete -c regctl -n "__fish_regctl_using_subcommand rm" -s y -l yes -d 'Do not ask for confirmation (required when stdin is not a terminal)'
complete -c regctl -n "__fish_regctl_using_subcommand rm" -l force -d 'Delete a digest even though an index references it'
complete -c regctl -n "__fish_regctl_using_subcommand rm" -l ignore-missing -d 'Exit 0 when a reference is already gone'
complete -c regctl -n "__fish_regctl_using_subcommand rm" -l keep-attachments -d 'Leave the signatures, attestations, SBOMs and referrers of deleted manifests in place (by default they are deleted with their subject)'
complete -c regctl -n "__fish_regctl_using_subcommand rm" -l insecure -d 'Do not verify the registry\'s TLS certificate (a warning is printed)'
complete -c regctl -n "__fish_regctl_using_subcommand rm" -l plain-http -d 'Talk plain HTTP instead of HTTPS'
complete -c regctl -n "__fish_regctl_using_subcommand rm" -l password-stdin -d 'Read the password from standard input'
complete -c regctl -n "__fish_regctl_using_subcommand rm" -s v -l verbose -d 'Log each request (method, URL, status, time) to stderr, credentials redacted'
complete -c regctl -n "__fish_regctl_using_subcommand rm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l keep -d 'Keep the newest N images per repository (distinct manifests, among those the name rules select); attachments are not counted' -r
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l older-than -d 'Delete only images older than this: 30d, 12h, 90m, 2w, 1y (365 days), 1d12h; 0d means any age' -r
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l match -d 'Consider only images all of whose tags match REGEX (needs --keep or --older-than; to delete all it selects, say --keep 0)' -r
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l exclude -d 'Never consider images with a tag matching REGEX' -r
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l keep-tags -d 'Keep any image with a tag matching REGEX (latest, stable, prod-.*), outside the count' -r
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l group -d 'Apply --keep within each group: the first capture group of REGEX on an image\'s tags (\'^v(\\d+\\.\\d+)\\.\' keeps the newest N of every minor release line); images no tag matches form one group of their own' -r
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l order -d 'Rank images by creation date, or by their greatest semver tag (v prefix allowed; pre-releases below their release); images without one rank after them, by date' -r -f -a "date\t'By creation date, newest first'
semver\t'By the greatest semver tag, greatest first'"
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l protect -d 'Never delete an image this file names (repeatable; - for stdin): kubectl\'s JSON or YAML (pods, deployments, ... or a List; pod statuses\' imageID digests too), rendered manifests, a compose file, or a list of references' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l policy -d 'Take the rules from a YAML policy file (per repository, the first rule whose pattern matches) instead of the rule flags' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l report -d 'Also write the plan as a Markdown report a reviewer can read: per repository, what is kept and why, what goes and why, the bytes freed' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l max-delete -d 'Refuse, before changing anything, a plan that deletes more than N images' -r
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l ca-file -d 'Trust this CA certificate (PEM) in addition to the system\'s roots; repeatable' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l certs-dir -d 'Docker-style certificate folder: <DIR>/<host:port>/ca.crt, client.cert, client.key' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand prune" -s u -l username -d 'User name; the password is read from standard input (--password-stdin)' -r
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l concurrency -d 'How many requests may run at once' -r
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l timeout -d 'Per-request timeout in seconds' -r
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l deadline -d 'Stop the whole run after this many seconds, as Ctrl-C does (deletions in flight finish and are reported); exit 1' -r
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l retries -d 'Retries of idempotent requests on 408, 429, 5xx and connection resets' -r
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l max-list-items -d 'The most repositories (or tags of one repository) a listing may hold: a registry whose pagination never ends is stopped here' -r
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l format -d 'Output format [default: table on a terminal, plain otherwise]' -r -f -a "plain\t'One item per line, for scripts'
table\t'An aligned table, for people'
json\t'One JSON document'"
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l protect-kube -d 'Never delete what the cluster runs: `kubectl get pods,deployments, replicasets,replicationcontrollers,statefulsets,daemonsets,cronjobs,jobs -A -o json` with your kubeconfig and context; if the cluster cannot be read, nothing is deleted'
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l check -d 'With --policy: check the file and print which rule each repository of the registry falls under (only the catalog is read); change nothing'
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l keep-attachments -d 'Leave the attachments of deleted images in place'
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l orphans -d 'Also delete attachments whose subject no longer exists'
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l dry-run -d 'Print the plan and change nothing'
complete -c regctl -n "__fish_regctl_using_subcommand prune" -s y -l yes -d 'Do not ask for confirmation (required when stdin is not a terminal)'
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l allow-empty-repositories -d 'With --yes, carry out a plan that leaves a repository with no tag (refused otherwise, exit 6: a rule that empties a repository is more often a mistake)'
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l insecure -d 'Do not verify the registry\'s TLS certificate (a warning is printed)'
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l plain-http -d 'Talk plain HTTP instead of HTTPS'
complete -c regctl -n "__fish_regctl_using_subcommand prune" -l password-stdin -d 'Read the password from standard input'
complete -c regctl -n "__fish_regctl_using_subcommand prune" -s v -l verbose -d 'Log each request (method, URL, status, time) to stderr, credentials redacted'
complete -c regctl -n "__fish_regctl_using_subcommand prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c regctl -n "__fish_regctl_using_subcommand pull-secret" -l name -d 'The Secret\'s name' -r
complete -c regctl -n "__fish_regctl_using_subcommand pull-secret" -l namespace -d 'The Secret\'s namespace (none: kubectl\'s current one when applied)' -r
complete -c regctl -n "__fish_regctl_using_subcommand pull-secret" -s o -l output -d 'How to print the Secret' -r -f -a "yaml\t'YAML, as `kubectl create secret ... -o yaml` prints it'
json\t'JSON, as `kubectl create secret ... -o json` prints it'"
complete -c regctl -n "__fish_regctl_using_subcommand pull-secret" -l ca-file -d 'Trust this CA certificate (PEM) in addition to the system\'s roots; repeatable' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand pull-secret" -l certs-dir -d 'Docker-style certificate folder: <DIR>/<host:port>/ca.crt, client.cert, client.key' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand pull-secret" -s u -l username -d 'User name; the password is read from standard input (--password-stdin)' -r
complete -c regctl -n "__fish_regctl_using_subcommand pull-secret" -l concurrency -d 'How many requests may run at once' -r
complete -c regctl -n "__fish_regctl_using_subcommand pull-secret" -l timeout -d 'Per-request timeout in seconds' -r
complete -c regctl -n "__fish_regctl_using_subcommand pull-secret" -l deadline -d 'Stop the whole run after this many seconds, as Ctrl-C does (deletions in flight finish and are reported); exit 1' -r
complete -c regctl -n "__fish_regctl_using_subcommand pull-secret" -l retries -d 'Retries of idempotent requests on 408, 429, 5xx and connection resets' -r
complete -c regctl -n "__fish_regctl_using_subcommand pull-secret" -l max-list-items -d 'The most repositories (or tags of one repository) a listing may hold: a registry whose pagination never ends is stopped here' -r
complete -c regctl -n "__fish_regctl_using_subcommand pull-secret" -l format -d 'Output format [default: table on a terminal, plain otherwise]' -r -f -a "plain\t'One item per line, for scripts'
table\t'An aligned table, for people'
json\t'One JSON document'"
complete -c regctl -n "__fish_regctl_using_subcommand pull-secret" -l insecure -d 'Do not verify the registry\'s TLS certificate (a warning is printed)'
complete -c regctl -n "__fish_regctl_using_subcommand pull-secret" -l plain-http -d 'Talk plain HTTP instead of HTTPS'
complete -c regctl -n "__fish_regctl_using_subcommand pull-secret" -l password-stdin -d 'Read the password from standard input'
complete -c regctl -n "__fish_regctl_using_subcommand pull-secret" -s v -l verbose -d 'Log each request (method, URL, status, time) to stderr, credentials redacted'
complete -c regctl -n "__fish_regctl_using_subcommand pull-secret" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c regctl -n "__fish_regctl_using_subcommand inspect" -l platform -d 'Inspect the child of a multi-platform index for os/arch[/variant] (with --raw or --config, that platform\'s manifest or config)' -r
complete -c regctl -n "__fish_regctl_using_subcommand inspect" -l ca-file -d 'Trust this CA certificate (PEM) in addition to the system\'s roots; repeatable' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand inspect" -l certs-dir -d 'Docker-style certificate folder: <DIR>/<host:port>/ca.crt, client.cert, client.key' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand inspect" -s u -l username -d 'User name; the password is read from standard input (--password-stdin)' -r
complete -c regctl -n "__fish_regctl_using_subcommand inspect" -l concurrency -d 'How many requests may run at once' -r
complete -c regctl -n "__fish_regctl_using_subcommand inspect" -l timeout -d 'Per-request timeout in seconds' -r
complete -c regctl -n "__fish_regctl_using_subcommand inspect" -l deadline -d 'Stop the whole run after this many seconds, as Ctrl-C does (deletions in flight finish and are reported); exit 1' -r
complete -c regctl -n "__fish_regctl_using_subcommand inspect" -l retries -d 'Retries of idempotent requests on 408, 429, 5xx and connection resets' -r
complete -c regctl -n "__fish_regctl_using_subcommand inspect" -l max-list-items -d 'The most repositories (or tags of one repository) a listing may hold: a registry whose pagination never ends is stopped here' -r
complete -c regctl -n "__fish_regctl_using_subcommand inspect" -l format -d 'Output format [default: table on a terminal, plain otherwise]' -r -f -a "plain\t'One item per line, for scripts'
table\t'An aligned table, for people'
json\t'One JSON document'"
complete -c regctl -n "__fish_regctl_using_subcommand inspect" -l raw -d 'Print the manifest\'s bytes exactly as served (their sha256 is the digest)'
complete -c regctl -n "__fish_regctl_using_subcommand inspect" -l config -d 'Print the image\'s config blob exactly as served'
complete -c regctl -n "__fish_regctl_using_subcommand inspect" -l insecure -d 'Do not verify the registry\'s TLS certificate (a warning is printed)'
complete -c regctl -n "__fish_regctl_using_subcommand inspect" -l plain-http -d 'Talk plain HTTP instead of HTTPS'
complete -c regctl -n "__fish_regctl_using_subcommand inspect" -l password-stdin -d 'Read the password from standard input'
complete -c regctl -n "__fish_regctl_using_subcommand inspect" -s v -l verbose -d 'Log each request (method, URL, status, time) to stderr, credentials redacted'
complete -c regctl -n "__fish_regctl_using_subcommand inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c regctl -n "__fish_regctl_using_subcommand du" -l by -d 'One row per repository (with a total), or per tagged image' -r -f -a "repository\t'One row per repository, and a total'
tag\t'One row per tagged image (an index with its children)'"
complete -c regctl -n "__fish_regctl_using_subcommand du" -l ca-file -d 'Trust this CA certificate (PEM) in addition to the system\'s roots; repeatable' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand du" -l certs-dir -d 'Docker-style certificate folder: <DIR>/<host:port>/ca.crt, client.cert, client.key' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand du" -s u -l username -d 'User name; the password is read from standard input (--password-stdin)' -r
complete -c regctl -n "__fish_regctl_using_subcommand du" -l concurrency -d 'How many requests may run at once' -r
complete -c regctl -n "__fish_regctl_using_subcommand du" -l timeout -d 'Per-request timeout in seconds' -r
complete -c regctl -n "__fish_regctl_using_subcommand du" -l deadline -d 'Stop the whole run after this many seconds, as Ctrl-C does (deletions in flight finish and are reported); exit 1' -r
complete -c regctl -n "__fish_regctl_using_subcommand du" -l retries -d 'Retries of idempotent requests on 408, 429, 5xx and connection resets' -r
complete -c regctl -n "__fish_regctl_using_subcommand du" -l max-list-items -d 'The most repositories (or tags of one repository) a listing may hold: a registry whose pagination never ends is stopped here' -r
complete -c regctl -n "__fish_regctl_using_subcommand du" -l format -d 'Output format [default: table on a terminal, plain otherwise]' -r -f -a "plain\t'One item per line, for scripts'
table\t'An aligned table, for people'
json\t'One JSON document'"
complete -c regctl -n "__fish_regctl_using_subcommand du" -l insecure -d 'Do not verify the registry\'s TLS certificate (a warning is printed)'
complete -c regctl -n "__fish_regctl_using_subcommand du" -l plain-http -d 'Talk plain HTTP instead of HTTPS'
complete -c regctl -n "__fish_regctl_using_subcommand du" -l password-stdin -d 'Read the password from standard input'
complete -c regctl -n "__fish_regctl_using_subcommand du" -s v -l verbose -d 'Log each request (method, URL, status, time) to stderr, credentials redacted'
complete -c regctl -n "__fish_regctl_using_subcommand du" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c regctl -n "__fish_regctl_using_subcommand doctor" -l ca-file -d 'Trust this CA certificate (PEM) in addition to the system\'s roots; repeatable' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand doctor" -l certs-dir -d 'Docker-style certificate folder: <DIR>/<host:port>/ca.crt, client.cert, client.key' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand doctor" -s u -l username -d 'User name; the password is read from standard input (--password-stdin)' -r
complete -c regctl -n "__fish_regctl_using_subcommand doctor" -l concurrency -d 'How many requests may run at once' -r
complete -c regctl -n "__fish_regctl_using_subcommand doctor" -l timeout -d 'Per-request timeout in seconds' -r
complete -c regctl -n "__fish_regctl_using_subcommand doctor" -l deadline -d 'Stop the whole run after this many seconds, as Ctrl-C does (deletions in flight finish and are reported); exit 1' -r
complete -c regctl -n "__fish_regctl_using_subcommand doctor" -l retries -d 'Retries of idempotent requests on 408, 429, 5xx and connection resets' -r
complete -c regctl -n "__fish_regctl_using_subcommand doctor" -l max-list-items -d 'The most repositories (or tags of one repository) a listing may hold: a registry whose pagination never ends is stopped here' -r
complete -c regctl -n "__fish_regctl_using_subcommand doctor" -l format -d 'Output format [default: table on a terminal, plain otherwise]' -r -f -a "plain\t'One item per line, for scripts'
table\t'An aligned table, for people'
json\t'One JSON document'"
complete -c regctl -n "__fish_regctl_using_subcommand doctor" -l insecure -d 'Do not verify the registry\'s TLS certificate (a warning is printed)'
complete -c regctl -n "__fish_regctl_using_subcommand doctor" -l plain-http -d 'Talk plain HTTP instead of HTTPS'
complete -c regctl -n "__fish_regctl_using_subcommand doctor" -l password-stdin -d 'Read the password from standard input'
complete -c regctl -n "__fish_regctl_using_subcommand doctor" -s v -l verbose -d 'Log each request (method, URL, status, time) to stderr, credentials redacted'
complete -c regctl -n "__fish_regctl_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l tags -d 'With -r: copy only tags that match REGEX' -r
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l exclude -d 'With -r: leave out tags that match REGEX' -r
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l platform -d 'Copy only this platform of a multi-arch image (its own digest, not the index\'s): OS/ARCH[/VARIANT]' -r
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l src-username -d 'User for the source registry; the password from --src-password-stdin or REGCTL_SRC_PASSWORD' -r
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l dst-username -d 'User for the destination registry; the password from --dst-password-stdin or REGCTL_DST_PASSWORD' -r
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l ca-file -d 'Trust this CA certificate (PEM) in addition to the system\'s roots; repeatable' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l certs-dir -d 'Docker-style certificate folder: <DIR>/<host:port>/ca.crt, client.cert, client.key' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand cp" -s u -l username -d 'User name; the password is read from standard input (--password-stdin)' -r
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l concurrency -d 'How many requests may run at once' -r
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l timeout -d 'Per-request timeout in seconds' -r
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l deadline -d 'Stop the whole run after this many seconds, as Ctrl-C does (deletions in flight finish and are reported); exit 1' -r
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l retries -d 'Retries of idempotent requests on 408, 429, 5xx and connection resets' -r
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l max-list-items -d 'The most repositories (or tags of one repository) a listing may hold: a registry whose pagination never ends is stopped here' -r
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l format -d 'Output format [default: table on a terminal, plain otherwise]' -r -f -a "plain\t'One item per line, for scripts'
table\t'An aligned table, for people'
json\t'One JSON document'"
complete -c regctl -n "__fish_regctl_using_subcommand cp" -s r -l recursive -d 'Copy every repository under SRC\'s prefix, with every tag'
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l no-attachments -d 'Leave signatures, attestations, SBOMs and referrers behind (by default they go along)'
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l dry-run -d 'Print what would be sent and what is there already; change nothing'
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l force -d 'Check every blob, even where the destination has the image\'s manifest'
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l src-plain-http -d 'Reach the source registry over plain HTTP (--plain-http: both)'
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l dst-plain-http -d 'Reach the destination registry over plain HTTP'
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l src-password-stdin -d 'Read the source registry\'s password from standard input'
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l dst-password-stdin -d 'Read the destination registry\'s password from standard input'
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l insecure -d 'Do not verify the registry\'s TLS certificate (a warning is printed)'
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l plain-http -d 'Talk plain HTTP instead of HTTPS'
complete -c regctl -n "__fish_regctl_using_subcommand cp" -l password-stdin -d 'Read the password from standard input'
complete -c regctl -n "__fish_regctl_using_subcommand cp" -s v -l verbose -d 'Log each request (method, URL, status, time) to stderr, credentials redacted'
complete -c regctl -n "__fish_regctl_using_subcommand cp" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c regctl -n "__fish_regctl_using_subcommand tag" -l ca-file -d 'Trust this CA certificate (PEM) in addition to the system\'s roots; repeatable' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand tag" -l certs-dir -d 'Docker-style certificate folder: <DIR>/<host:port>/ca.crt, client.cert, client.key' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand tag" -s u -l username -d 'User name; the password is read from standard input (--password-stdin)' -r
complete -c regctl -n "__fish_regctl_using_subcommand tag" -l concurrency -d 'How many requests may run at once' -r
complete -c regctl -n "__fish_regctl_using_subcommand tag" -l timeout -d 'Per-request timeout in seconds' -r
complete -c regctl -n "__fish_regctl_using_subcommand tag" -l deadline -d 'Stop the whole run after this many seconds, as Ctrl-C does (deletions in flight finish and are reported); exit 1' -r
complete -c regctl -n "__fish_regctl_using_subcommand tag" -l retries -d 'Retries of idempotent requests on 408, 429, 5xx and connection resets' -r
complete -c regctl -n "__fish_regctl_using_subcommand tag" -l max-list-items -d 'The most repositories (or tags of one repository) a listing may hold: a registry whose pagination never ends is stopped here' -r
complete -c regctl -n "__fish_regctl_using_subcommand tag" -l format -d 'Output format [default: table on a terminal, plain otherwise]' -r -f -a "plain\t'One item per line, for scripts'
table\t'An aligned table, for people'
json\t'One JSON document'"
complete -c regctl -n "__fish_regctl_using_subcommand tag" -l insecure -d 'Do not verify the registry\'s TLS certificate (a warning is printed)'
complete -c regctl -n "__fish_regctl_using_subcommand tag" -l plain-http -d 'Talk plain HTTP instead of HTTPS'
complete -c regctl -n "__fish_regctl_using_subcommand tag" -l password-stdin -d 'Read the password from standard input'
complete -c regctl -n "__fish_regctl_using_subcommand tag" -s v -l verbose -d 'Log each request (method, URL, status, time) to stderr, credentials redacted'
complete -c regctl -n "__fish_regctl_using_subcommand tag" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c regctl -n "__fish_regctl_using_subcommand login" -l store -d 'Where to store the credential (default: the first available of helper, keyring, config)' -r -f -a "helper\t'The credential helper docker\'s config names (credHelpers for the registry, else credsStore)'
keyring\t'The OS keyring (Secret Service, Keychain, Credential Manager)'
config\t'docker\'s config.json `auths` (base64-encoded, not encrypted)'"
complete -c regctl -n "__fish_regctl_using_subcommand login" -l ca-file -d 'Trust this CA certificate (PEM) in addition to the system\'s roots; repeatable' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand login" -l certs-dir -d 'Docker-style certificate folder: <DIR>/<host:port>/ca.crt, client.cert, client.key' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand login" -s u -l username -d 'User name; the password is read from standard input (--password-stdin)' -r
complete -c regctl -n "__fish_regctl_using_subcommand login" -l concurrency -d 'How many requests may run at once' -r
complete -c regctl -n "__fish_regctl_using_subcommand login" -l timeout -d 'Per-request timeout in seconds' -r
complete -c regctl -n "__fish_regctl_using_subcommand login" -l deadline -d 'Stop the whole run after this many seconds, as Ctrl-C does (deletions in flight finish and are reported); exit 1' -r
complete -c regctl -n "__fish_regctl_using_subcommand login" -l retries -d 'Retries of idempotent requests on 408, 429, 5xx and connection resets' -r
complete -c regctl -n "__fish_regctl_using_subcommand login" -l max-list-items -d 'The most repositories (or tags of one repository) a listing may hold: a registry whose pagination never ends is stopped here' -r
complete -c regctl -n "__fish_regctl_using_subcommand login" -l format -d 'Output format [default: table on a terminal, plain otherwise]' -r -f -a "plain\t'One item per line, for scripts'
table\t'An aligned table, for people'
json\t'One JSON document'"
complete -c regctl -n "__fish_regctl_using_subcommand login" -l insecure -d 'Do not verify the registry\'s TLS certificate (a warning is printed)'
complete -c regctl -n "__fish_regctl_using_subcommand login" -l plain-http -d 'Talk plain HTTP instead of HTTPS'
complete -c regctl -n "__fish_regctl_using_subcommand login" -l password-stdin -d 'Read the password from standard input'
complete -c regctl -n "__fish_regctl_using_subcommand login" -s v -l verbose -d 'Log each request (method, URL, status, time) to stderr, credentials redacted'
complete -c regctl -n "__fish_regctl_using_subcommand login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c regctl -n "__fish_regctl_using_subcommand logout" -l ca-file -d 'Trust this CA certificate (PEM) in addition to the system\'s roots; repeatable' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand logout" -l certs-dir -d 'Docker-style certificate folder: <DIR>/<host:port>/ca.crt, client.cert, client.key' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand logout" -s u -l username -d 'User name; the password is read from standard input (--password-stdin)' -r
complete -c regctl -n "__fish_regctl_using_subcommand logout" -l concurrency -d 'How many requests may run at once' -r
complete -c regctl -n "__fish_regctl_using_subcommand logout" -l timeout -d 'Per-request timeout in seconds' -r
complete -c regctl -n "__fish_regctl_using_subcommand logout" -l deadline -d 'Stop the whole run after this many seconds, as Ctrl-C does (deletions in flight finish and are reported); exit 1' -r
complete -c regctl -n "__fish_regctl_using_subcommand logout" -l retries -d 'Retries of idempotent requests on 408, 429, 5xx and connection resets' -r
complete -c regctl -n "__fish_regctl_using_subcommand logout" -l max-list-items -d 'The most repositories (or tags of one repository) a listing may hold: a registry whose pagination never ends is stopped here' -r
complete -c regctl -n "__fish_regctl_using_subcommand logout" -l format -d 'Output format [default: table on a terminal, plain otherwise]' -r -f -a "plain\t'One item per line, for scripts'
table\t'An aligned table, for people'
json\t'One JSON document'"
complete -c regctl -n "__fish_regctl_using_subcommand logout" -l insecure -d 'Do not verify the registry\'s TLS certificate (a warning is printed)'
complete -c regctl -n "__fish_regctl_using_subcommand logout" -l plain-http -d 'Talk plain HTTP instead of HTTPS'
complete -c regctl -n "__fish_regctl_using_subcommand logout" -l password-stdin -d 'Read the password from standard input'
complete -c regctl -n "__fish_regctl_using_subcommand logout" -s v -l verbose -d 'Log each request (method, URL, status, time) to stderr, credentials redacted'
complete -c regctl -n "__fish_regctl_using_subcommand logout" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and not __fish_seen_subcommand_from registry client proxy check help" -l ca-file -d 'Trust this CA certificate (PEM) in addition to the system\'s roots; repeatable' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand setup; and not __fish_seen_subcommand_from registry client proxy check help" -l certs-dir -d 'Docker-style certificate folder: <DIR>/<host:port>/ca.crt, client.cert, client.key' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand setup; and not __fish_seen_subcommand_from registry client proxy check help" -s u -l username -d 'User name; the password is read from standard input (--password-stdin)' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and not __fish_seen_subcommand_from registry client proxy check help" -l concurrency -d 'How many requests may run at once' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and not __fish_seen_subcommand_from registry client proxy check help" -l timeout -d 'Per-request timeout in seconds' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and not __fish_seen_subcommand_from registry client proxy check help" -l deadline -d 'Stop the whole run after this many seconds, as Ctrl-C does (deletions in flight finish and are reported); exit 1' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and not __fish_seen_subcommand_from registry client proxy check help" -l retries -d 'Retries of idempotent requests on 408, 429, 5xx and connection resets' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and not __fish_seen_subcommand_from registry client proxy check help" -l max-list-items -d 'The most repositories (or tags of one repository) a listing may hold: a registry whose pagination never ends is stopped here' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and not __fish_seen_subcommand_from registry client proxy check help" -l format -d 'Output format [default: table on a terminal, plain otherwise]' -r -f -a "plain\t'One item per line, for scripts'
table\t'An aligned table, for people'
json\t'One JSON document'"
complete -c regctl -n "__fish_regctl_using_subcommand setup; and not __fish_seen_subcommand_from registry client proxy check help" -l insecure -d 'Do not verify the registry\'s TLS certificate (a warning is printed)'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and not __fish_seen_subcommand_from registry client proxy check help" -l plain-http -d 'Talk plain HTTP instead of HTTPS'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and not __fish_seen_subcommand_from registry client proxy check help" -l password-stdin -d 'Read the password from standard input'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and not __fish_seen_subcommand_from registry client proxy check help" -s v -l verbose -d 'Log each request (method, URL, status, time) to stderr, credentials redacted'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and not __fish_seen_subcommand_from registry client proxy check help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and not __fish_seen_subcommand_from registry client proxy check help" -f -a "registry" -d 'Write a private registry\'s files into DIR: a CA and a server certificate it signs, htpasswd, config.yml (deletion on), a systemd unit, a README'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and not __fish_seen_subcommand_from registry client proxy check help" -f -a "client" -d 'Install a registry\'s CA where docker, containerd, podman/skopeo and the system store look; print the k3s stanza'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and not __fish_seen_subcommand_from registry client proxy check help" -f -a "proxy" -d 'Print (or write) the systemd drop-ins that give docker and containerd a proxy; NO_PROXY checked as Go reads it'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and not __fish_seen_subcommand_from registry client proxy check help" -f -a "check" -d 'Read an existing set-up (the seed\'s or regctl\'s) and report each trap with its fix; exit 1 when any'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and not __fish_seen_subcommand_from registry client proxy check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l host -d 'A name clients reach the registry by (repeat for each: DNS names and IP addresses); the first names the registry' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l port -d 'The port clients use' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l listen -d 'The address the registry listens on [default: :PORT, every interface]' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l user -d 'The user of the htpasswd file' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l storage -d 'Where the registry keeps images [default: DIR/data]' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l days -d 'The certificates\' lifetime, in days' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l bcrypt-cost -d 'bcrypt\'s cost (Distribution checks it on every request)' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l registry-bin -d 'The registry program the unit runs [default: docker-registry, else registry, as found on PATH]' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l ca-file -d 'Trust this CA certificate (PEM) in addition to the system\'s roots; repeatable' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l certs-dir -d 'Docker-style certificate folder: <DIR>/<host:port>/ca.crt, client.cert, client.key' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -s u -l username -d 'User name; the password is read from standard input (--password-stdin)' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l concurrency -d 'How many requests may run at once' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l timeout -d 'Per-request timeout in seconds' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l deadline -d 'Stop the whole run after this many seconds, as Ctrl-C does (deletions in flight finish and are reported); exit 1' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l retries -d 'Retries of idempotent requests on 408, 429, 5xx and connection resets' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l max-list-items -d 'The most repositories (or tags of one repository) a listing may hold: a registry whose pagination never ends is stopped here' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l format -d 'Output format [default: table on a terminal, plain otherwise]' -r -f -a "plain\t'One item per line, for scripts'
table\t'An aligned table, for people'
json\t'One JSON document'"
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l seed-style -d 'Write the seed\'s single self-signed certificate (CA:TRUE) instead of a CA and a server certificate; rustls and Firefox refuse it'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l force -d 'Replace files that exist'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l insecure -d 'Do not verify the registry\'s TLS certificate (a warning is printed)'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l plain-http -d 'Talk plain HTTP instead of HTTPS'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -l password-stdin -d 'Read the password from standard input'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -s v -l verbose -d 'Log each request (method, URL, status, time) to stderr, credentials redacted'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from registry" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from client" -l ca -d 'The CA certificate to trust (ca.crt of regctl setup registry)' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from client" -l root -d 'Write under this root instead of / (an image build, a test)' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from client" -l ca-file -d 'Trust this CA certificate (PEM) in addition to the system\'s roots; repeatable' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from client" -l certs-dir -d 'Docker-style certificate folder: <DIR>/<host:port>/ca.crt, client.cert, client.key' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from client" -s u -l username -d 'User name; the password is read from standard input (--password-stdin)' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from client" -l concurrency -d 'How many requests may run at once' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from client" -l timeout -d 'Per-request timeout in seconds' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from client" -l deadline -d 'Stop the whole run after this many seconds, as Ctrl-C does (deletions in flight finish and are reported); exit 1' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from client" -l retries -d 'Retries of idempotent requests on 408, 429, 5xx and connection resets' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from client" -l max-list-items -d 'The most repositories (or tags of one repository) a listing may hold: a registry whose pagination never ends is stopped here' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from client" -l format -d 'Output format [default: table on a terminal, plain otherwise]' -r -f -a "plain\t'One item per line, for scripts'
table\t'An aligned table, for people'
json\t'One JSON document'"
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from client" -l print -d 'Show each file and its contents; write nothing'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from client" -l force -d 'Replace files that exist'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from client" -l insecure -d 'Do not verify the registry\'s TLS certificate (a warning is printed)'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from client" -l plain-http -d 'Talk plain HTTP instead of HTTPS'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from client" -l password-stdin -d 'Read the password from standard input'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from client" -s v -l verbose -d 'Log each request (method, URL, status, time) to stderr, credentials redacted'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from client" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from proxy" -l http -d 'HTTP_PROXY: the proxy for plain-HTTP requests' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from proxy" -l https -d 'HTTPS_PROXY: the proxy for HTTPS requests (registries)' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from proxy" -l no-proxy -d 'NO_PROXY: hosts, .domains, addresses and CIDRs reached directly, comma-separated' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from proxy" -l root -d 'With --write: write under this root instead of /' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from proxy" -l ca-file -d 'Trust this CA certificate (PEM) in addition to the system\'s roots; repeatable' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from proxy" -l certs-dir -d 'Docker-style certificate folder: <DIR>/<host:port>/ca.crt, client.cert, client.key' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from proxy" -s u -l username -d 'User name; the password is read from standard input (--password-stdin)' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from proxy" -l concurrency -d 'How many requests may run at once' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from proxy" -l timeout -d 'Per-request timeout in seconds' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from proxy" -l deadline -d 'Stop the whole run after this many seconds, as Ctrl-C does (deletions in flight finish and are reported); exit 1' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from proxy" -l retries -d 'Retries of idempotent requests on 408, 429, 5xx and connection resets' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from proxy" -l max-list-items -d 'The most repositories (or tags of one repository) a listing may hold: a registry whose pagination never ends is stopped here' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from proxy" -l format -d 'Output format [default: table on a terminal, plain otherwise]' -r -f -a "plain\t'One item per line, for scripts'
table\t'An aligned table, for people'
json\t'One JSON document'"
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from proxy" -l write -d 'Write the drop-ins (default: print them)'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from proxy" -l force -d 'With --write: replace files that exist'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from proxy" -l insecure -d 'Do not verify the registry\'s TLS certificate (a warning is printed)'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from proxy" -l plain-http -d 'Talk plain HTTP instead of HTTPS'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from proxy" -l password-stdin -d 'Read the password from standard input'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from proxy" -s v -l verbose -d 'Log each request (method, URL, status, time) to stderr, credentials redacted'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from proxy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from check" -l root -d 'Look for the clients\' trust under this root instead of /' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from check" -l host -d 'A name clients reach the registry by (HOST or HOST:PORT; repeatable): the certificate must name each in its subjectAltName' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from check" -l ca-file -d 'Trust this CA certificate (PEM) in addition to the system\'s roots; repeatable' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from check" -l certs-dir -d 'Docker-style certificate folder: <DIR>/<host:port>/ca.crt, client.cert, client.key' -r -F
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from check" -s u -l username -d 'User name; the password is read from standard input (--password-stdin)' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from check" -l concurrency -d 'How many requests may run at once' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from check" -l timeout -d 'Per-request timeout in seconds' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from check" -l deadline -d 'Stop the whole run after this many seconds, as Ctrl-C does (deletions in flight finish and are reported); exit 1' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from check" -l retries -d 'Retries of idempotent requests on 408, 429, 5xx and connection resets' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from check" -l max-list-items -d 'The most repositories (or tags of one repository) a listing may hold: a registry whose pagination never ends is stopped here' -r
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from check" -l format -d 'Output format [default: table on a terminal, plain otherwise]' -r -f -a "plain\t'One item per line, for scripts'
table\t'An aligned table, for people'
json\t'One JSON document'"
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from check" -l insecure -d 'Do not verify the registry\'s TLS certificate (a warning is printed)'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from check" -l plain-http -d 'Talk plain HTTP instead of HTTPS'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from check" -l password-stdin -d 'Read the password from standard input'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from check" -s v -l verbose -d 'Log each request (method, URL, status, time) to stderr, credentials redacted'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "registry" -d 'Write a private registry\'s files into DIR: a CA and a server certificate it signs, htpasswd, config.yml (deletion on), a systemd unit, a README'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "client" -d 'Install a registry\'s CA where docker, containerd, podman/skopeo and the system store look; print the k3s stanza'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "proxy" -d 'Print (or write) the systemd drop-ins that give docker and containerd a proxy; NO_PROXY checked as Go reads it'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "check" -d 'Read an existing set-up (the seed\'s or regctl\'s) and report each trap with its fix; exit 1 when any'
complete -c regctl -n "__fish_regctl_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c regctl -n "__fish_regctl_using_subcommand help; and not __fish_seen_subcommand_from ls digest rm prune pull-secret inspect du doctor cp tag login logout setup help" -f -a "ls" -d 'List every REGISTRY/REPOSITORY:TAG, sorted'
complete -c regctl -n "__fish_regctl_using_subcommand help; and not __fish_seen_subcommand_from ls digest rm prune pull-secret inspect du doctor cp tag login logout setup help" -f -a "digest" -d 'Print the digest of each reference, in the order given'
complete -c regctl -n "__fish_regctl_using_subcommand help; and not __fish_seen_subcommand_from ls digest rm prune pull-secret inspect du doctor cp tag login logout setup help" -f -a "rm" -d 'Delete manifests by digest, or remove tags without touching the tags that share their manifest'
complete -c regctl -n "__fish_regctl_using_subcommand help; and not __fish_seen_subcommand_from ls digest rm prune pull-secret inspect du doctor cp tag login logout setup help" -f -a "prune" -d 'Delete images by retention rules, decided per image (never a tag whose image stays): keep the newest N, delete older than a duration, match or exclude tag names'
complete -c regctl -n "__fish_regctl_using_subcommand help; and not __fish_seen_subcommand_from ls digest rm prune pull-secret inspect du doctor cp tag login logout setup help" -f -a "pull-secret" -d 'Print a Kubernetes pull secret (kubernetes.io/dockerconfigjson) built from the credential stored for a registry'
complete -c regctl -n "__fish_regctl_using_subcommand help; and not __fish_seen_subcommand_from ls digest rm prune pull-secret inspect du doctor cp tag login logout setup help" -f -a "inspect" -d 'Show what each manifest is: platforms, config, layers with sizes, attachments'
complete -c regctl -n "__fish_regctl_using_subcommand help; and not __fish_seen_subcommand_from ls digest rm prune pull-secret inspect du doctor cp tag login logout setup help" -f -a "du" -d 'Show the space images take, per repository or per image, as the registry\'s API sees it'
complete -c regctl -n "__fish_regctl_using_subcommand help; and not __fish_seen_subcommand_from ls digest rm prune pull-secret inspect du doctor cp tag login logout setup help" -f -a "doctor" -d 'Diagnose a registry: name, TCP, TLS and its trust source, the API, proxy, auth, credentials, catalog, deletion, referrers, paging'
complete -c regctl -n "__fish_regctl_using_subcommand help; and not __fish_seen_subcommand_from ls digest rm prune pull-secret inspect du doctor cp tag login logout setup help" -f -a "cp" -d 'Copy images between registries and to or from OCI layout folders, keeping digests, signatures and SBOMs'
complete -c regctl -n "__fish_regctl_using_subcommand help; and not __fish_seen_subcommand_from ls digest rm prune pull-secret inspect du doctor cp tag login logout setup help" -f -a "tag" -d 'Add tags to a manifest that is there: one manifest PUT each, no blob moves'
complete -c regctl -n "__fish_regctl_using_subcommand help; and not __fish_seen_subcommand_from ls digest rm prune pull-secret inspect du doctor cp tag login logout setup help" -f -a "login" -d 'Check credentials against a registry, then store them where docker looks (or in the OS keyring)'
complete -c regctl -n "__fish_regctl_using_subcommand help; and not __fish_seen_subcommand_from ls digest rm prune pull-secret inspect du doctor cp tag login logout setup help" -f -a "logout" -d 'Erase the credential stored for a registry (helper, OS keyring, docker\'s config)'
complete -c regctl -n "__fish_regctl_using_subcommand help; and not __fish_seen_subcommand_from ls digest rm prune pull-secret inspect du doctor cp tag login logout setup help" -f -a "setup" -d 'Write what a private registry needs (certificates, htpasswd, config, unit), install client trust and proxy drop-ins, or check a set-up'
complete -c regctl -n "__fish_regctl_using_subcommand help; and not __fish_seen_subcommand_from ls digest rm prune pull-secret inspect du doctor cp tag login logout setup help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c regctl -n "__fish_regctl_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "registry" -d 'Write a private registry\'s files into DIR: a CA and a server certificate it signs, htpasswd, config.yml (deletion on), a systemd unit, a README'
complete -c regctl -n "__fish_regctl_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "client" -d 'Install a registry\'s CA where docker, containerd, podman/skopeo and the system store look; print the k3s stanza'
complete -c regctl -n "__fish_regctl_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "proxy" -d 'Print (or write) the systemd drop-ins that give docker and containerd a proxy; NO_PROXY checked as Go reads it'
complete -c regctl -n "__fish_regctl_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "check" -d 'Read an existing set-up (the seed\'s or regctl\'s) and report each trap with its fix; exit 1 when any'
