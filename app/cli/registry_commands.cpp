#include "app/cli/registry_commands.hpp"

#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ostream>

#include <nlohmann/json.hpp>

#include "app/cli/commands.hpp"
#include "app/cli/filters.hpp"
#include "app/cli/go_template.hpp"
#include "sim/core/i18n.hpp"
#include "sim/core/strings.hpp"
#include "sim/engine/credential_store.hpp"

namespace isolab::cli {

namespace {

constexpr const char* kDaemon = "Error response from daemon: ";
// More than any password or token; stdin beyond this is not read.
constexpr size_t kMaxStdinPassword = 1 << 20;

// Docker's hints before the user name prompt for Docker Hub (cli/command/registry.go).
constexpr const char* kRegisterSuggest =
    "Log in with your Docker ID or email address to push and pull images from Docker Hub. If you don't have a "
    "Docker ID, head over to https://hub.docker.com/ to create one.";
constexpr const char* kPatSuggest =
    "You can log in with your password or a Personal Access Token (PAT). Using a limited-scope PAT grants better "
    "security and is required for organizations using SSO. Learn more at https://docs.docker.com/go/access-tokens/";

// Everything on fd 0, up to kMaxStdinPassword bytes.
std::string read_all_stdin() {
    std::string data;
    char buf[4096];
    while (data.size() < kMaxStdinPassword) {
        ssize_t n = ::read(0, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        data.append(buf, static_cast<size_t>(n));
    }
    return data;
}

// One line from the terminal on fd 0 (without its newline); false at end of input.
bool read_terminal_line(std::string& line) {
    line.clear();
    char ch;
    for (;;) {
        ssize_t n = ::read(0, &ch, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return !line.empty();
        if (ch == '\n') return true;
        line += ch;
    }
}

// Docker's prompt.ReadInput: MSG on OUT, a line from the terminal, spaces trimmed.
std::string prompt(std::ostream& out, const std::string& msg) {
    out << msg << std::flush;
    std::string line;
    read_terminal_line(line);
    return trim(line);
}

// The password prompt with the terminal's echo off (Docker's DisableInputEcho), restored before
// returning whatever happens; the newline the user typed is not echoed, so one is printed.
std::string prompt_hidden(std::ostream& out, const std::string& msg) {
    termios saved{};
    const bool have_termios = ::tcgetattr(0, &saved) == 0;
    if (have_termios) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(0, TCSAFLUSH, &quiet);
    }
    out << msg << std::flush;
    std::string line;
    read_terminal_line(line);
    if (have_termios) ::tcsetattr(0, TCSAFLUSH, &saved);
    out << "\n" << std::flush;
    return trim(line);
}

// errdefs.IsUnauthorized for what registry_login returns: the token server's refusal.
bool is_unauthorized(const Error& e) {
    return e.message.rfind("Get \"", 0) == 0 && e.message.find("\": unauthorized: ") != std::string::npos;
}

// Stores CREDS under KEY and prints what Docker prints around it. False after printing the error.
bool store_and_report(const std::string& key, const RegistryCredentials& creds, std::ostream& err) {
    bool changed = false;
    auto stored = store_credentials(key, creds, &changed);
    if (!stored.ok()) {
        err << "Error saving credentials: " << stored.error().message << "\n";
        return false;
    }
    // Docker's warning, whose advice (a credential helper) IsoLab replaces with its own line.
    if (changed)
        err << "\nWARNING! Your credentials are stored unencrypted in '" << credentials_path() << "'.\n"
            << i18n::tr("cli.login.stored_plain") << "\n\n";
    return true;
}

}  // namespace

Error localized_registry_error(Error e) {
    const std::string hint = kRegistryOfflineHint;
    size_t at = e.message.rfind(hint);
    if (at != std::string::npos && at + hint.size() == e.message.size())
        e.message = e.message.substr(0, at) + i18n::tr("cli.pull.offline_hint");
    return e;
}

int run_login_command(const Command& c, std::ostream& out, std::ostream& err) {
    std::string user = c.username;
    std::string password;
    if (c.password_stdin) {
        if (user.empty()) {
            err << "the --password-stdin option requires --username to be set\n";
            return 1;
        }
        password = read_all_stdin();
        if (!password.empty() && password.back() == '\n') password.pop_back();
        if (!password.empty() && password.back() == '\r') password.pop_back();
    }
    const std::string server = c.args.empty() ? "" : c.args[0];
    const std::string key = credential_key(server);
    const std::string domain = credential_domain(key);
    auto settings = load_registry_settings();
    if (!settings) {
        err << settings.error().message << "\n";
        return 1;
    }

    // No -u and no password: the stored credentials are tried first (Docker 28's words).
    std::string default_user;
    if (user.empty() && password.empty()) {
        auto stored = read_stored_credentials(key);
        if (!stored) {
            err << stored.error().message << "\n";
            return 1;
        }
        if (!stored->username.empty() && !stored->password.empty()) {
            err << "Authenticating with existing credentials... [Username: " << stored->username << "]\n\n"
                << " Info -> To login with a different account, run 'isolab logout' followed by 'isolab login'\n\n\n";
            auto ok = registry_login(domain, *settings, *stored);
            if (ok) {
                if (!store_and_report(key, *stored, err)) return 1;
                out << *ok << "\n";
                return 0;
            }
            if (is_unauthorized(ok.error())) err << "Stored credentials invalid or expired\n";
            else err << "Login did not succeed, error: " << kDaemon << localized_registry_error(ok.error()).message << "\n";
            default_user = stored->username;
        }
    }

    if ((user.empty() || password.empty()) && ::isatty(0) != 1) {
        err << "Error: Cannot perform an interactive login from a non TTY device\n";
        return 1;
    }
    user = trim(user);
    if (user.empty()) {
        if (key == kDockerHubAuthKey) out << kRegisterSuggest << "\n" << kPatSuggest << "\n\n";
        std::string typed = prompt(out, default_user.empty() ? "Username: " : "Username (" + default_user + "): ");
        user = typed.empty() ? default_user : typed;
        if (user.empty()) {
            err << "Error: Non-null Username Required\n";
            return 1;
        }
    }
    password = trim(password);
    if (password.empty()) {
        password = prompt_hidden(out, "Password: ");
        if (password.empty()) {
            err << "Error: Password Required\n";
            return 1;
        }
    }

    const RegistryCredentials creds{user, password};
    auto ok = registry_login(domain, *settings, creds);
    if (!ok) {
        err << kDaemon << localized_registry_error(ok.error()).message << "\n";
        return 1;
    }
    if (!store_and_report(key, creds, err)) return 1;
    out << *ok << "\n";
    return 0;
}

int run_logout_command(const Command& c, std::ostream& out, std::ostream& err) {
    const std::string server = c.args.empty() ? "" : c.args[0];
    const std::string hostname = credential_key(server);
    std::vector<std::string> keys{hostname};
    // Docker 28 also removes the spellings older clients stored.
    if (hostname != kDockerHubAuthKey) {
        if (server != hostname) keys.insert(keys.begin(), server);
        keys.push_back("http://" + hostname);
        keys.push_back("https://" + hostname);
    }
    out << "Removing login credentials for " << hostname << "\n";
    auto removed = erase_credentials(keys);
    if (!removed) err << "WARNING: could not erase credentials:\n" << hostname << ": " << removed.error().message << "\n";
    return 0;
}

Result<SearchFilter> parse_search_filter(const std::vector<std::string>& words) {
    auto args = FilterArgs::parse(words);
    if (!args) return args.error();
    ISOLAB_TRY(args->validate({"is-automated", "is-official", "stars"}));
    SearchFilter f;
    auto automated = args->get_bool_or_default("is-automated", false);
    if (!automated) return automated.error();
    f.automated_given = args->contains("is-automated");
    f.automated = *automated;
    auto official = args->get_bool_or_default("is-official", false);
    if (!official) return official.error();
    f.official_given = args->contains("is-official");
    f.official = *official;
    for (const auto& v : args->get("stars")) {
        // strconv.Atoi: an optional sign and decimal digits, within int64.
        bool digits = !v.empty();
        size_t start = !v.empty() && (v[0] == '+' || v[0] == '-') ? 1 : 0;
        if (start == v.size()) digits = false;
        for (size_t i = start; digits && i < v.size(); ++i) digits = v[i] >= '0' && v[i] <= '9';
        if (!digits) return make_error("invalid filter 'stars=" + v + "': strconv.Atoi: parsing " + go_quote(v) + ": invalid syntax", 1);
        if (v.size() - start > 18) return make_error("invalid filter 'stars=" + v + "': strconv.Atoi: parsing " + go_quote(v) + ": value out of range", 1);
        int64_t n = std::stoll(v);
        f.min_stars = f.stars_given ? std::max(f.min_stars, n) : std::max<int64_t>(0, n);
        f.stars_given = true;
    }
    return f;
}

std::vector<SearchResult> filter_search_results(const std::vector<SearchResult>& results, const SearchFilter& f) {
    std::vector<SearchResult> out;
    for (const auto& r : results) {
        if (f.automated_given && r.is_automated != f.automated) continue;
        if (f.official_given && r.is_official != f.official) continue;
        if (f.stars_given && r.star_count < f.min_stars) continue;
        out.push_back(r);
    }
    return out;
}

Status print_search_results(const std::vector<SearchResult>& results, const std::string& format, bool no_trunc,
                            std::ostream& out) {
    const std::string fmt = format.empty() || is_default_table(format)
                                ? "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}"
                                : format;
    // Docker's searchContext shows IsOfficial as "[OK]" or nothing, and as "true"/"false" when it
    // is marshalled (`json`, `{{json .}}`).
    const bool as_json = fmt == "json" || fmt.find("json .") != std::string::npos;
    std::vector<nlohmann::json> rows;
    for (const auto& r : results) {
        std::string description = r.description;
        for (char& ch : description)
            if (ch == '\n' || ch == '\r') ch = ' ';
        if (!no_trunc) description = docker_ellipsis(description, 45);
        rows.push_back({{"Name", r.name},
                        {"Description", description},
                        {"StarCount", std::to_string(r.star_count)},
                        {"IsOfficial", as_json ? (r.is_official ? "true" : "false") : (r.is_official ? "[OK]" : "")}});
    }
    const nlohmann::json titles = {
        {"Name", "NAME"}, {"Description", "DESCRIPTION"}, {"StarCount", "STARS"}, {"IsOfficial", "OFFICIAL"}};
    return print_formatted(fmt, rows, titles, "*registry.searchContext", out);
}

int run_search_command(const Command& c, std::ostream& out, std::ostream& err) {
    auto fail = [&](const Error& e) {
        err << kDaemon << localized_registry_error(e).message << "\n";
        return 1;
    };
    for (const auto& w : c.filters)
        if (w.rfind("is-automated=", 0) == 0) {
            err << "WARNING: the \"is-automated\" filter is deprecated, and searching for \"is-automated=true\" will "
                   "not yield any results in future.\n";
            break;
        }
    auto filter = parse_search_filter(c.filters);
    if (!filter) return fail(filter.error());
    std::vector<SearchResult> results;
    // moby: "is-automated" is deprecated and filtering for true yields nothing, without a search.
    if (!(filter->automated_given && filter->automated)) {
        auto term = parse_search_term(c.args.at(0));
        if (!term) return fail(term.error());
        auto settings = load_registry_settings();
        if (!settings) return fail(make_error(settings.error().message, 1));
        auto creds = load_registry_credentials(term->domain);
        if (!creds) return fail(make_error(creds.error().message, 1));
        auto found = registry_search(*term, c.limit == 0 ? 25 : c.limit, *settings, *creds);
        if (!found) return fail(found.error());
        results = filter_search_results(*found, *filter);
    }
    if (auto printed = print_search_results(results, c.format, c.no_trunc, out); !printed.ok()) {
        err << printed.error().message << "\n";
        return 1;
    }
    return 0;
}

}  // namespace isolab::cli
