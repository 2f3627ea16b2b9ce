// A client for the OCI distribution API (the registry HTTP API v2): what `isolab pull` uses.
//
// Transport: libcurl (Debian's libcurl4, OpenSSL flavour), loaded with dlopen on first use, like
// libnftables in sim/net/firewall.cpp: `isolab` is a static executable and Debian ships no static
// libcurl that links without Kerberos and LDAP archives. Two consequences, both handled here:
//   * glibc's dlopen in a static executable gives the library its own libc, whose pthread_create
//     crashes (measured: curl's threaded resolver, and OpenSSL's context set-up on a second
//     thread). So every transfer runs on the CALLING thread (concurrent layer downloads use one
//     curl multi handle, not threads), and host names are resolved here with getaddrinfo and
//     handed to curl (CURLOPT_RESOLVE), so curl never starts its resolver thread. The CLI calls
//     from its main thread; the GUI and the tests are dynamic executables, where any thread works.
//   * Redirects (a registry sends blobs to a CDN) are followed here, for the same resolving.
//
// Rules (Docker's):
//   * HTTPS with the system CA store (libcurl's default bundle, /etc/ssl/certs/ca-certificates.crt).
//     Plain HTTP only for localhost, 127.0.0.0/8 and ::1, and for registries listed under
//     `insecure-registries`; for those HTTPS is tried first and HTTP used when TLS fails.
//   * docker.io is served by registry-1.docker.io; `registry-mirrors` are tried first for it.
//   * Proxies come from the environment (https_proxy, http_proxy, no_proxy: libcurl reads them).
//   * Authentication: anonymous, then on 401 the challenge in WWW-Authenticate: Bearer (ask the
//     realm for a token for `repository:<path>:pull`, with the Basic credentials if given) or
//     Basic (the credentials).
//
// Settings: `insecure-registries` and `registry-mirrors` in daemon.json (Docker's file and keys)
// under IsoLab's config folder: $XDG_CONFIG_HOME/isolab/daemon.json, else ~/.config/isolab/.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/result.hpp"
#include "sim/engine/reference.hpp"

namespace isolab {

struct RegistrySettings {
    std::vector<std::string> insecure_registries;  // "host:port" or "10.0.0.0/8"-style CIDRs
    std::vector<std::string> registry_mirrors;     // "https://mirror.example.com"
    std::string ca_file;                           // extra CA bundle ("" = the system's); tests use it
};

// $XDG_CONFIG_HOME/isolab/daemon.json or ~/.config/isolab/daemon.json; defaults when absent; an
// error naming the file when it is not JSON or a key has the wrong type.
Result<RegistrySettings> load_registry_settings();
std::string registry_settings_path();

struct RegistryCredentials {
    std::string username;
    std::string password;
};

// IsoLab's config folder: $XDG_CONFIG_HOME/isolab, else ~/.config/isolab. It holds daemon.json,
// config.json (Docker's credential file format: {"auths": {"HOST:PORT": {"auth": base64("u:p")}}},
// read here, written by `isolab login`: credential_store.hpp) and certs.d/HOST:PORT/ca.crt (a private registry's CA).
std::string isolab_config_dir();
// The credentials config.json holds for DOMAIN ("docker.io": Docker's `https://index.docker.io/v1/`
// key); none when there are none.
Result<RegistryCredentials> load_registry_credentials(const std::string& domain);

// The end of the error for a registry that cannot be reached (no route, no such host); a front
// end may put it in the learner's language.
inline constexpr const char* kRegistryOfflineHint =
    "IsoLab works offline with `busybox`, `isolab build` and `isolab load`";

// Media types the client asks for and understands.
inline constexpr const char* kOciManifestType = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kOciIndexType = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kDockerManifestType = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* kDockerManifestListType = "application/vnd.docker.distribution.manifest.list.v2+json";

struct FetchedManifest {
    std::string media_type;
    std::string bytes;   // exactly as served (the digest is of these)
    std::string digest;  // "sha256:<hex>" of BYTES, checked against the request's digest if any
};

// One blob download (a layer or a config).
struct BlobRequest {
    std::string digest;  // "sha256:<hex>"
    int64_t size = -1;   // from the descriptor; more bytes than this are refused
    std::string dest;    // file to write (created 0600); complete and verified, or removed.
                         // The bytes arrive in DEST.part.<pid> and are renamed once verified.
};

// Progress of one blob, reported on the calling thread.
struct BlobProgress {
    size_t index = 0;  // into the request list
    enum class Phase { Waiting, Downloading, Verifying, Done } phase = Phase::Waiting;
    int64_t current = 0;
    int64_t total = 0;
};

struct Platform {
    std::string os = "linux";
    std::string architecture;  // "" = this machine's
    std::string variant;
};
// "linux/amd64", "linux/arm64/v8", "amd64"; an error in Docker's words otherwise.
Result<Platform> parse_platform(const std::string& text);

class RegistryClient {
public:
    RegistryClient(ImageReference ref, RegistrySettings settings, RegistryCredentials credentials = {});
    ~RegistryClient();
    RegistryClient(const RegistryClient&) = delete;
    RegistryClient& operator=(const RegistryClient&) = delete;

    // GET /v2/<path>/manifests/<reference> with the Accept header for the four types. A digest
    // reference must match the bytes. Errors: "manifest unknown" (404), Docker's "unauthorized"
    // wording (401 after authenticating), the offline line (no route, no such host).
    Result<FetchedManifest> manifest(const std::string& reference);
    // From an index or manifest list, the entry for PLATFORM (exact variant when given, else the
    // first with the architecture). Returns its digest.
    static Result<std::string> choose_platform(const FetchedManifest& index, const Platform& platform);
    // Downloads BLOBS, MAX_PARALLEL at a time, each to its dest with size and sha256 checked;
    // a blob whose dest already exists is not fetched again (the caller owns dest naming). The
    // bytes an interrupted pull left (`dest.part.<pid>` of a process that is gone) are kept and
    // the rest is asked for with `Range: bytes=N-` (a server that ignores it sends everything).
    Status fetch_blobs(const std::vector<BlobRequest>& blobs, int max_parallel,
                       const std::function<void(const BlobProgress&)>& progress);
    // GET /v2/<path>/tags/list, following `Link: <…>; rel="next"` pages (`pull -a`).
    Result<std::vector<std::string>> tags();
    // GET /v2/: reachability and authentication, for errors that name the registry.
    Status ping();

    // ---- push (`isolab push`, push.hpp). Every call runs on the calling thread.
    // From now on tokens are asked for `repository:<path>:pull,push` (Docker's push scope); call
    // before the first request.
    void request_push_access();
    // HEAD /v2/<path>/blobs/<digest>: the blob's size when this repository has it (-1 when the
    // registry redirects and does not say), nothing when it has not (404).
    Result<std::optional<int64_t>> blob_size(const std::string& digest);
    // POST /v2/<path>/blobs/uploads/, with `?mount=MOUNT_DIGEST&from=FROM_PATH` when given (a
    // cross-repository mount; `repository:FROM_PATH:pull` is added to the token scope). True:
    // the registry mounted the blob (201). False: it opened an upload session instead (202), which
    // the next upload_blob uses.
    Result<bool> start_blob_upload(const std::string& mount_digest = "", const std::string& from_path = "");
    // Uploads the SIZE bytes of FILE, whose sha256 is DIGEST, through the open session (one is
    // opened when there is none): PATCH with the bytes, then PUT `?digest=DIGEST` (Docker's
    // sequence). PROGRESS(bytes sent so far) is called as the bytes go.
    Status upload_blob(const std::string& file, const std::string& digest, int64_t size,
                       const std::function<void(int64_t)>& progress);
    // PUT /v2/<path>/manifests/<tag> with Content-Type MEDIA_TYPE. Returns the digest the registry
    // answers in Docker-Content-Digest ("" when it sends none).
    Result<std::string> put_manifest(const std::string& tag, const std::string& media_type, const std::string& bytes);

    struct Impl;

private:
    Impl* impl_;
};

// ---- login and search (`isolab login`, `isolab search`) -----------------------------------------

// What `docker login` asks of a registry (moby's loginV2): GET /v2/ anonymously; on a Basic
// challenge the same request with CREDS; on a Bearer challenge a token from the realm (GET with
// `account`, `client_id=docker`, `offline_token=true`, the service, no scope, and CREDS as Basic
// auth), then GET /v2/ with the token. Returns Docker's "Login Succeeded". DOMAIN is a host[:port]
// or "docker.io" (served by registry-1.docker.io; registry-mirrors are not used, as Docker does not
// log in to a mirror). Errors in Docker's words, exit code 1:
//   "login attempt to http://HOST/v2/ failed with status: 401 Unauthorized" (not accepted),
//   "Get \"https://HOST/v2/\": unauthorized: incorrect username or password" (the token server
//   refused), the transport errors pull gives (offline: kRegistryOfflineHint at the end).
// Refresh tokens (Docker's identity tokens) are not asked for: the caller stores the password.
Result<std::string> registry_login(const std::string& domain, RegistrySettings settings,
                                   const RegistryCredentials& creds);

// A search term split as Docker's splitReposSearchTerm: "busybox", "library/busybox" and
// "user/app" search Docker Hub; "localhost:5000/app" or "reg.example.com/app" (a first part with a
// '.' or ':' or "localhost") search that registry for the rest. Docker Hub's "library/" is dropped.
struct SearchTerm {
    std::string domain;  // "docker.io" or host[:port]
    std::string query;   // what is sent as q=
};
// Error (Docker's daemon words, exit 1): a term with a scheme ("http://x").
Result<SearchTerm> parse_search_term(const std::string& term);

// One result of the v1 search API (moby's registry.SearchResult).
struct SearchResult {
    std::string name;
    std::string description;
    int64_t star_count = 0;
    bool is_official = false;
    bool is_automated = false;
};

// GET <index>/v1/search?q=QUERY&n=LIMIT (Docker's searchRepositories) with `X-Docker-Token: true`
// and CREDS as Basic auth when given. Docker Hub's index is https://index.docker.io/v1/ (never a
// mirror, as Docker); another registry's is https://HOST/v1/, or http:// for a registry that may
// use plain HTTP (registry.hpp's rules) when HTTPS fails. LIMIT must be 1..100 (the caller maps
// Docker's 0 to 25). Errors: "Unexpected status code 404" (a registry without the v1 search API,
// as Debian's docker-registry), "error decoding search results: ...", the transport errors.
//
// TEST ONLY: the environment variable ISOLAB_TEST_INDEX_URL ("http://127.0.0.1:PORT/v1/") replaces
// Docker Hub's index URL, so that tests can answer Docker Hub's searches from 127.0.0.1. It is
// honoured only for a loopback address (127.0.0.0/8, ::1, localhost) and is not a setting for
// users: Docker has none (its registry-mirrors are not used for search either).
Result<std::vector<SearchResult>> registry_search(const SearchTerm& term, int limit, RegistrySettings settings,
                                                  const RegistryCredentials& creds);

// ---- a file from a URL (the Dockerfile's `ADD https://…`) ------------------------------------------

struct UrlDownload {
    std::string url;            // where the bytes came from, after redirects
    std::string sha256;         // hex of the bytes
    int64_t size = 0;
    std::string last_modified;  // the Last-Modified header ("" when none)
    std::string disposition_filename;  // Content-Disposition's filename= ("" when none)
};

// GET URL (http or https, any host: Docker's builder downloads from anywhere) into DEST, created
// 0600 with O_EXCL, following up to five redirects, at most MAX_BYTES (more is refused, not cut).
// HTTPS is checked against the system CA store; proxies come from the environment. A status other
// than 200 is moby's "failed to GET URL with status 404 Not Found: BODY"; an unreachable host ends
// with kRegistryOfflineHint. DEST is removed on any error.
Result<UrlDownload> download_url(const std::string& url, const std::string& dest, int64_t max_bytes);

// True when libcurl.so.4 can be loaded (for `doctor`-style messages and test skips).
bool registry_transport_available();

}  // namespace isolab
