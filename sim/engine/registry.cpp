#include "sim/engine/registry.hpp"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include <nlohmann/json.hpp>

#include "sim/core/files.hpp"
#include "sim/core/strings.hpp"
#include "sim/engine/image_archive.hpp"
#include "sim/engine/layer_archive.hpp"

namespace isolab {

using nlohmann::json;

namespace {

// Manifests and token answers are read into memory; nothing legitimate comes near this.
constexpr size_t kMaxSmallBody = 8 << 20;
constexpr int kMaxRedirects = 5;
constexpr const char* kOfflineHint = kRegistryOfflineHint;

// ---- libcurl through dlopen (see registry.hpp for why) -----------------------------------------

struct CurlLib {
    CURLcode (*global_init)(long) = nullptr;
    CURL* (*easy_init)() = nullptr;
    void (*easy_cleanup)(CURL*) = nullptr;
    CURLcode (*easy_setopt)(CURL*, CURLoption, ...) = nullptr;
    CURLcode (*easy_perform)(CURL*) = nullptr;
    CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...) = nullptr;
    const char* (*easy_strerror)(CURLcode) = nullptr;
    curl_slist* (*slist_append)(curl_slist*, const char*) = nullptr;
    void (*slist_free_all)(curl_slist*) = nullptr;
    CURLM* (*multi_init)() = nullptr;
    CURLMcode (*multi_add_handle)(CURLM*, CURL*) = nullptr;
    CURLMcode (*multi_remove_handle)(CURLM*, CURL*) = nullptr;
    CURLMcode (*multi_perform)(CURLM*, int*) = nullptr;
    CURLMcode (*multi_poll)(CURLM*, curl_waitfd*, unsigned, int, int*) = nullptr;
    CURLMsg* (*multi_info_read)(CURLM*, int*) = nullptr;
    CURLMcode (*multi_cleanup)(CURLM*) = nullptr;

    // nullptr when libcurl.so.4 is not installed or lacks a symbol. Loaded once, kept for the life
    // of the process; curl_global_init runs once here, on the first caller's thread.
    static const CurlLib* get() {
        static std::once_flag once;
        static CurlLib* lib = nullptr;
        std::call_once(once, [] {
            void* h = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
            if (!h) return;
            auto* l = new CurlLib;
            bool ok = sym(h, l->global_init, "curl_global_init") && sym(h, l->easy_init, "curl_easy_init") &&
                      sym(h, l->easy_cleanup, "curl_easy_cleanup") && sym(h, l->easy_setopt, "curl_easy_setopt") &&
                      sym(h, l->easy_perform, "curl_easy_perform") && sym(h, l->easy_getinfo, "curl_easy_getinfo") &&
                      sym(h, l->easy_strerror, "curl_easy_strerror") && sym(h, l->slist_append, "curl_slist_append") &&
                      sym(h, l->slist_free_all, "curl_slist_free_all") && sym(h, l->multi_init, "curl_multi_init") &&
                      sym(h, l->multi_add_handle, "curl_multi_add_handle") &&
                      sym(h, l->multi_remove_handle, "curl_multi_remove_handle") &&
                      sym(h, l->multi_perform, "curl_multi_perform") && sym(h, l->multi_poll, "curl_multi_poll") &&
                      sym(h, l->multi_info_read, "curl_multi_info_read") &&
                      sym(h, l->multi_cleanup, "curl_multi_cleanup");
            if (ok && l->global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK) {
                lib = l;
            } else {
                delete l;
                ::dlclose(h);
            }
        });
        return lib;
    }

private:
    template <typename F>
    static bool sym(void* h, F& f, const char* name) {
        f = reinterpret_cast<F>(::dlsym(h, name));
        return f != nullptr;
    }
};

Result<const CurlLib*> curl_lib() {
    const CurlLib* c = CurlLib::get();
    if (!c) return make_error("cannot load libcurl.so.4 (install Debian's libcurl4 package)");
    return c;
}

std::string lower(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

struct Url {
    std::string scheme, host, port, rest;  // host without brackets; rest starts with '/'
};

Url parse_url(const std::string& url) {
    Url u;
    size_t p = url.find("://");
    u.scheme = p == std::string::npos ? "https" : url.substr(0, p);
    size_t start = p == std::string::npos ? 0 : p + 3;
    size_t slash = url.find('/', start);
    std::string authority = url.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    u.rest = slash == std::string::npos ? "/" : url.substr(slash);
    if (!authority.empty() && authority.front() == '[') {
        size_t close = authority.find(']');
        u.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size() && authority[close + 1] == ':') u.port = authority.substr(close + 2);
    } else {
        size_t colon = authority.rfind(':');
        u.host = colon == std::string::npos ? authority : authority.substr(0, colon);
        if (colon != std::string::npos) u.port = authority.substr(colon + 1);
    }
    if (u.port.empty()) u.port = u.scheme == "http" ? "80" : "443";
    return u;
}

bool is_ip_literal(const std::string& host) {
    unsigned char buf[16];
    return ::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// Docker's rule for plain HTTP: loopback names and addresses.
bool is_loopback_host(const std::string& host) {
    if (host == "localhost" || host == "::1") return true;
    return host.rfind("127.", 0) == 0 && is_ip_literal(host);
}

// The "host:port:addr,addr" line for CURLOPT_RESOLVE, or the offline error naming HOST.
Result<std::string> resolve_line(const std::string& host, const std::string& port, const std::string& url) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0 || !res)
        return make_error("Get \"" + url + "\": cannot reach registry " + host + " (" +
                              (rc == EAI_NONAME || rc == EAI_NODATA ? std::string("no such host") : ::gai_strerror(rc)) +
                              "). " + kOfflineHint,
                          1);
    std::string addrs;
    for (addrinfo* a = res; a; a = a->ai_next) {
        char text[INET6_ADDRSTRLEN] = {};
        const void* src = a->ai_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
                                                  : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
        if (!::inet_ntop(a->ai_family, src, text, sizeof text)) continue;
        std::string t = a->ai_family == AF_INET6 ? "[" + std::string(text) + "]" : text;
        if (addrs.find(t) != std::string::npos) continue;
        addrs += (addrs.empty() ? "" : ",") + t;
    }
    ::freeaddrinfo(res);
    return host + ":" + port + ":" + addrs;
}

// The proxy curl will use for URL's scheme (libcurl reads the same variables); "" when none.
std::string env_proxy(const std::string& scheme) {
    for (const char* name : {scheme == "https" ? "https_proxy" : "http_proxy", scheme == "https" ? "HTTPS_PROXY" : "",
                             "all_proxy", "ALL_PROXY"}) {
        if (!*name) continue;
        if (const char* v = std::getenv(name); v && *v) return v;
    }
    return "";
}

// A registry's error body ({"errors":[{"code":"UNAUTHORIZED","message":"..."}]}) in Docker's
// words: "unauthorized: authentication required"; "" when BODY is not one.
std::string registry_error_text(const std::string& body) {
    auto j = json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains("errors") || !j["errors"].is_array()) return "";
    std::string out;
    for (const auto& e : j["errors"]) {
        if (!e.is_object()) continue;
        std::string code = lower(e.value("code", std::string("unknown")));
        std::replace(code.begin(), code.end(), '_', ' ');
        std::string msg = e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
        out += (out.empty() ? "" : ", ") + code + (msg.empty() ? "" : ": " + msg);
    }
    return out;
}

// WWW-Authenticate: `Bearer realm="…",service="…",scope="…"` → scheme and parameters.
struct Challenge {
    std::string scheme;
    std::map<std::string, std::string> params;
};
Challenge parse_challenge(const std::string& header) {
    Challenge c;
    std::string h = trim(header);
    size_t sp = h.find(' ');
    c.scheme = lower(h.substr(0, sp));
    if (sp == std::string::npos) return c;
    std::string rest = h.substr(sp + 1);
    size_t i = 0;
    while (i < rest.size()) {
        while (i < rest.size() && (rest[i] == ' ' || rest[i] == ',')) ++i;
        size_t eq = rest.find('=', i);
        if (eq == std::string::npos) break;
        std::string key = lower(trim(rest.substr(i, eq - i)));
        i = eq + 1;
        std::string value;
        if (i < rest.size() && rest[i] == '"') {
            ++i;
            while (i < rest.size() && rest[i] != '"') {
                if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
                value += rest[i++];
            }
            ++i;
        } else {
            size_t end = rest.find(',', i);
            value = trim(rest.substr(i, end == std::string::npos ? std::string::npos : end - i));
            i = end == std::string::npos ? rest.size() : end;
        }
        c.params[key] = value;
    }
    return c;
}

std::string url_escape(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char ch : s) {
        if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            out += static_cast<char>(ch);
        } else {
            out += '%';
            out += hex[ch >> 4];
            out += hex[ch & 15];
        }
    }
    return out;
}

std::string base64(const std::string& in) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
        out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
    }
    if (i + 1 == in.size()) {
        unsigned v = (unsigned char)in[i] << 16;
        out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
    } else if (i + 2 == in.size()) {
        unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
        out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
    }
    return out;
}

std::string base64_decode(const std::string& in) {
    auto value = [](char ch) -> int {
        if (ch >= 'A' && ch <= 'Z') return ch - 'A';
        if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
        if (ch >= '0' && ch <= '9') return ch - '0' + 52;
        if (ch == '+' || ch == '-') return 62;
        if (ch == '/' || ch == '_') return 63;
        return -1;
    };
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    for (char ch : in) {
        int v = value(ch);
        if (v < 0) continue;  // '=' padding, white space
        acc = (acc << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    return out;
}

bool is_sha256_digest(const std::string& d) {
    if (d.size() != 71 || d.rfind("sha256:", 0) != 0) return false;
    return std::all_of(d.begin() + 7, d.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// ---- one transfer ----------------------------------------------------------------------------

// Where a response body goes: memory (bounded) or a file with a running sha256 (bounded by the
// descriptor's size, so a registry that lies about a size cannot fill the disk).
struct Transfer {
    const CurlLib* curl = nullptr;
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    curl_slist* resolve = nullptr;
    char errbuf[CURL_ERROR_SIZE] = {};
    std::string url;
    long status = 0;
    std::map<std::string, std::string> response_headers;  // lower-case names, last value wins
    std::string body;
    size_t body_limit = kMaxSmallBody;
    int fd = -1;                 // file sink when >= 0
    int64_t file_limit = -1;     // bytes allowed into FD (-1: unbounded)
    int64_t written = 0;
    int64_t resume_from = 0;     // bytes already in FD from an earlier, interrupted pull (Range)
    bool over_limit = false;
    bool write_failed = false;
    std::unique_ptr<Sha256Stream> hash;

    ~Transfer() {
        if (easy) curl->easy_cleanup(easy);
        if (headers) curl->slist_free_all(headers);
        if (resolve) curl->slist_free_all(resolve);
    }

    bool is_success_body() const { return status >= 200 && status < 300; }

    static size_t on_header(char* data, size_t size, size_t n, void* self) {
        auto* t = static_cast<Transfer*>(self);
        std::string line(data, size * n);
        if (line.rfind("HTTP/", 0) == 0) t->response_headers.clear();  // a new response (after 100, proxies)
        size_t colon = line.find(':');
        if (colon != std::string::npos) t->response_headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
        return size * n;
    }

    static size_t on_body(char* data, size_t size, size_t n, void* self) {
        auto* t = static_cast<Transfer*>(self);
        size_t len = size * n;
        long code = 0;
        t->curl->easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
        // Only a 2xx body goes to the file; error and redirect bodies stay in memory (small).
        if (t->fd >= 0 && code >= 200 && code < 300) {
            if (t->resume_from > 0 && code == 200) {
                // The server ignored the Range request and sends the whole blob: start over.
                if (::ftruncate(t->fd, 0) != 0) {
                    t->write_failed = true;
                    return 0;
                }
                t->hash = std::make_unique<Sha256Stream>();
                t->written = 0;
                t->resume_from = 0;
            }
            if (t->file_limit >= 0 && t->written + static_cast<int64_t>(len) > t->file_limit) {
                t->over_limit = true;
                return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
            }
            size_t done = 0;
            while (done < len) {
                ssize_t w = ::write(t->fd, data + done, len - done);
                if (w < 0 && errno == EINTR) continue;
                if (w <= 0) {
                    t->write_failed = true;
                    return 0;
                }
                done += static_cast<size_t>(w);
            }
            t->hash->update(data, len);
            t->written += static_cast<int64_t>(len);
            return len;
        }
        if (t->body.size() + len > t->body_limit) {
            t->over_limit = true;
            return 0;
        }
        t->body.append(data, len);
        return len;
    }
};

}  // namespace

// ---- the client --------------------------------------------------------------------------------

std::string isolab_config_dir();

struct RegistryClient::Impl {
    ImageReference ref;
    RegistrySettings settings;
    RegistryCredentials credentials;
    std::vector<std::string> endpoints;  // base URLs to try, in order ("https://host:port")
    std::string base;                    // the one that answered /v2/
    std::string authorization;           // the header value once authenticated
    bool pinged = false;
    std::string ca_file_for_domain;      // certs.d/<domain>/ca.crt when present
    // Push (request_push_access): the token asked for is `repository:<path>:pull,push`, plus
    // `repository:<from>:pull` for each repository a blob is mounted from.
    std::string scope_actions = "pull";
    std::vector<std::string> extra_scopes;
    std::string upload_location;         // the open upload session (start_blob_upload), absolute

    std::string registry_host() const {
        return ref.domain == "docker.io" ? "registry-1.docker.io" : ref.domain;
    }

    bool http_allowed(const std::string& host_port) const {
        Url u = parse_url("https://" + host_port);
        if (is_loopback_host(u.host)) return true;
        for (const auto& r : settings.insecure_registries)
            if (r == host_port || r == u.host) return true;
        return false;
    }

    void plan_endpoints() {
        if (!endpoints.empty()) return;
        if (ref.domain == "docker.io")
            for (const auto& m : settings.registry_mirrors) {
                std::string b = m;
                while (!b.empty() && b.back() == '/') b.pop_back();
                endpoints.push_back(b);
            }
        std::string host = registry_host();
        endpoints.push_back("https://" + host);
        if (http_allowed(host)) endpoints.push_back("http://" + host);
    }

    // Sets up T for URL (resolving its host and its proxy's here, see registry.hpp).
    Status prepare(Transfer& t, const std::string& url, const std::vector<std::string>& extra_headers,
                   bool send_authorization) {
        auto lib = curl_lib();
        ISOLAB_TRY(lib);
        t.curl = *lib;
        t.url = url;
        t.status = 0;
        t.response_headers.clear();
        t.body.clear();
        if (t.easy) t.curl->easy_cleanup(t.easy);
        if (t.headers) t.curl->slist_free_all(t.headers);
        if (t.resolve) t.curl->slist_free_all(t.resolve);
        t.headers = t.resolve = nullptr;
        t.easy = t.curl->easy_init();
        if (!t.easy) return make_error("libcurl: cannot make a transfer");
        Url u = parse_url(url);
        if (!is_ip_literal(u.host)) {
            auto line = resolve_line(u.host, u.port, url);
            ISOLAB_TRY(line);
            t.resolve = t.curl->slist_append(t.resolve, line->c_str());
        }
        if (std::string proxy = env_proxy(u.scheme); !proxy.empty()) {
            Url p = parse_url(proxy.find("://") == std::string::npos ? "http://" + proxy : proxy);
            if (p.port == "443" && proxy.find("https://") != 0) p.port = "1080";
            if (!is_ip_literal(p.host))
                if (auto line = resolve_line(p.host, p.port, proxy)) t.resolve = t.curl->slist_append(t.resolve, line->c_str());
        }
        for (const auto& h : extra_headers) t.headers = t.curl->slist_append(t.headers, h.c_str());
        if (send_authorization && !authorization.empty())
            t.headers = t.curl->slist_append(t.headers, ("Authorization: " + authorization).c_str());
        auto set = [&](CURLoption o, auto v) { t.curl->easy_setopt(t.easy, o, v); };
        set(CURLOPT_URL, url.c_str());
        set(CURLOPT_PROTOCOLS_STR, "http,https");
        set(CURLOPT_NOSIGNAL, 1L);
        set(CURLOPT_FOLLOWLOCATION, 0L);
        set(CURLOPT_CONNECTTIMEOUT, 30L);
        set(CURLOPT_LOW_SPEED_LIMIT, 1L);  // a stalled registry: give up after a minute of nothing
        set(CURLOPT_LOW_SPEED_TIME, 60L);
        set(CURLOPT_USERAGENT, "isolab/0.1 (docker-compatible)");
        set(CURLOPT_ERRORBUFFER, t.errbuf);
        set(CURLOPT_HEADERFUNCTION, &Transfer::on_header);
        set(CURLOPT_HEADERDATA, &t);
        set(CURLOPT_WRITEFUNCTION, &Transfer::on_body);
        set(CURLOPT_WRITEDATA, &t);
        if (t.headers) set(CURLOPT_HTTPHEADER, t.headers);
        if (t.resolve) set(CURLOPT_RESOLVE, t.resolve);
        if (!settings.ca_file.empty()) {
            set(CURLOPT_CAINFO, settings.ca_file.c_str());
        } else if (std::string ca = isolab_config_dir() + "/certs.d/" + ref.domain + "/ca.crt"; path_exists(ca)) {
            // Docker's /etc/docker/certs.d/<host:port>/ca.crt, under IsoLab's config folder. It
            // replaces the system bundle for this registry (a private registry's own CA).
            ca_file_for_domain = ca;
            set(CURLOPT_CAINFO, ca_file_for_domain.c_str());
        }
        return {};
    }

    // The error for a transfer curl could not complete.
    Error transport_error(const Transfer& t, CURLcode rc) const {
        Url u = parse_url(t.url);
        std::string detail = t.errbuf[0] ? t.errbuf : t.curl->easy_strerror(rc);
        if (t.over_limit) return make_error("Get \"" + t.url + "\": the registry sent more bytes than it announced", 1);
        if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
            return make_error("Get \"" + t.url + "\": tls: failed to verify certificate: " + detail +
                                  " (a private registry's CA goes in `" + isolab_config_dir() + "/certs.d/" + ref.domain +
                                  "/ca.crt`)",
                              1);
        if (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY ||
            (rc == CURLE_COULDNT_CONNECT && (detail.find("No route") != std::string::npos ||
                                             detail.find("unreachable") != std::string::npos)))
            return make_error("Get \"" + t.url + "\": cannot reach registry " + u.host + " (" + detail + "). " +
                                  kOfflineHint,
                              1);
        if (rc == CURLE_COULDNT_CONNECT)
            return make_error("Get \"" + t.url + "\": dial tcp " + u.host + ":" + u.port + ": connect: connection refused", 1);
        return make_error("Get \"" + t.url + "\": " + detail, 1);
    }

    // Runs T to its final response, following redirects (the Authorization header only goes to
    // the registry's own host, as Docker and curl do).
    Status perform(Transfer& t, const std::vector<std::string>& extra_headers) {
        const std::string registry_authority = parse_url(base.empty() ? endpoints.front() : base).host;
        for (int hop = 0;; ++hop) {
            CURLcode rc = t.curl->easy_perform(t.easy);
            if (rc != CURLE_OK) return transport_error(t, rc);
            t.curl->easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &t.status);
            if (t.status < 300 || t.status >= 400 || !t.response_headers.count("location")) return {};
            if (hop >= kMaxRedirects) return make_error("Get \"" + t.url + "\": stopped after 5 redirects", 1);
            std::string next = t.response_headers["location"];
            if (next.find("://") == std::string::npos) {
                Url u = parse_url(t.url);
                std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
                next = u.scheme + "://" + host + ":" + u.port + (next.front() == '/' ? next : "/" + next);
            }
            if (t.fd >= 0) {  // nothing of a redirect's body reached the file (on_body), but be sure
                if (::ftruncate(t.fd, 0) != 0 || ::lseek(t.fd, 0, SEEK_SET) != 0) return errno_error("rewind download", errno, 1);
                t.written = 0;
                t.hash = std::make_unique<Sha256Stream>();
            }
            ISOLAB_TRY(prepare(t, next, extra_headers, parse_url(next).host == registry_authority));
            if (t.fd >= 0) t.curl->easy_setopt(t.easy, CURLOPT_WRITEDATA, &t);
        }
    }

    Error status_error(const Transfer& t, const std::string& what_404) const {
        std::string text = registry_error_text(t.body);
        if (t.status == 401 || t.status == 403) {
            if (text.empty()) text = t.status == 401 ? "unauthorized: authentication required" : "denied: requested access to the resource is denied";
            return make_error(text, 1);
        }
        if (t.status == 404) return make_error(text.empty() ? what_404 : text, 1);
        if (t.status == 429) return make_error(text.empty() ? "toomanyrequests: too many requests" : text, 1);
        return make_error("unexpected status from GET request to " + t.url + ": " + std::to_string(t.status) +
                              (text.empty() ? "" : " (" + text + ")"),
                          1);
    }

    // Answers a 401's challenge: sets AUTHORIZATION. False with an error when it cannot.
    Status authenticate(const Transfer& challenged) {
        auto it = challenged.response_headers.find("www-authenticate");
        if (it == challenged.response_headers.end()) return status_error(challenged, "");
        Challenge c = parse_challenge(it->second);
        if (c.scheme == "basic") {
            // Docker's words when it has nothing to answer a Basic challenge with.
            if (credentials.username.empty()) return make_error("Get \"" + challenged.url + "\": no basic auth credentials", 1);
            authorization = "Basic " + base64(credentials.username + ":" + credentials.password);
            return {};
        }
        if (c.scheme != "bearer" || c.params["realm"].empty())
            return make_error("the registry asks for `" + it->second + "` authentication, which IsoLab does not know", 1);
        std::string url = c.params["realm"];
        std::string query;
        if (!c.params["service"].empty()) query += "service=" + url_escape(c.params["service"]);
        std::string scope = "repository:" + ref.path + ":" + scope_actions;
        query += std::string(query.empty() ? "" : "&") + "scope=" + url_escape(scope);
        for (const auto& extra : extra_scopes) query += "&scope=" + url_escape(extra);
        url += (url.find('?') == std::string::npos ? "?" : "&") + query;
        Transfer t;
        std::vector<std::string> headers;
        if (!credentials.username.empty())
            headers.push_back("Authorization: Basic " + base64(credentials.username + ":" + credentials.password));
        ISOLAB_TRY(prepare(t, url, headers, false));
        ISOLAB_TRY(perform(t, headers));
        if (t.status == 401) {
            std::string text = registry_error_text(t.body);
            return make_error(text.empty() ? "unauthorized: incorrect username or password" : text, 1);
        }
        if (!t.is_success_body()) return status_error(t, "token endpoint not found");
        auto j = json::parse(t.body, nullptr, false);
        std::string token;
        if (j.is_object() && j.contains("token") && j["token"].is_string()) token = j["token"];
        if (token.empty() && j.is_object() && j.contains("access_token") && j["access_token"].is_string())
            token = j["access_token"];
        if (token.empty()) return make_error("the token server at " + c.params["realm"] + " sent no token", 1);
        authorization = "Bearer " + token;
        return {};
    }

    Status ping() {
        if (pinged) return {};
        plan_endpoints();
        Error last = make_error("no registry endpoint", 1);
        for (size_t i = 0; i < endpoints.size(); ++i) {
            Transfer t;
            std::string url = endpoints[i] + "/v2/";
            ISOLAB_TRY(prepare(t, url, {}, false));
            auto st = perform(t, {});
            if (!st.ok()) {
                last = st.error();
                // A certificate that does not verify is an answer, not a missing TLS server: no
                // fallback to plain HTTP (Docker falls back only when TLS itself fails).
                if (last.message.find("tls: failed to verify certificate") != std::string::npos) return last;
                continue;  // a mirror that fails, or HTTPS to an insecure registry: the next one
            }
            if (t.status == 200 || t.status == 401) {
                base = endpoints[i];
                pinged = true;
                if (t.status == 401) ISOLAB_TRY(authenticate(t));
                return {};
            }
            last = status_error(t, "the registry at " + endpoints[i] + " does not serve the v2 API");
        }
        return last;
    }

    // GET PATH on the registry with HEADERS; re-authenticates once on 401.
    Status get(Transfer& t, const std::string& path, const std::vector<std::string>& headers) {
        ISOLAB_TRY(ping());
        for (int attempt = 0; attempt < 2; ++attempt) {
            ISOLAB_TRY(prepare(t, base + path, headers, true));
            ISOLAB_TRY(perform(t, headers));
            if (t.status != 401 || attempt == 1) return {};
            if (auto st = authenticate(t); !st.ok()) return st;
        }
        return {};
    }
};

RegistryClient::RegistryClient(ImageReference ref, RegistrySettings settings, RegistryCredentials credentials)
    : impl_(new Impl{std::move(ref), std::move(settings), std::move(credentials), {}, {}, {}, false}) {}
RegistryClient::~RegistryClient() { delete impl_; }

Status RegistryClient::ping() { return impl_->ping(); }

Result<FetchedManifest> RegistryClient::manifest(const std::string& reference) {
    Transfer t;
    const std::vector<std::string> headers{std::string("Accept: ") + kOciManifestType + ", " + kOciIndexType + ", " +
                                           kDockerManifestType + ", " + kDockerManifestListType};
    ISOLAB_TRY(impl_->get(t, "/v2/" + impl_->ref.path + "/manifests/" + reference, headers));
    if (!t.is_success_body()) return impl_->status_error(t, "manifest unknown");
    FetchedManifest m;
    m.bytes = t.body;
    Sha256Stream h;
    h.update(m.bytes);
    m.digest = "sha256:" + h.hex();
    if (reference.rfind("sha256:", 0) == 0 && reference != m.digest)
        return make_error("manifest " + reference + " from the registry has digest " + m.digest + ": refused", 1);
    auto j = json::parse(m.bytes, nullptr, false);
    if (!j.is_object()) return make_error("the manifest for " + impl_->ref.familiar() + " is not JSON", 1);
    m.media_type = j.value("mediaType", std::string());
    if (m.media_type.empty()) {
        auto ct = t.response_headers.find("content-type");
        if (ct != t.response_headers.end()) m.media_type = trim(ct->second.substr(0, ct->second.find(';')));
    }
    if (m.media_type.empty()) m.media_type = j.contains("manifests") ? kOciIndexType : kOciManifestType;
    if (m.media_type != kOciManifestType && m.media_type != kOciIndexType && m.media_type != kDockerManifestType &&
        m.media_type != kDockerManifestListType)
        return make_error("the manifest for " + impl_->ref.familiar() + " has media type `" + m.media_type +
                              "`, which IsoLab cannot pull (only OCI and Docker schema 2 images)",
                          1);
    return m;
}

Result<std::vector<std::string>> RegistryClient::tags() {
    std::vector<std::string> out;
    std::string path = "/v2/" + impl_->ref.path + "/tags/list";
    for (int page = 0; page < 1000 && !path.empty(); ++page) {
        Transfer t;
        ISOLAB_TRY(impl_->get(t, path, {"Accept: application/json"}));
        if (!t.is_success_body()) return impl_->status_error(t, "name unknown: repository name not known to registry");
        auto j = json::parse(t.body, nullptr, false);
        if (!j.is_object()) return make_error("the tag list of " + impl_->ref.familiar_name() + " is not JSON", 1);
        if (j.contains("tags") && j["tags"].is_array())
            for (const auto& tag : j["tags"])
                if (tag.is_string()) out.push_back(tag.get<std::string>());
        path.clear();
        // RFC 5988: Link: </v2/x/tags/list?last=b&n=100>; rel="next" (a path on the same registry).
        if (auto link = t.response_headers.find("link"); link != t.response_headers.end()) {
            const std::string& v = link->second;
            size_t open = v.find('<'), close = v.find('>');
            if (open != std::string::npos && close != std::string::npos && close > open &&
                v.find("rel=\"next\"") != std::string::npos) {
                std::string next = v.substr(open + 1, close - open - 1);
                if (!next.empty() && next.front() == '/') path = next;
            }
        }
    }
    return out;
}

Result<std::string> RegistryClient::choose_platform(const FetchedManifest& index, const Platform& want) {
    auto j = json::parse(index.bytes, nullptr, false);
    if (!j.is_object() || !j.contains("manifests") || !j["manifests"].is_array())
        return make_error("the image index has no `manifests` list", 1);
    const std::string arch = want.architecture.empty() ? host_oci_architecture() : want.architecture;
    std::string fallback;
    for (const auto& d : j["manifests"]) {
        if (!d.is_object() || !d.contains("platform") || !d["platform"].is_object() || !d.contains("digest") ||
            !d["digest"].is_string())
            continue;
        const auto& p = d["platform"];
        if (p.value("os", std::string()) != want.os || p.value("architecture", std::string()) != arch) continue;
        std::string digest = d["digest"].get<std::string>();
        if (!is_sha256_digest(digest)) continue;
        if (want.variant.empty() || p.value("variant", std::string()) == want.variant) return digest;
        if (fallback.empty()) fallback = digest;
    }
    if (!fallback.empty() && want.variant.empty()) return fallback;
    std::string name = want.os + "/" + arch + (want.variant.empty() ? "" : "/" + want.variant);
    return make_error("no matching manifest for " + name + " in the manifest list entries", 1);
}

Status RegistryClient::fetch_blobs(const std::vector<BlobRequest>& blobs, int max_parallel,
                                   const std::function<void(const BlobProgress&)>& progress) {
    ISOLAB_TRY(impl_->ping());
    auto lib = curl_lib();
    ISOLAB_TRY(lib);
    const CurlLib* c = *lib;
    for (const auto& b : blobs)
        if (!is_sha256_digest(b.digest)) return make_error("blob digest `" + b.digest + "` is not a sha256 digest", 1);

    struct Active {
        size_t index;
        std::unique_ptr<Transfer> t;
        std::string part;
        int hops = 0;
        bool reauthed = false;
        int64_t reported = 0;
    };
    std::vector<std::unique_ptr<Active>> active;
    std::unique_ptr<CURLM, CURLMcode (*)(CURLM*)> multi(c->multi_init(), c->multi_cleanup);
    if (!multi) return make_error("libcurl: cannot make a multi handle", 1);
    size_t next = 0;
    Status failure;

    auto report = [&](size_t i, BlobProgress::Phase phase, int64_t cur) {
        if (progress) progress(BlobProgress{i, phase, cur, blobs[i].size});
    };
    auto cleanup_part = [](Active& a) {
        if (a.t && a.t->fd >= 0) ::close(a.t->fd), a.t->fd = -1;
        if (!a.part.empty()) ::unlink(a.part.c_str());
    };
    auto start = [&](Active& a, const std::string& url, bool auth) -> Status {
        std::vector<std::string> headers;
        if (a.t->resume_from > 0) headers.push_back("Range: bytes=" + std::to_string(a.t->resume_from) + "-");
        ISOLAB_TRY(impl_->prepare(*a.t, url, headers, auth));
        return {};
    };
    // Takes over the bytes an interrupted pull left for DEST (`DEST.part.<pid>` of a process that
    // is gone) as PART, and returns how many there are (0: none, start from nothing). The bytes
    // are hashed again here; the final digest check covers them like any other byte.
    auto adopt_partial = [&](const std::string& dest, const std::string& part, int64_t size) -> int64_t {
        const std::string dir = dest.substr(0, dest.rfind('/'));
        const std::string prefix = dest.substr(dest.rfind('/') + 1) + ".part.";
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
            std::string n = e.path().filename().string();
            if (n.rfind(prefix, 0) != 0) continue;
            std::string pid_text = n.substr(prefix.size());
            if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
            pid_t pid = static_cast<pid_t>(std::stol(pid_text));
            if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
            if (::rename(e.path().c_str(), part.c_str()) != 0) continue;  // another pull took it
            struct stat st {};
            if (::lstat(part.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
                (size >= 0 && st.st_size >= size)) {
                ::unlink(part.c_str());
                return 0;
            }
            return st.st_size;
        }
        return 0;
    };
    auto launch = [&]() -> Status {
        while (next < blobs.size() && static_cast<int>(active.size()) < std::max(1, max_parallel)) {
            size_t i = next++;
            if (path_exists(blobs[i].dest)) {
                report(i, BlobProgress::Phase::Done, blobs[i].size);
                continue;
            }
            auto a = std::make_unique<Active>();
            a->index = i;
            a->t = std::make_unique<Transfer>();
            a->part = blobs[i].dest + ".part." + std::to_string(::getpid());
            const int64_t have = adopt_partial(blobs[i].dest, a->part, blobs[i].size);
            a->t->hash = std::make_unique<Sha256Stream>();
            if (have > 0) {
                int in = ::open(a->part.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (in < 0) return errno_error("open `" + a->part + "`", errno, 1);
                char buf[1 << 16];
                int64_t got = 0;
                for (ssize_t n; (n = ::read(in, buf, sizeof buf)) > 0;) {
                    a->t->hash->update(buf, static_cast<size_t>(n));
                    got += n;
                }
                ::close(in);
                a->t->written = a->t->resume_from = got;
            }
            a->t->fd = ::open(a->part.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | (have > 0 ? 0 : O_TRUNC),
                              0600);
            if (a->t->fd < 0) return errno_error("create `" + a->part + "`", errno, 1);
            a->t->file_limit = blobs[i].size;
            ISOLAB_TRY(start(*a, impl_->base + "/v2/" + impl_->ref.path + "/blobs/" + blobs[i].digest, true));
            c->multi_add_handle(multi.get(), a->t->easy);
            report(i, BlobProgress::Phase::Downloading, a->t->written);
            a->reported = a->t->written;
            active.push_back(std::move(a));
        }
        return {};
    };
    // One finished transfer: redirect, re-authenticate, or verify and publish.
    auto finish = [&](Active& a, CURLcode rc) -> Status {
        Transfer& t = *a.t;
        const BlobRequest& b = blobs[a.index];
        if (rc != CURLE_OK) return impl_->transport_error(t, rc);
        c->easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &t.status);
        if (t.status >= 300 && t.status < 400 && t.response_headers.count("location")) {
            if (++a.hops > kMaxRedirects) return make_error("Get \"" + t.url + "\": stopped after 5 redirects", 1);
            std::string loc = t.response_headers["location"];
            if (loc.find("://") == std::string::npos) {
                Url u = parse_url(t.url);
                loc = u.scheme + "://" + (u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host) + ":" + u.port + loc;
            }
            ISOLAB_TRY(start(a, loc, parse_url(loc).host == parse_url(impl_->base).host));
            c->multi_add_handle(multi.get(), t.easy);
            return {};
        }
        if (t.status == 401 && !a.reauthed) {
            a.reauthed = true;
            ISOLAB_TRY(impl_->authenticate(t));
            ISOLAB_TRY(start(a, impl_->base + "/v2/" + impl_->ref.path + "/blobs/" + b.digest, true));
            c->multi_add_handle(multi.get(), t.easy);
            return {};
        }
        if (!t.is_success_body()) return impl_->status_error(t, "blob unknown: blob unknown to registry");
        report(a.index, BlobProgress::Phase::Verifying, t.written);
        if (b.size >= 0 && t.written != b.size)
            return make_error("blob " + b.digest + ": the registry sent " + std::to_string(t.written) +
                                  " bytes, the manifest says " + std::to_string(b.size) + ": refused",
                              1);
        std::string got = "sha256:" + t.hash->hex();
        if (got != b.digest)
            return make_error("filesystem layer verification failed for digest " + b.digest + " (the content has " + got +
                                  "): refused",
                              1);
        if (::fsync(t.fd) != 0 || ::close(t.fd) != 0) {
            t.fd = -1;
            return errno_error("write `" + a.part + "`", errno, 1);
        }
        t.fd = -1;
        if (::rename(a.part.c_str(), b.dest.c_str()) != 0) return errno_error("rename `" + a.part + "`", errno, 1);
        a.part.clear();
        report(a.index, BlobProgress::Phase::Done, t.written);
        return {};
    };

    failure = launch();
    while (failure.ok() && !active.empty()) {
        int running = 0;
        c->multi_perform(multi.get(), &running);
        int left = 0;
        while (CURLMsg* msg = c->multi_info_read(multi.get(), &left)) {
            if (msg->msg != CURLMSG_DONE) continue;
            auto it = std::find_if(active.begin(), active.end(), [&](const auto& a) { return a->t->easy == msg->easy_handle; });
            if (it == active.end()) continue;
            CURLcode rc = msg->data.result;
            c->multi_remove_handle(multi.get(), (*it)->t->easy);
            auto st = finish(**it, rc);
            if (!st.ok()) {
                failure = st;
                break;
            }
            if ((*it)->part.empty()) {  // published
                active.erase(it);
            }
        }
        if (!failure.ok()) break;
        for (const auto& a : active)
            if (a->t->written != a->reported) {  // only what changed since the last report
                a->reported = a->t->written;
                report(a->index, BlobProgress::Phase::Downloading, a->t->written);
            }
        failure = launch();
        if (!failure.ok() || active.empty()) break;
        c->multi_poll(multi.get(), nullptr, 0, 200, nullptr);
    }
    for (auto& a : active) {
        if (a->t->easy) c->multi_remove_handle(multi.get(), a->t->easy);
        cleanup_part(*a);
    }
    return failure;
}

Result<Platform> parse_platform(const std::string& text) {
    // containerd's platforms.Parse, which Docker uses: known words only, architectures normalized.
    static const std::set<std::string> kOs{"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos",
                                           "ios", "js", "linux", "nacl", "netbsd", "openbsd", "plan9", "solaris",
                                           "windows", "zos"};
    static const std::set<std::string> kArch{"386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be",
                                             "ppc64", "ppc64le", "loong64", "mips", "mipsle", "mips64", "mips64le",
                                             "mips64p32", "mips64p32le", "ppc", "riscv", "riscv64", "s390", "s390x",
                                             "sparc", "sparc64", "wasm"};
    const Error invalid = make_error("\"" + text + "\": unknown operating system or architecture: invalid argument", 125);
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
        size_t slash = text.find('/', start);
        parts.push_back(lower(text.substr(start, slash == std::string::npos ? std::string::npos : slash - start)));
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    if (parts.size() > 3) return invalid;
    auto normalize = [](std::string arch, std::string variant, Platform* p) {
        if (arch == "i386") arch = "386";
        else if (arch == "x86_64" || arch == "x86-64") arch = "amd64";
        else if (arch == "aarch64") arch = "arm64";
        else if (arch == "armhf") arch = "arm", variant = "v7";
        else if (arch == "armel") arch = "arm", variant = "v6";
        if (arch == "arm64" && (variant == "8" || variant == "v8")) variant = "";
        if (arch == "arm" && variant.size() == 1 && variant[0] >= '5' && variant[0] <= '8') variant = "v" + variant;
        if (arch == "amd64" && variant == "v1") variant = "";
        p->architecture = arch;
        p->variant = variant;
    };
    Platform p;
    if (parts.size() == 1) {
        if (kOs.count(parts[0])) {
            p.os = parts[0];  // the architecture is this machine's
            return p;
        }
        normalize(parts[0], "", &p);
        if (!kArch.count(p.architecture)) return invalid;
        return p;
    }
    p.os = parts[0];
    normalize(parts[1], parts.size() == 3 ? parts[2] : "", &p);
    if (!kOs.count(p.os) || !kArch.count(p.architecture)) return invalid;
    return p;
}

std::string isolab_config_dir() {
    const char* xdg = std::getenv("XDG_CONFIG_HOME");
    if (xdg && *xdg == '/') return std::string(xdg) + "/isolab";
    const char* home = std::getenv("HOME");
    return std::string(home && *home ? home : "/root") + "/.config/isolab";
}

std::string registry_settings_path() { return isolab_config_dir() + "/daemon.json"; }

Result<RegistryCredentials> load_registry_credentials(const std::string& domain) {
    RegistryCredentials none;
    const std::string path = isolab_config_dir() + "/config.json";
    if (!path_exists(path)) return none;
    auto text = read_file(path);
    if (!text) return text.error();
    auto j = json::parse(*text, nullptr, false);
    if (!j.is_object()) return make_error("`" + path + "`: not a JSON object");
    if (!j.contains("auths") || !j["auths"].is_object()) return none;
    // Docker's keys: the registry's host[:port], and Docker Hub's historical URL.
    std::vector<std::string> keys{domain};
    if (domain == "docker.io") keys = {"https://index.docker.io/v1/", "docker.io", "index.docker.io"};
    for (const auto& key : keys) {
        if (!j["auths"].contains(key) || !j["auths"][key].is_object()) continue;
        const auto& entry = j["auths"][key];
        if (!entry.contains("auth") || !entry["auth"].is_string()) continue;
        auto decoded = base64_decode(entry["auth"].get<std::string>());
        size_t colon = decoded.find(':');
        if (colon == std::string::npos) return make_error("`" + path + "`: the credentials for " + key + " are malformed");
        return RegistryCredentials{decoded.substr(0, colon), decoded.substr(colon + 1)};
    }
    return none;
}

Result<RegistrySettings> load_registry_settings() {
    RegistrySettings s;
    const std::string path = registry_settings_path();
    if (!path_exists(path)) return s;
    auto text = read_file(path);
    if (!text) return text.error();
    auto j = json::parse(*text, nullptr, false);
    if (!j.is_object()) return make_error("`" + path + "`: not a JSON object");
    for (auto [key, out] : {std::pair{"insecure-registries", &s.insecure_registries},
                            std::pair{"registry-mirrors", &s.registry_mirrors}}) {
        if (!j.contains(key)) continue;
        if (!j[key].is_array()) return make_error("`" + path + "`: `" + key + "` must be a list of strings");
        for (const auto& v : j[key]) {
            if (!v.is_string()) return make_error("`" + path + "`: `" + key + "` must be a list of strings");
            out->push_back(v.get<std::string>());
        }
    }
    return s;
}

// ---- login and search ----------------------------------------------------------------------------

namespace {

// Go's http.StatusText for the statuses a registry answers with.
std::string http_status_text(long code) {
    switch (code) {
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 429: return "Too Many Requests";
        case 500: return "Internal Server Error";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        default: return "";
    }
}

bool is_tls_verify_error(const Error& e) {
    return e.message.find("tls: failed to verify certificate") != std::string::npos;
}

}  // namespace

Result<std::string> registry_login(const std::string& domain, RegistrySettings settings,
                                   const RegistryCredentials& creds) {
    settings.registry_mirrors.clear();  // Docker logs in to the registry itself, never a mirror
    ImageReference ref;
    ref.domain = domain;
    RegistryClient::Impl impl{ref, std::move(settings), creds, {}, {}, {}, false};
    impl.plan_endpoints();
    const std::string basic = "Basic " + base64(creds.username + ":" + creds.password);
    Error last = make_error("no registry endpoint", 1);
    for (const auto& endpoint : impl.endpoints) {
        const std::string v2 = endpoint + "/v2/";
        impl.base = endpoint;  // perform() sends Authorization only to this host on redirects
        Transfer t;
        ISOLAB_TRY(impl.prepare(t, v2, {}, false));
        if (auto st = impl.perform(t, {}); !st.ok()) {
            last = st.error();
            if (is_tls_verify_error(last)) return last;  // an answer: no fallback to plain HTTP
            continue;                                     // HTTPS to a plain-HTTP registry: the next one
        }
        long status = t.status;
        if (status == 401) {
            auto it = t.response_headers.find("www-authenticate");
            Challenge c = it == t.response_headers.end() ? Challenge{} : parse_challenge(it->second);
            std::string authorization;
            if (c.scheme == "basic") {
                authorization = basic;
            } else if (c.scheme == "bearer" && !c.params["realm"].empty()) {
                // distribution's token handler with offline access, as Docker's login sets it up:
                // the query in Go's url.Values order (sorted keys), no scope.
                std::string url = c.params["realm"];
                std::string query = "account=" + url_escape(creds.username) + "&client_id=docker&offline_token=true";
                if (!c.params["service"].empty()) query += "&service=" + url_escape(c.params["service"]);
                url += (url.find('?') == std::string::npos ? "?" : "&") + query;
                Transfer tt;
                const std::vector<std::string> headers{"Authorization: " + basic};
                ISOLAB_TRY(impl.prepare(tt, url, headers, false));
                ISOLAB_TRY(impl.perform(tt, headers));
                if (tt.status == 401 || tt.status == 403) {
                    // Docker Hub answers {"details":"incorrect username or password"}; distribution's
                    // client reads that, or an errors list, as an unauthorized error.
                    std::string text = registry_error_text(tt.body);
                    if (text.empty()) {
                        auto j = json::parse(tt.body, nullptr, false);
                        if (j.is_object() && j.contains("details") && j["details"].is_string())
                            text = "unauthorized: " + j["details"].get<std::string>();
                    }
                    if (text.empty()) text = "unauthorized: incorrect username or password";
                    return make_error("Get \"" + v2 + "\": " + text, 1);
                }
                if (!tt.is_success_body())
                    return make_error("Get \"" + v2 + "\": " + impl.status_error(tt, "token endpoint not found").message, 1);
                auto j = json::parse(tt.body, nullptr, false);
                std::string token;
                if (j.is_object() && j.contains("token") && j["token"].is_string()) token = j["token"];
                if (token.empty() && j.is_object() && j.contains("access_token") && j["access_token"].is_string())
                    token = j["access_token"];
                if (token.empty())
                    return make_error("Get \"" + v2 + "\": the token server at " + c.params["realm"] + " sent no token", 1);
                authorization = "Bearer " + token;
            }
            if (!authorization.empty()) {
                Transfer again;
                const std::vector<std::string> headers{"Authorization: " + authorization};
                ISOLAB_TRY(impl.prepare(again, v2, headers, false));
                if (auto st = impl.perform(again, headers); !st.ok()) {
                    last = st.error();
                    continue;
                }
                status = again.status;
            }
        }
        if (status == 200) return std::string("Login Succeeded");
        // moby's loginV2: any other answer, including 401 after the credentials were sent.
        last = make_error("login attempt to " + v2 + " failed with status: " + std::to_string(status) + " " +
                              http_status_text(status),
                          1);
    }
    return last;
}

Result<SearchTerm> parse_search_term(const std::string& term) {
    if (term.rfind("http://", 0) == 0 || term.rfind("https://", 0) == 0)
        return make_error("invalid repository name: repository name (" + term + ") should not have a scheme", 1);
    SearchTerm out{"docker.io", term};
    size_t slash = term.find('/');
    if (slash != std::string::npos) {
        std::string first = term.substr(0, slash);
        if (first.find('.') != std::string::npos || first.find(':') != std::string::npos || first == "localhost") {
            out.domain = first == "index.docker.io" ? "docker.io" : first;
            out.query = term.substr(slash + 1);
        }
    }
    if (out.domain == "docker.io" && out.query.rfind("library/", 0) == 0) out.query = out.query.substr(8);
    return out;
}

Result<std::vector<SearchResult>> registry_search(const SearchTerm& term, int limit, RegistrySettings settings,
                                                  const RegistryCredentials& creds) {
    if (limit < 1 || limit > 100)
        return make_error("limit " + std::to_string(limit) + " is outside the range of [1, 100]", 1);
    settings.registry_mirrors.clear();
    ImageReference ref;
    ref.domain = term.domain;
    RegistryClient::Impl impl{ref, std::move(settings), creds, {}, {}, {}, false};
    std::vector<std::string> indexes;
    if (term.domain == "docker.io") {
        std::string index = "https://index.docker.io/v1/";
        // Tests only (registry.hpp): Docker Hub's index answered from this machine.
        if (const char* test = std::getenv("ISOLAB_TEST_INDEX_URL"); test && *test) {
            if (!is_loopback_host(parse_url(test).host))
                return make_error("ISOLAB_TEST_INDEX_URL must name a loopback address (it is for tests only)", 1);
            index = test;
            if (index.back() != '/') index += '/';
        }
        indexes.push_back(index);
    } else {
        indexes.push_back("https://" + term.domain + "/v1/");
        if (impl.http_allowed(term.domain)) indexes.push_back("http://" + term.domain + "/v1/");
    }
    std::vector<std::string> headers{"X-Docker-Token: true", "Accept: application/json"};
    if (!creds.username.empty())
        headers.push_back("Authorization: Basic " + base64(creds.username + ":" + creds.password));
    Error last = make_error("no search endpoint", 1);
    for (const auto& index : indexes) {
        const std::string url = index + "search?q=" + url_escape(term.query) + "&n=" + std::to_string(limit);
        impl.base = index.substr(0, index.size() - 4);  // perform() keeps Authorization on this host
        Transfer t;
        ISOLAB_TRY(impl.prepare(t, url, headers, false));
        if (auto st = impl.perform(t, headers); !st.ok()) {
            last = st.error();
            if (is_tls_verify_error(last)) return last;
            continue;
        }
        if (t.status != 200) return make_error("Unexpected status code " + std::to_string(t.status), 1);
        auto j = json::parse(t.body, nullptr, false);
        if (!j.is_object() || (j.contains("results") && !j["results"].is_array()))
            return make_error("error decoding search results: the answer from " + url + " is not a search result", 1);
        std::vector<SearchResult> out;
        if (j.contains("results"))
            for (const auto& r : j["results"]) {
                if (!r.is_object()) continue;
                SearchResult s;
                if (r.contains("name") && r["name"].is_string()) s.name = r["name"];
                if (r.contains("description") && r["description"].is_string()) s.description = r["description"];
                if (r.contains("star_count") && r["star_count"].is_number_integer()) s.star_count = r["star_count"];
                if (r.contains("is_official") && r["is_official"].is_boolean()) s.is_official = r["is_official"];
                if (r.contains("is_automated") && r["is_automated"].is_boolean()) s.is_automated = r["is_automated"];
                out.push_back(std::move(s));
            }
        return out;
    }
    return last;
}

Result<UrlDownload> download_url(const std::string& url, const std::string& dest, int64_t max_bytes) {
    Url u = parse_url(url);
    if ((u.scheme != "http" && u.scheme != "https") || u.host.empty())
        return make_error("cannot download `" + url + "`: only http:// and https:// URLs can be fetched", 1);
    ImageReference ref;
    ref.domain = u.host;
    RegistryClient::Impl impl{ref, RegistrySettings{}, RegistryCredentials{}, {}, {}, {}, false};
    impl.base = u.scheme + "://" + u.host;
    UniqueFd fd(::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd.valid()) return errno_error("create `" + dest + "`", errno, 1);
    auto fail = [&](Error e) -> Error {
        (void)::unlink(dest.c_str());
        return e;
    };
    Transfer t;
    t.fd = fd.get();
    t.file_limit = max_bytes;
    t.hash = std::make_unique<Sha256Stream>();
    if (auto st = impl.prepare(t, url, {}, false); !st.ok()) return fail(st.error());
    if (auto st = impl.perform(t, {}); !st.ok()) {
        Error e = st.error();
        if (t.over_limit)
            return fail(make_error("Get \"" + url + "\": the download is larger than " + std::to_string(max_bytes) +
                                       " bytes: refused",
                                   1));
        // The transport's words speak of a registry; here the host is any web server.
        if (size_t at = e.message.find("cannot reach registry "); at != std::string::npos)
            e.message.replace(at, std::strlen("cannot reach registry "), "cannot reach ");
        return fail(e);
    }
    if (t.status != 200) {
        // The body on the same line, as moby's error has it; an HTML page says nothing a learner
        // needs, so it is left out, and anything else is cut to its first line.
        std::string body = t.body.substr(0, t.body.find_first_of("\r\n")).substr(0, 200);
        if (trim(t.body).rfind("<", 0) == 0) body = "(an HTML page)";
        return fail(make_error("failed to GET " + url + " with status " + std::to_string(t.status) + " " +
                                   http_status_text(t.status) + ": " + body,
                               1));
    }
    if (t.write_failed) return fail(errno_error("write `" + dest + "`", errno, 1));
    if (::fsync(fd.get()) != 0) return fail(errno_error("write `" + dest + "`", errno, 1));
    UrlDownload out;
    out.url = t.url;
    out.sha256 = t.hash->hex();
    out.size = t.written;
    if (auto it = t.response_headers.find("last-modified"); it != t.response_headers.end()) out.last_modified = it->second;
    if (auto it = t.response_headers.find("content-disposition"); it != t.response_headers.end()) {
        const std::string& v = it->second;
        if (size_t at = v.find("filename="); at != std::string::npos) {
            std::string name = v.substr(at + 9);
            if (size_t semi = name.find(';'); semi != std::string::npos) name = name.substr(0, semi);
            if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
            out.disposition_filename = name;
        }
    }
    return out;
}

bool registry_transport_available() { return CurlLib::get() != nullptr; }

}  // namespace isolab

// ---- push: HEAD, POST, PATCH, PUT ------------------------------------------------------------

namespace isolab {

namespace {

// What a request sends: a byte string in memory, a file, or nothing (an empty body).
struct RequestBody {
    const std::string* bytes = nullptr;
    int fd = -1;
    int64_t size = 0;
    int64_t sent = 0;
    int64_t reported = 0;
    std::function<void(int64_t)> progress;

    void rewind() {
        sent = reported = 0;
        if (fd >= 0) (void)::lseek(fd, 0, SEEK_SET);
    }
    static size_t read(char* buf, size_t size, size_t n, void* self) {
        auto* b = static_cast<RequestBody*>(self);
        size_t want = std::min<int64_t>(static_cast<int64_t>(size * n), b->size - b->sent);
        if (want == 0) return 0;
        size_t got = 0;
        if (b->bytes) {
            std::memcpy(buf, b->bytes->data() + b->sent, want);
            got = want;
        } else {
            ssize_t r;
            do r = ::read(b->fd, buf, want);
            while (r < 0 && errno == EINTR);
            if (r <= 0) return CURL_READFUNC_ABORT;  // the file shrank under us: fail the request
            got = static_cast<size_t>(r);
        }
        b->sent += static_cast<int64_t>(got);
        // Progress every 512 KiB and at the end: enough to redraw a bar, few calls.
        if (b->progress && (b->sent - b->reported >= (512 << 10) || b->sent == b->size)) {
            b->reported = b->sent;
            b->progress(b->sent);
        }
        return got;
    }
};

// Go's net/http spells the method this way in its errors ("Put \"https://…\": …").
std::string go_method(const std::string& method) {
    std::string m = lower(method);
    if (!m.empty()) m[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(m[0])));
    return m;
}

// An absolute URL for a Location header (registries send paths or whole URLs).
std::string absolute_location(const std::string& base, const std::string& location) {
    if (location.find("://") != std::string::npos) return location;
    return base + (location.empty() || location.front() == '/' ? "" : "/") + location;
}

}  // namespace

// METHOD URL with BODY (nullptr: none) and HEADERS; on 401 the challenge is answered and the
// request sent once more (the body rewound). Redirects are not followed: a registry answers push
// requests itself. T holds the final response.
static Status send_registry_request(RegistryClient::Impl& impl, Transfer& t, const std::string& method,
                                    const std::string& url, std::vector<std::string> headers, RequestBody* body) {
    headers.push_back("Expect:");  // no 100-continue round trip
    RequestBody empty;
    if (!body && method != "HEAD") body = &empty;
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (body) body->rewind();
        ISOLAB_TRY(impl.prepare(t, url, headers, true));
        auto set = [&](CURLoption o, auto v) { t.curl->easy_setopt(t.easy, o, v); };
        if (method == "HEAD") {
            set(CURLOPT_NOBODY, 1L);
        } else {
            set(CURLOPT_UPLOAD, 1L);
            set(CURLOPT_CUSTOMREQUEST, method.c_str());
            set(CURLOPT_READFUNCTION, &RequestBody::read);
            set(CURLOPT_READDATA, body);
            set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body->size));
        }
        CURLcode rc = t.curl->easy_perform(t.easy);
        if (rc != CURLE_OK) {
            Error e = impl.transport_error(t, rc);
            if (e.message.rfind("Get \"", 0) == 0) e.message = go_method(method) + e.message.substr(3);
            return e;
        }
        t.curl->easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &t.status);
        if (t.status != 401 || attempt == 1) return {};
        ISOLAB_TRY(impl.authenticate(t));
    }
    return {};
}

// The error for an answer push did not expect: the registry's own words when it sent some.
static Error push_status_error(const RegistryClient::Impl& impl, const Transfer& t, const std::string& method) {
    if (t.status == 401 || t.status == 403 || t.status == 429) return impl.status_error(t, "");
    std::string text = registry_error_text(t.body);
    if (!text.empty()) return make_error(text, 1);
    return make_error("unexpected status from " + method + " request to " + t.url + ": " + std::to_string(t.status), 1);
}

void RegistryClient::request_push_access() {
    impl_->scope_actions = "pull,push";
}

Result<std::optional<int64_t>> RegistryClient::blob_size(const std::string& digest) {
    if (!is_sha256_digest(digest)) return make_error("blob digest `" + digest + "` is not a sha256 digest", 1);
    ISOLAB_TRY(impl_->ping());
    Transfer t;
    ISOLAB_TRY(send_registry_request(*impl_, t, "HEAD", impl_->base + "/v2/" + impl_->ref.path + "/blobs/" + digest, {},
                                     nullptr));
    if (t.status == 404) return std::optional<int64_t>();
    if (t.status >= 300 && t.status < 400) return std::optional<int64_t>(-1);  // served elsewhere (a CDN)
    if (t.status != 200) return push_status_error(*impl_, t, "HEAD");
    int64_t size = -1;
    if (auto it = t.response_headers.find("content-length"); it != t.response_headers.end())
        size = std::strtoll(it->second.c_str(), nullptr, 10);
    return std::optional<int64_t>(size);
}

Result<bool> RegistryClient::start_blob_upload(const std::string& mount_digest, const std::string& from_path) {
    ISOLAB_TRY(impl_->ping());
    std::string url = impl_->base + "/v2/" + impl_->ref.path + "/blobs/uploads/";
    if (!mount_digest.empty()) {
        if (!is_sha256_digest(mount_digest)) return make_error("blob digest `" + mount_digest + "` is not a sha256 digest", 1);
        url += "?mount=" + url_escape(mount_digest) + "&from=" + url_escape(from_path);
        const std::string scope = "repository:" + from_path + ":pull";
        if (std::find(impl_->extra_scopes.begin(), impl_->extra_scopes.end(), scope) == impl_->extra_scopes.end())
            impl_->extra_scopes.push_back(scope);
    }
    Transfer t;
    ISOLAB_TRY(send_registry_request(*impl_, t, "POST", url, {}, nullptr));
    if (t.status == 201 && !mount_digest.empty()) {
        impl_->upload_location.clear();
        return true;
    }
    if (t.status != 202) return push_status_error(*impl_, t, "POST");
    auto loc = t.response_headers.find("location");
    if (loc == t.response_headers.end() || loc->second.empty())
        return make_error("the registry opened an upload without saying where (no Location header)", 1);
    impl_->upload_location = absolute_location(impl_->base, loc->second);
    return false;
}

Status RegistryClient::upload_blob(const std::string& file, const std::string& digest, int64_t size,
                                   const std::function<void(int64_t)>& progress) {
    if (!is_sha256_digest(digest)) return make_error("blob digest `" + digest + "` is not a sha256 digest", 1);
    if (impl_->upload_location.empty()) {
        auto mounted = start_blob_upload();
        ISOLAB_TRY(mounted);
    }
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return errno_error("open `" + file + "`", errno, 1);
    struct FdCloser {
        int fd;
        ~FdCloser() { ::close(fd); }
    } closer{fd};
    RequestBody body;
    body.fd = fd;
    body.size = size;
    body.progress = progress;
    const std::string session = impl_->upload_location;
    impl_->upload_location.clear();  // a session is used once, whatever happens
    Transfer patch;
    ISOLAB_TRY(send_registry_request(*impl_, patch, "PATCH", session, {"Content-Type: application/octet-stream"}, &body));
    if (patch.status != 202 && patch.status != 204) return push_status_error(*impl_, patch, "PATCH");
    if (body.sent != size) return make_error("`" + file + "` changed while it was uploaded", 1);
    std::string next = session;
    if (auto loc = patch.response_headers.find("location"); loc != patch.response_headers.end() && !loc->second.empty())
        next = absolute_location(impl_->base, loc->second);
    next += (next.find('?') == std::string::npos ? "?" : "&") + std::string("digest=") + url_escape(digest);
    Transfer put;
    ISOLAB_TRY(send_registry_request(*impl_, put, "PUT", next, {"Content-Type: application/octet-stream"}, nullptr));
    if (put.status != 201 && put.status != 204) return push_status_error(*impl_, put, "PUT");
    return {};
}

Result<std::string> RegistryClient::put_manifest(const std::string& tag, const std::string& media_type,
                                                 const std::string& bytes) {
    ISOLAB_TRY(impl_->ping());
    RequestBody body;
    body.bytes = &bytes;
    body.size = static_cast<int64_t>(bytes.size());
    Transfer t;
    ISOLAB_TRY(send_registry_request(*impl_, t, "PUT", impl_->base + "/v2/" + impl_->ref.path + "/manifests/" + tag,
                                     {"Content-Type: " + media_type}, &body));
    if (t.status != 201 && t.status != 200) return push_status_error(*impl_, t, "PUT");
    auto d = t.response_headers.find("docker-content-digest");
    return d == t.response_headers.end() ? std::string() : d->second;
}

}  // namespace isolab
