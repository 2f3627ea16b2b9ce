#include "sim/net/firewall.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "sim/core/files.hpp"
#include "sim/core/process.hpp"
#include "sim/net/ipam.hpp"

#include <nftables/libnftables.h>

namespace isolab::net {

// ---- running the tools -------------------------------------------------------------------------

std::string find_tool(const std::string& name) {
    for (const char* dir : {"/usr/sbin/", "/sbin/"}) {
        std::string p = dir + name;
        if (::access(p.c_str(), X_OK) == 0) return p;
    }
    return "";
}

Result<CommandOutput> run_command(const std::vector<std::string>& argv) {
    if (argv.empty()) return make_error("run_command: empty argv");
    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) return errno_error("pipe", errno);
    UniqueFd out_r(out_pipe[0]), out_w(out_pipe[1]);
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) return errno_error("pipe", errno);
    UniqueFd err_r(err_pipe[0]), err_w(err_pipe[1]);

    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    // A fixed environment: the tools' messages in English (we quote them), nothing inherited.
    char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    char lc_env[] = "LC_ALL=C";
    char* envp[] = {path_env, lc_env, nullptr};

    // posix_spawn rather than fork: safe in a multi-threaded process, and the child starts in the
    // calling thread's namespaces (clone copies the caller's, not the main thread's).
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_w.get(), 1);  // dup2 clears O_CLOEXEC on 1 and 2
    posix_spawn_file_actions_adddup2(&fa, err_w.get(), 2);
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, argv[0].c_str(), &fa, nullptr, args.data(), envp);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return errno_error("run `" + argv[0] + "`", rc);
    out_w.reset();
    err_w.reset();

    CommandOutput res;
    pollfd fds[2] = {{out_r.get(), POLLIN, 0}, {err_r.get(), POLLIN, 0}};
    std::string* sinks[2] = {&res.out, &res.err};
    int open_count = 2;
    char buf[8192];
    while (open_count > 0) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sinks[i]->append(buf, static_cast<size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                fds[i].fd = -1;
                --open_count;
            }
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return errno_error("wait for `" + argv[0] + "`", errno);
    }
    res.exit_code = exit_code_of(status);
    return res;
}

namespace {

// Runs and turns a non-zero exit into an error quoting the tool's stderr.
Result<CommandOutput> run_checked(const std::vector<std::string>& argv, const std::string& what) {
    auto r = run_command(argv);
    if (!r) return r.error().wrap(what);
    if (r->exit_code != 0) {
        std::string err = trim(r->err.empty() ? r->out : r->err);
        return make_error(what + ": `" + argv[0] + "` exited with " + std::to_string(r->exit_code) +
                          (err.empty() ? "" : ": " + err));
    }
    return r;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string l;
    while (std::getline(in, l)) out.push_back(l);
    return out;
}

// Names are spliced into nft scripts and iptables argv: keep them to characters that need no
// quoting anywhere. Interface names are at most 15 bytes (IFNAMSIZ - 1).
Status check_word(const std::string& s, const std::string& what, size_t max_len) {
    bool ok = !s.empty() && s.size() <= max_len && std::isalnum(static_cast<unsigned char>(s[0]));
    for (char c : s)
        ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
    if (!ok)
        return make_error("invalid " + what + " `" + s + "`: use up to " + std::to_string(max_len) +
                          " characters of [a-zA-Z0-9_.-]");
    return {};
}

constexpr const char* kTagPrefix = "isolab:";

// The owner tag and the network of COMMENT ("isolab:<owner>:<network>", or the legacy
// "isolab:<network>"; network names never contain ':'). False when COMMENT is not IsoLab's.
bool parse_comment(const std::string& comment, std::string& owner, std::string& network) {
    if (comment.rfind(kTagPrefix, 0) != 0) return false;
    std::string rest = comment.substr(std::string(kTagPrefix).size());
    auto colon = rest.find(':');
    owner = colon == std::string::npos ? "" : rest.substr(0, colon);
    network = colon == std::string::npos ? rest : rest.substr(colon + 1);
    return !network.empty();
}

// ---- nft: through libnftables, or the nft program when the library cannot be loaded ---------

// libnftables, loaded with dlopen on first use and kept for the life of the process.
//
// Why dlopen and not a link: `isolab` and `isolab-monitor` are static executables (start-up time,
// the monitor's memory), and Debian ships libnftables (and libnftnl, libmnl, libjansson under it)
// only as shared objects. glibc loads shared objects into a static executable the way it loads NSS
// modules; the library's own copy of libc then allocates with mmap, never brk, so the two heaps
// do not meet. Nothing allocated by one side is freed by the other: scripts go in as const
// strings, output is copied out before the context is freed.
//
// Each call makes its own context in the CALLING THREAD: the context's netlink socket belongs to
// the network namespace of the thread that opened it, which keeps the contract at the top of
// firewall.hpp (a thread in a private namespace changes that namespace's rules only).
class Libnftables {
public:
    // nullptr when libnftables.so.1 is not installed (or lacks a symbol): callers use the program.
    static const Libnftables* get() {
        static std::once_flag once;
        static Libnftables* lib = nullptr;
        std::call_once(once, [] {
            void* h = ::dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
            if (!h) return;
            auto* l = new Libnftables;
            bool ok = l->sym(h, l->ctx_new_, "nft_ctx_new") && l->sym(h, l->ctx_free_, "nft_ctx_free") &&
                      l->sym(h, l->buffer_output_, "nft_ctx_buffer_output") &&
                      l->sym(h, l->buffer_error_, "nft_ctx_buffer_error") &&
                      l->sym(h, l->output_buffer_, "nft_ctx_get_output_buffer") &&
                      l->sym(h, l->error_buffer_, "nft_ctx_get_error_buffer") &&
                      l->sym(h, l->set_flags_, "nft_ctx_output_set_flags") &&
                      l->sym(h, l->run_, "nft_run_cmd_from_buffer");
            if (ok) {
                lib = l;
            } else {
                delete l;
                ::dlclose(h);
            }
        });
        return lib;
    }

    // Runs SCRIPT (one batch: every command in it is one transaction) as `nft -f` would; with
    // HANDLES, listings carry "# handle N" as with `nft -a`. exit_code is 0 or 1, like the program.
    Result<CommandOutput> run(const std::string& script, bool handles) const {
        nft_ctx* ctx = ctx_new_(NFT_CTX_DEFAULT);
        if (!ctx) return make_error("libnftables: cannot make a context");
        CommandOutput res;
        if (buffer_output_(ctx) != 0 || buffer_error_(ctx) != 0) {
            ctx_free_(ctx);
            return make_error("libnftables: cannot buffer output");
        }
        if (handles) set_flags_(ctx, NFT_CTX_OUTPUT_HANDLE);
        res.exit_code = run_(ctx, script.c_str()) == 0 ? 0 : 1;
        if (const char* o = output_buffer_(ctx)) res.out = o;
        if (const char* e = error_buffer_(ctx)) res.err = e;
        ctx_free_(ctx);
        return res;
    }

private:
    template <typename F>
    static bool sym(void* h, F& f, const char* name) {
        f = reinterpret_cast<F>(::dlsym(h, name));
        return f != nullptr;
    }
    nft_ctx* (*ctx_new_)(uint32_t) = nullptr;
    void (*ctx_free_)(nft_ctx*) = nullptr;
    int (*buffer_output_)(nft_ctx*) = nullptr;
    int (*buffer_error_)(nft_ctx*) = nullptr;
    const char* (*output_buffer_)(nft_ctx*) = nullptr;
    const char* (*error_buffer_)(nft_ctx*) = nullptr;
    void (*set_flags_)(nft_ctx*, unsigned int) = nullptr;
    int (*run_)(nft_ctx*, const char*) = nullptr;
};

// How nft commands are run in this process: the library, else the program at NFT_PATH.
struct Nft {
    const Libnftables* lib = nullptr;
    std::string program;
    explicit operator bool() const { return lib || !program.empty(); }
};

Nft find_nft() { return {Libnftables::get(), find_tool("nft")}; }

Result<CommandOutput> nft_run(const Nft& nft, const std::string& script, bool handles = false) {
    if (nft.lib) return nft.lib->run(script, handles);
    if (nft.program.empty()) return make_error("neither libnftables nor nft is installed");
    std::vector<std::string> argv{nft.program};
    if (handles) argv.push_back("-a");
    argv.push_back(script);
    return run_command(argv);
}

Result<CommandOutput> nft_checked(const Nft& nft, const std::string& script, const std::string& what) {
    auto r = nft_run(nft, script);
    if (!r) return r.error().wrap(what);
    if (r->exit_code != 0) {
        std::string err = trim(r->err.empty() ? r->out : r->err);
        return make_error(what + ": " + (nft.lib ? std::string("libnftables") : "`" + nft.program + "`") +
                          " failed" + (err.empty() ? "" : ": " + err));
    }
    return r;
}

bool nft_usable(const Nft& nft) {
    if (!nft) return false;
    auto r = nft_run(nft, "list tables");
    return r && r->exit_code == 0;
}

// `iptables -S FORWARD`'s output, or nullopt when iptables is missing or not usable here. One
// call answers both "usable?" and "policy DROP?".
std::optional<std::string> iptables_forward_listing(const std::string& ipt) {
    if (ipt.empty()) return std::nullopt;
    auto r = run_command({ipt, "-w", "-t", "filter", "-S", "FORWARD"});
    if (!r || r->exit_code != 0) return std::nullopt;
    return r->out;
}

bool iptables_usable(const std::string& ipt) { return iptables_forward_listing(ipt).has_value(); }

// ---- the rules, once, for both tools -----------------------------------------------------------

struct ForwardRule {
    std::string in, out;  // "" = any; "isolab*" style prefixes end in '*'
    std::string verdict;  // "accept" | "drop"
    bool established_only = false;
};

const char* const kBridgePatterns[] = {"isolab*", "br-il*"};

// Order matters: the first match decides. Same-bridge traffic is accepted before the drops so
// that a bridge whose own name matches a pattern still talks to itself.
std::vector<ForwardRule> forward_rules(const std::string& bridge) {
    std::vector<ForwardRule> r;
    r.push_back({bridge, bridge, "accept"});
    for (const char* p : kBridgePatterns) r.push_back({bridge, p, "drop"});
    for (const char* p : kBridgePatterns) r.push_back({p, bridge, "drop"});
    r.push_back({bridge, "", "accept"});
    r.push_back({"", bridge, "accept", true});
    return r;
}

std::string nft_rule(const ForwardRule& f, const std::string& comment) {
    std::string s;
    if (!f.in.empty()) s += "iifname \"" + f.in + "\" ";
    if (!f.out.empty()) s += "oifname \"" + f.out + "\" ";
    if (f.established_only) s += "ct state established,related ";
    return s + f.verdict + " comment \"" + comment + "\"";
}

std::vector<std::string> iptables_rule(const ForwardRule& f, const std::string& comment) {
    auto iface = [](std::string n) {  // iptables spells the wildcard '+'
        if (!n.empty() && n.back() == '*') n.back() = '+';
        return n;
    };
    std::vector<std::string> a;
    if (!f.in.empty()) a.insert(a.end(), {"-i", iface(f.in)});
    if (!f.out.empty()) a.insert(a.end(), {"-o", iface(f.out)});
    if (f.established_only) a.insert(a.end(), {"-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"});
    a.insert(a.end(), {"-m", "comment", "--comment", comment, "-j", f.verdict == "accept" ? "ACCEPT" : "DROP"});
    return a;
}

// ---- iptables ----------------------------------------------------------------------------------

// `iptables -S CHAIN` lines whose comment is exactly TAG.
std::vector<std::string> iptables_tagged(const std::string& ipt, const std::string& table,
                                         const std::string& chain, const std::string& want_tag) {
    std::vector<std::string> out;
    auto r = run_command({ipt, "-w", "-t", table, "-S", chain});
    if (!r || r->exit_code != 0) return out;
    for (auto& l : lines_of(r->out)) {
        std::istringstream in(l);
        std::string tok, prev;
        while (in >> tok) {
            if (prev == "--comment") {
                if (tok.size() >= 2 && tok.front() == '"') tok = tok.substr(1, tok.size() - 2);
                bool match = want_tag.empty() ? tok.rfind(kTagPrefix, 0) == 0 : tok == want_tag;
                if (match) out.push_back(l);
                break;
            }
            prev = tok;
        }
    }
    return out;
}

// Deletes the rules of CHAIN whose comment is exactly COMMENT; returns how many.
Result<int> iptables_delete_tagged(const std::string& ipt, const std::string& table,
                                   const std::string& chain, const std::string& comment) {
    int removed = 0;
    for (auto& line : iptables_tagged(ipt, table, chain, comment)) {
        std::vector<std::string> argv{ipt, "-w", "-t", table};
        std::istringstream in(line);
        std::string tok;
        while (in >> tok) {
            if (tok == "-A") tok = "-D";
            if (tok.size() >= 2 && tok.front() == '"' && tok.back() == '"') tok = tok.substr(1, tok.size() - 2);
            argv.push_back(tok);
        }
        ISOLAB_TRY(run_checked(argv, "remove firewall rule `" + comment + "`"));
        ++removed;
    }
    return removed;
}

// Replaces the rules commented COMMENT in filter FORWARD (at the top, in order). Skipped when the
// same number of rules already names BRIDGE, so repeated calls leave running containers undisturbed.
Status iptables_forward(const std::string& ipt, const std::string& comment, const std::string& bridge) {
    auto rules = forward_rules(bridge);
    auto have = iptables_tagged(ipt, "filter", "FORWARD", comment);
    bool current = have.size() == rules.size();
    for (auto& l : have) current = current && (l.find(" " + bridge + " ") != std::string::npos);
    if (current) return {};
    ISOLAB_TRY(iptables_delete_tagged(ipt, "filter", "FORWARD", comment));
    // Inserting each at position 1 in reverse order leaves them on top in forward_rules' order,
    // ahead of Docker's own chains and of a DROP policy.
    for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
        std::vector<std::string> argv{ipt, "-w", "-t", "filter", "-I", "FORWARD", "1"};
        auto a = iptables_rule(*it, comment);
        argv.insert(argv.end(), a.begin(), a.end());
        ISOLAB_TRY(run_checked(argv, "add forwarding rule `" + comment + "`"));
    }
    return {};
}

Status iptables_nat(const std::string& ipt, const std::string& comment, const std::string& cidr,
                    const std::string& bridge) {
    auto have = iptables_tagged(ipt, "nat", "POSTROUTING", comment);
    if (have.size() == 1 && have[0].find(" " + cidr + " ") != std::string::npos &&
        have[0].find(" " + bridge + " ") != std::string::npos)
        return {};
    ISOLAB_TRY(iptables_delete_tagged(ipt, "nat", "POSTROUTING", comment));
    ISOLAB_TRY(run_checked({ipt, "-w", "-t", "nat", "-A", "POSTROUTING", "-s", cidr, "!", "-o",
                            bridge, "-m", "comment", "--comment", comment, "-j", "MASQUERADE"},
                           "add masquerade rule `" + comment + "`"));
    return {};
}

bool forward_policy_drop(const std::string& forward_listing) {
    for (auto& l : lines_of(forward_listing))
        if (trim(l) == "-P FORWARD DROP") return true;
    return false;
}

// ---- nft ---------------------------------------------------------------------------------------

struct NftRuleRef {
    std::string chain, handle;
};

// The rules commented exactly COMMENT in `table ip isolab`, whether the table exists, how many
// rules it holds in all, and the comment of each.
struct NftState {
    bool table = false;
    int total_rules = 0;
    std::vector<NftRuleRef> mine;
    std::vector<std::pair<std::string, std::string>> commented;  // (comment, rule text) of each rule that has one
};

NftState nft_state(const Nft& nft, const std::string& comment) {
    NftState st;
    auto r = nft_run(nft, "list table ip isolab", /*handles=*/true);
    if (!r || r->exit_code != 0) return st;
    st.table = true;
    std::string chain;
    const std::string want = "comment \"" + comment + "\"";
    for (auto& raw : lines_of(r->out)) {
        std::string l = trim(raw);
        if (l.rfind("chain ", 0) == 0) {
            chain = l.substr(6, l.find(' ', 6) - 6);
            continue;
        }
        auto h = l.find(" # handle ");
        if (h == std::string::npos || l.rfind("table ", 0) == 0) continue;
        ++st.total_rules;
        if (l.find(want) != std::string::npos) st.mine.push_back({chain, l.substr(h + 10)});
        if (auto c = l.find("comment \""); c != std::string::npos) {
            auto end = l.find('"', c + 9);
            if (end != std::string::npos) st.commented.emplace_back(l.substr(c + 9, end - c - 9), l);
        }
    }
    return st;
}

Status nft_ensure(const Nft& nft, const std::string& comment, const std::string& cidr,
                  const std::string& bridge) {
    NftState st = nft_state(nft, comment);
    // One transaction: old rules out and new ones in together, or nothing changes.
    std::string s =
        "add table ip isolab\n"
        "add chain ip isolab forward { type filter hook forward priority filter; policy accept; }\n"
        "add chain ip isolab postrouting { type nat hook postrouting priority srcnat; policy accept; }\n";
    for (auto& m : st.mine) s += "delete rule ip isolab " + m.chain + " handle " + m.handle + "\n";
    for (auto& f : forward_rules(bridge)) s += "add rule ip isolab forward " + nft_rule(f, comment) + "\n";
    s += "add rule ip isolab postrouting ip saddr " + cidr + " oifname != \"" + bridge +
         "\" masquerade comment \"" + comment + "\"\n";
    auto r = nft_checked(nft, s, "nft rules `" + comment + "`");
    if (!r) return r.error();
    return {};
}

// Removes the rules commented COMMENT; returns how many.
Result<int> nft_remove(const Nft& nft, const std::string& comment) {
    NftState st = nft_state(nft, comment);
    if (!st.table || (st.mine.empty() && st.total_rules > 0)) return 0;
    std::string s;
    if (st.total_rules == static_cast<int>(st.mine.size())) {
        s = "delete table ip isolab\n";  // the last network: leave nothing behind
    } else {
        for (auto& m : st.mine) s += "delete rule ip isolab " + m.chain + " handle " + m.handle + "\n";
    }
    auto r = nft_checked(nft, s, "remove nft rules `" + comment + "`");
    if (!r) return r.error();
    return static_cast<int>(st.mine.size());
}

// net.ipv4.ip_forward is per network namespace; /proc/sys/net resolves to the opening thread's.
std::string enable_ip_forward() {
    const std::string path = "/proc/sys/net/ipv4/ip_forward";
    auto cur = read_file(path);
    if (cur && trim(*cur) == "1") return "";
    auto st = write_file(path, "1\n");
    if (!st)
        return "could not enable IPv4 forwarding (" + st.error().message +
               "): containers cannot reach beyond the host; run `sysctl -w net.ipv4.ip_forward=1`";
    return "";
}

void add_warning(std::string& to, const std::string& w) {
    if (w.empty()) return;
    if (!to.empty()) to += "; ";
    to += w;
}

}  // namespace

std::string owner_tag(const std::string& state_root) {
    // FNV-1a, 64 bits, of which 48 are kept: short enough for a comment that also names the
    // network, long enough that two roots on one machine do not collide by chance.
    uint64_t h = 14695981039346656037ull;
    for (unsigned char c : state_root) h = (h ^ c) * 1099511628211ull;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return std::string(buf, 12);
}

std::string rule_comment(const std::string& state_root, const std::string& network) {
    return kTagPrefix + owner_tag(state_root) + ":" + network;
}

namespace {
thread_local int host_network_lock_depth = 0;
}

HostNetworkLock::HostNetworkLock() {
    if (host_network_lock_depth++ > 0) return;
    if (auto l = FileLock::acquire("/run/isolab-firewall.lock")) lock_ = std::move(*l);
}

HostNetworkLock::~HostNetworkLock() { --host_network_lock_depth; }

Result<FirewallReport> ensure_network_rules(const std::string& state_root, const std::string& network,
                                            const std::string& subnet_cidr, const std::string& bridge,
                                            FirewallTool tool) {
    ISOLAB_TRY(check_word(network, "network name", 128));
    ISOLAB_TRY(check_word(bridge, "bridge name", 15));
    if (state_root.empty() || state_root[0] != '/')
        return make_error("network " + network + ": the state root `" + state_root + "` is not an absolute path");
    auto subnet = parse_subnet(subnet_cidr);
    if (!subnet) return subnet.error().wrap("network " + network);
    const std::string cidr = subnet->cidr();
    const std::string comment = rule_comment(state_root, network);

    HostNetworkLock lock;
    FirewallReport rep;
    const Nft nft = find_nft();
    const std::string ipt = find_tool("iptables");
    bool use_nft = tool != FirewallTool::Iptables && nft_usable(nft);
    // Spawns iptables (there is no library for it): acceptable here, since a network's rules are
    // made once (attach.hpp's prepare_network skips all of this while they are in place).
    const std::optional<std::string> forward_listing = iptables_forward_listing(ipt);
    bool have_ipt = forward_listing.has_value();
    if (tool == FirewallTool::Nft && !use_nft)
        return make_error("network " + network + ": nft is not usable (install nftables: apt-get install nftables)");
    if (tool == FirewallTool::Iptables && !have_ipt)
        return make_error("network " + network + ": iptables is not usable (install iptables: apt-get install iptables)");
    if (!use_nft && !have_ipt) {
        rep.warning = "neither nft nor iptables is usable: containers on network " + network +
                      " cannot reach beyond the host (install nftables: apt-get install nftables)";
        return rep;
    }
    add_warning(rep.warning, enable_ip_forward());

    const std::string ctx = "network " + network;
    if (use_nft) {
        rep.tool = "nft";
        ISOLAB_TRY_CTX(nft_ensure(nft, comment, cidr, bridge), ctx);
        // An accept in our table does not override a DROP policy in iptables' own filter table.
        if (have_ipt) {
            if (forward_policy_drop(*forward_listing)) {
                ISOLAB_TRY_CTX(iptables_forward(ipt, comment, bridge), ctx);
            } else if (forward_listing->find(comment) != std::string::npos) {
                ISOLAB_TRY_CTX(iptables_delete_tagged(ipt, "filter", "FORWARD", comment), ctx);
            }
            // Rules a former iptables-only run left behind would duplicate ours.
            ISOLAB_TRY_CTX(iptables_delete_tagged(ipt, "nat", "POSTROUTING", comment), ctx);
        }
    } else {
        rep.tool = "iptables";
        ISOLAB_TRY_CTX(iptables_forward(ipt, comment, bridge), ctx);
        ISOLAB_TRY_CTX(iptables_nat(ipt, comment, cidr, bridge), ctx);
        if (nft_usable(nft)) ISOLAB_TRY_CTX(nft_remove(nft, comment), ctx);
    }
    return rep;
}

Status remove_network_rules(const std::string& state_root, const std::string& network, const std::string& bridge) {
    ISOLAB_TRY(check_word(network, "network name", 128));
    (void)bridge;
    ISOLAB_TRY_CTX(remove_rule_set(rule_comment(state_root, network)), "network " + network);
    return {};
}

Result<int> remove_rule_set(const std::string& comment) {
    std::string owner, network;
    if (!parse_comment(comment, owner, network)) return make_error("`" + comment + "` is not an IsoLab rule comment");
    ISOLAB_TRY(check_word(network, "network name", 128));
    if (!owner.empty()) ISOLAB_TRY(check_word(owner, "owner tag", 16));
    HostNetworkLock lock;
    int removed = 0;
    const Nft nft = find_nft();
    const std::string ipt = find_tool("iptables");
    if (nft_usable(nft)) {
        auto n = nft_remove(nft, comment);
        if (!n) return n.error();
        removed += *n;
    }
    if (iptables_usable(ipt)) {
        for (auto [table, chain] : {std::pair{"filter", "FORWARD"}, std::pair{"nat", "POSTROUTING"}}) {
            auto n = iptables_delete_tagged(ipt, table, chain, comment);
            if (!n) return n.error();
            removed += *n;
        }
    }
    return removed;
}

std::vector<RuleSet> rule_sets() {
    std::map<std::string, RuleSet> sets;
    // The interface names of one rule, in either tool's spelling; wildcards ("isolab*", "br-il+")
    // name no one bridge and are left out.
    auto add = [&](const std::string& comment, const std::vector<std::string>& words, bool nft_syntax) {
        RuleSet& r = sets[comment];
        r.comment = comment;
        ++r.rules;
        for (size_t i = 0; i + 1 < words.size(); ++i) {
            bool iface = nft_syntax ? (words[i] == "iifname" || words[i] == "oifname") : (words[i] == "-i" || words[i] == "-o");
            std::string name = words[i + 1];
            if (nft_syntax && name == "!=" && i + 2 < words.size()) name = words[i + 2];
            if (name.size() >= 2 && name.front() == '"') name = name.substr(1, name.size() - 2);
            if (!iface || name.empty() || name.back() == '*' || name.back() == '+') continue;
            if (std::find(r.bridges.begin(), r.bridges.end(), name) == r.bridges.end()) r.bridges.push_back(name);
        }
    };
    auto words_of = [](const std::string& l) {
        std::vector<std::string> w;
        std::istringstream in(l);
        for (std::string t; in >> t;) w.push_back(t);
        return w;
    };
    const Nft nft = find_nft();
    const std::string ipt = find_tool("iptables");
    if (nft)
        for (auto& [comment, rule] : nft_state(nft, "").commented) add(comment, words_of(rule), true);
    if (!ipt.empty())
        for (auto [table, chain] : {std::pair{"filter", "FORWARD"}, std::pair{"nat", "POSTROUTING"}})
            for (auto& l : iptables_tagged(ipt, table, chain, "")) {
                auto w = words_of(l);
                auto c = std::find(w.begin(), w.end(), "--comment");
                if (c == w.end() || c + 1 == w.end()) continue;
                std::string tok = *(c + 1);
                if (tok.size() >= 2 && tok.front() == '"') tok = tok.substr(1, tok.size() - 2);
                add(tok, w, false);
            }
    std::vector<RuleSet> out;
    for (auto& [comment, r] : sets)
        if (parse_comment(comment, r.owner, r.network)) out.push_back(r);
    return out;
}

std::string nft_backend() {
    const Nft nft = find_nft();
    if (nft.lib) return "libnftables";
    return nft.program;
}

std::vector<std::string> list_rules() {
    std::vector<std::string> out;
    const Nft nft = find_nft();
    const std::string ipt = find_tool("iptables");
    if (nft) {
        auto r = nft_run(nft, "list table ip isolab");
        if (r && r->exit_code == 0)
            for (auto& l : lines_of(r->out))
                if (std::string t = trim(l); !t.empty() && t != "}") out.push_back(t);
    }
    if (!ipt.empty()) {
        for (auto& l : iptables_tagged(ipt, "filter", "FORWARD", "")) out.push_back(l);
        for (auto& l : iptables_tagged(ipt, "nat", "POSTROUTING", "")) out.push_back(l);
    }
    return out;
}

}  // namespace isolab::net
