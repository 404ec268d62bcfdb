# Shared by the benchmark scripts: installs what they need, builds regctl, makes a
# work folder, a certificate, an htpasswd file and a token server, and gives the
# helpers that start registries and measure. Source it from the repository root
# with PY set.
need=()
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v wrk >/dev/null || need+=(wrk)
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v skopeo >/dev/null || need+=(skopeo)
command -v htpasswd >/dev/null || need+=(apache2-utils)
command -v curl >/dev/null || need+=(curl)
command -v openssl >/dev/null || need+=(openssl)
[ -x /usr/bin/time ] || need+=(time)
[ -x "$PY" ] && "$PY" -c 'import requests, jwt, cryptography' 2>/dev/null \
  || need+=(python3 python3-requests python3-jwt python3-cryptography)
if [ "${#need[@]}" -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "installing: ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy

log() { echo "bench: $*" >&2; }
log "building regctl (release)"
cargo build --release --quiet
regctl="$root/target/release/regctl"

work=$(mktemp -d /tmp/regctl-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A port below the kernel's ephemeral range: one there may be held by a closing
# connection of an earlier run, and a server could not bind it.
free_port() {
  local p low hi
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
  hi=$(( low > 21000 ? low - 1 : 60000 ))
  while :; do
    p=$(shuf -i "20000-$hi" -n 1)
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }

user=benchuser password=benchpassword
openssl req -newkey rsa:2048 -nodes -keyout "$work/key.pem" -x509 -days 30 -out "$work/cert.pem" \
  -subj "/CN=localhost" -addext "subjectAltName = IP:127.0.0.1,DNS:localhost" 2>/dev/null
htpasswd -Bbn "$user" "$password" > "$work/htpasswd"

fixture() { # dir repos tags images
  log "writing a fixture of $2 repositories x $3 tags"
  mkdir -p "$1"
  "$PY" bench/fixture.py "$1" "$2" "$3" "$4" >/dev/null
}

start_registry() { # name storage auth-yaml -> sets port_<name>
  local port; port=$(free_port)
  cat > "$work/$1.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $2
  cache:
    blobdescriptor: inmemory
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  tls:
    certificate: $work/cert.pem
    key: $work/key.pem
$3
YAML
  docker-registry serve "$work/$1.yml" >"$work/$1.log" 2>&1 &
  pids+=($!)
  wait_port "$port"
  eval "port_$1=$port pid_$1=$!"
}

token_port=$(free_port)
"$PY" bench/token_server.py "$token_port" "$work/cert.pem" "$work/key.pem" "$user" "$password" &
pids+=($!)
wait_port "$token_port"
realm="https://127.0.0.1:$token_port/token"

# CPU seconds a process has used so far (user + system)
tick=$(getconf CLK_TCK)
cpu_of() { awk -v t="$tick" '{printf "%.3f", ($14 + $15) / t}' "/proc/$1/stat"; }

# median of a list of numbers
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# measure_once NAME cmd...: runs cmd once (output in out.NAME, errors in
# err.NAME) and appends "wall-s peak-RSS-KiB client-CPU-s server-CPU-s" to
# m.NAME (server CPU with SERVER_PID set, else 0)
measure_once() {
  local name=$1; shift
  local before=0 after=0
  [ -n "${SERVER_PID:-}" ] && before=$(cpu_of "$SERVER_PID")
  "$PY" bench/timed.py "$work/out.$name" "$work/err.$name" "$@" > "$work/t" \
    || { echo "$name failed:" >&2; tail -5 "$work/err.$name" >&2; exit 1; }
  [ -n "${SERVER_PID:-}" ] && after=$(cpu_of "$SERVER_PID")
  awk -v b="$before" -v a="$after" '{print $1, $2, $3, a - b}' "$work/t" >> "$work/m.$name"
}

# medians NAME: from m.NAME, sets wall_NAME, rss_NAME, ccpu_NAME, scpu_NAME (medians)
# and lines_NAME (lines of the last output)
medians() {
  local name=$1
  eval "wall_$name=$(cut -d' ' -f1 "$work/m.$name" | median)"
  eval "rss_$name=$(cut -d' ' -f2 "$work/m.$name" | median)"
  eval "ccpu_$name=$(cut -d' ' -f3 "$work/m.$name" | median)"
  eval "scpu_$name=$(cut -d' ' -f4 "$work/m.$name" | median)"
  eval "lines_$name=$(wc -l < "$work/out.$name")"
}

# measure NAME RUNS cmd...: wall seconds, peak RSS (KiB), client CPU seconds and,
# with SERVER_PID set, the server's CPU seconds: medians over RUNS runs
measure() {
  local name=$1 runs=$2; shift 2
  : > "$work/m.$name"
  for _ in $(seq "$runs"); do measure_once "$name" "$@"; done
  medians "$name"
}

# wrk_start NAME AUTH-LUA: the wrk script for NAME (requests.lua after AUTH-LUA)
# and empty result lists
wrk_start() {
  { printf '%s\n' "$2"; cat bench/requests.lua; } > "$work/$1.lua"
  : > "$work/r.$1"
  : > "$work/c.$1"
  : > "$work/w.$1"
}

# wrk_once NAME REQUEST-FILE URL CONNECTIONS SECONDS: one wrk -t2 run replaying
# the mix; appends its rate (requests/s), the server's CPU ms per request
# (SERVER_PID) and wrk's own CPU µs per request to NAME's lists
wrk_once() {
  local name=$1 list=$2 url=$3 connections=$4 seconds=$5 before after n
  before=$(cpu_of "$SERVER_PID")
  /usr/bin/time -f "%U %S" -o "$work/wt.$name" \
    wrk -t2 -c"$connections" -d"${seconds}s" -s "$work/$name.lua" "$url" -- "$list" > "$work/wrk.$name"
  after=$(cpu_of "$SERVER_PID")
  if grep -q "Non-2xx" "$work/wrk.$name"; then
    echo "wrk $name: errors" >&2; cat "$work/wrk.$name" >&2
    # WRK_TOLERATE: a few errors are reported, not fatal (their rate is still the server's).
    [ -n "${WRK_TOLERATE:-}" ] || exit 1
  fi
  awk '/Requests\/sec/ {print $2}' "$work/wrk.$name" >> "$work/r.$name"
  awk -v b="$before" -v a="$after" '/requests in/ {printf "%.3f\n", (a - b) * 1000 / $1}' "$work/wrk.$name" >> "$work/c.$name"
  n=$(awk '/requests in/ {print $1}' "$work/wrk.$name")
  awk -v n="$n" '{printf "%.2f\n", ($1 + $2) * 1e6 / n}' "$work/wt.$name" >> "$work/w.$name"
}

# wrk_medians NAME: sets rate_NAME (median requests/s), cpureq_NAME (the server's
# CPU ms per request) and wrkcpu_NAME (wrk's own CPU µs per request)
wrk_medians() {
  eval "rate_$1=$(median < "$work/r.$1")"
  eval "cpureq_$1=$(median < "$work/c.$1")"
  eval "wrkcpu_$1=$(median < "$work/w.$1")"
}

# wrk_rate NAME AUTH-LUA REQUEST-FILE URL [CONNECTIONS=64] [SECONDS=8]: wrk -t2
# replaying the mix 3 times; sets what wrk_medians sets
wrk_rate() {
  wrk_start "$1" "$2"
  for _ in 1 2 3; do wrk_once "$1" "$3" "$4" "${5:-64}" "${6:-8}"; done
  wrk_medians "$1"
}

# request_lists LS-DIGESTS-OUTPUT: from `regctl ls --digests` lines, what it asks
# of the registry, as wrk request files: repo_tags (repo:tag), repos, list.ls (a
# tag list per repository) and list.lsd (and a manifest GET per tag). wrk cannot
# issue HEAD (it waits for a body that never comes); registries run the same
# handler for GET and HEAD of a manifest and drop the body for HEAD, so GET
# measures the same server work plus a few hundred bytes on loopback.
request_lists() {
  sed 's/ .*//; s#^[^/]*/##' "$1" > "$work/repo_tags"
  sed -E 's#:[^:]+$##' "$work/repo_tags" | sort -u > "$work/repos"
  awk '{print "GET /v2/" $1 "/tags/list " $1}' "$work/repos" > "$work/list.ls"
  { cat "$work/list.ls"; awk -F: '{print "GET /v2/" $1 "/manifests/" $2 " " $1}' "$work/repo_tags"; } > "$work/list.lsd"
}

# request_count N_REPOS N_TAGS: what `ls --digests` sends: the ping, the catalog pages
# (1,000 names each), a tag list per repository and a manifest per tag
request_count() { echo $(( 1 + ($1 + 999) / 1000 + $1 + $2 )); }

# curl_once NAME TOKENS-LUA REQUEST-FILE PORT: each request once, 64 at a time, by
# one curl process (--parallel, connections reused): for requests that change the
# registry (DELETE) and cannot be repeated as wrk repeats its mix. Sets
# once_rate_NAME (requests per second) and once_cpureq_NAME.
curl_once() {
  local name=$1 tokens=$2 list=$3 port=$4
  awk -v port="$port" -v ca="$work/cert.pem" '
    FNR == NR { if (match($0, /^tokens\["[^"]+"\] = "[^"]+"/)) { split($0, p, "\""); token[p[2]] = p[4] }; next }
    { if (n++) print "next"
      printf "url = \"https://127.0.0.1:%s%s\"\nrequest = \"%s\"\n", port, $2, $1
      printf "header = \"Authorization: Bearer %s\"\ncacert = \"%s\"\noutput = \"/dev/null\"\nwrite-out = \"%%{http_code}\\n\"\n", token[$3], ca }
  ' "$tokens" "$list" > "$work/$name.curl"
  local before after n
  n=$(wc -l < "$list")
  before=$(cpu_of "$SERVER_PID")
  /usr/bin/time -f "%e" -o "$work/t.$name" curl -s --no-progress-meter --parallel --parallel-max 64 -K "$work/$name.curl" > "$work/codes.$name"
  after=$(cpu_of "$SERVER_PID")
  local bad; bad=$(grep -vc '^2' "$work/codes.$name" || true)
  if [ "$bad" -ne 0 ] || [ "$(wc -l < "$work/codes.$name")" -ne "$n" ]; then
    echo "curl $name: $bad failed" >&2; sort "$work/codes.$name" | uniq -c >&2; exit 1
  fi
  eval "once_rate_$name=$(awk -v n="$n" '{printf "%.2f", n / $1}' "$work/t.$name")"
  eval "once_cpureq_$name=$(awk -v n="$n" -v b="$before" -v a="$after" 'BEGIN {printf "%.3f", (a - b) * 1000 / n}')"
}

# build_base REV: regctl built at git revision REV (release), in its own target
# folder; sets bin_base
build_base() {
  log "building regctl at $1 (release)"
  git worktree add --quiet --detach "$work/base-src" "$1"
  (cd "$work/base-src" && CARGO_TARGET_DIR="$root/target/bench-base" cargo build --release --quiet)
  git worktree remove --force "$work/base-src"
  bin_base="$root/target/bench-base/release/regctl"
}
