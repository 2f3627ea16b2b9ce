#include "app/cli/pull_command.hpp"

#include "app/cli/registry_commands.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <ostream>

#include "sim/core/i18n.hpp"
#include "sim/engine/engine.hpp"
#include "sim/engine/pull.hpp"
#include "sim/engine/reference.hpp"

namespace isolab::cli {

namespace {

constexpr const char* kDaemon = "Error response from daemon: ";

// The engine's error with its offline hint in the learner's language.
Error localized(Error e) { return localized_registry_error(std::move(e)); }

// go-units HumanSize: decimal units, four significant digits ("1.235MB", "772kB", "512B").
std::string human_size(double size) {
    static const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    int i = 0;
    while (size >= 1000.0 && i < 5) {
        size /= 1000.0;
        ++i;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.4g%s", size, units[i]);
    return buf;
}

// jsonmessage's JSONProgress.String(): the bar only on a terminal wider than 110 columns.
std::string progress_text(int64_t current, int64_t total, int width) {
    if (current <= 0 && total <= 0) return "";
    if (total <= 0) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%8s", human_size(static_cast<double>(current)).c_str());
        return buf;
    }
    int percentage = static_cast<int>(static_cast<double>(current) / static_cast<double>(total) * 100) / 2;
    if (percentage > 50) percentage = 50;
    std::string bar;
    if (width > 110) bar = "[" + std::string(percentage, '=') + ">" + std::string(50 - percentage, ' ') + "] ";
    std::string numbers;
    if (current <= total) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%8s/%s", human_size(static_cast<double>(current)).c_str(),
                      human_size(static_cast<double>(total)).c_str());
        numbers = buf;
    }
    return bar + numbers;
}

// Draws pull progress as Docker's DisplayJSONMessagesStream does: on a terminal each layer keeps
// its own line, rewritten in place (cursor up, clear line); piped, a message with a progress bar
// is dropped and every other one is a line.
class ProgressPrinter {
public:
    ProgressPrinter(std::ostream& out, bool terminal, int width) : out_(out), terminal_(terminal), width_(width) {}

    void show(const PullProgress& p) {
        const std::string bar = progress_text(p.current, p.total, width_);
        if (!p.layer) {
            lines_.clear();
            out_ << (p.id.empty() ? "" : p.id + ": ") << p.status << "\n";
            out_.flush();
            return;
        }
        if (!terminal_) {
            if (!bar.empty()) return;
            out_ << p.id << ": " << p.status << "\n";
            return;
        }
        auto it = lines_.find(p.id);
        if (it == lines_.end()) {
            it = lines_.emplace(p.id, lines_.size()).first;
            out_ << "\n";
        }
        size_t diff = lines_.size() - it->second;
        out_ << "\x1b[" << diff << "A";                   // cursor up
        out_ << "\x1b[2K\r" << p.id << ": " << p.status;  // clear the line, rewrite it
        if (!bar.empty()) out_ << " " << bar;
        out_ << "\r\x1b[" << diff << "B";                 // cursor back down
        out_.flush();
    }

private:
    std::ostream& out_;
    bool terminal_;
    int width_;
    std::map<std::string, size_t> lines_;
};

int terminal_width(int fd) {
    winsize ws{};
    if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 80;
}

// The credentials IsoLab's config.json holds for NAME's registry.
Result<RegistryCredentials> credentials_for(const std::string& name) {
    auto ref = parse_reference(name);
    if (!ref) return RegistryCredentials{};
    auto creds = load_registry_credentials(ref->domain);
    if (!creds) return make_error(creds.error().message, 1);
    return creds;
}

// One pull with its progress on OUT (fd FD decides terminal or plain) and its "Digest:" line;
// the caller prints the "Status:" line (once per tag, or once for `-a`).
Result<PullResult> pull_with_progress(Engine& e, const std::string& name, const std::string& platform, bool quiet,
                                      std::ostream& out, int fd) {
    auto settings = load_registry_settings();
    if (!settings) return make_error(settings.error().message, 1);
    PullRequest req;
    req.name = name;
    req.platform = platform;
    auto creds = credentials_for(name);
    if (!creds) return creds.error();
    req.credentials = *creds;
    bool terminal = ::isatty(fd) == 1;
    ProgressPrinter printer(out, terminal, terminal ? terminal_width(fd) : 0);
    std::function<void(const PullProgress&)> progress;
    if (!quiet) progress = [&](const PullProgress& p) { printer.show(p); };
    auto r = pull_image(e.images(), req, *settings, progress);
    if (!r) return localized(r.error());
    if (!quiet) out << "Digest: " << r->digest << "\n";
    return r;
}

void print_status(std::ostream& out, bool up_to_date, const std::string& shown) {
    out << "Status: " << (up_to_date ? "Image is up to date for " : "Downloaded newer image for ") << shown << "\n";
}

// `pull -a NAME`: every tag of the repository, one after the other, as moby's pullRepository:
// each tag's progress and Digest line, then one Status line for the repository.
int pull_all_tags(Engine& e, const Command& c, const ImageReference& ref, std::ostream& out, std::ostream& err) {
    if (!ref.tag.empty() || !ref.digest.empty()) {
        err << "tag can't be used with --all-tags/-a\n";
        return 1;
    }
    auto settings = load_registry_settings();
    auto creds = credentials_for(c.args.at(0));
    Result<std::vector<std::string>> tags = !settings ? Result<std::vector<std::string>>(make_error(settings.error().message, 1))
                                            : !creds  ? Result<std::vector<std::string>>(creds.error())
                                                      : list_remote_tags(c.args.at(0), *settings, *creds);
    if (!tags) {
        err << kDaemon << localized(tags.error()).message << "\n";
        return 1;
    }
    bool all_up_to_date = true;
    for (const auto& tag : *tags) {
        ImageReference one = ref;
        one.tag = tag;
        auto r = pull_with_progress(e, one.familiar(), c.platform, c.quiet, out, 1);
        if (!r) {
            err << kDaemon << r.error().message << "\n";
            return 1;
        }
        all_up_to_date = all_up_to_date && r->up_to_date;
    }
    if (!c.quiet) print_status(out, all_up_to_date, ref.familiar_name());
    out << ref.repository() << "\n";
    return 0;
}

}  // namespace

int run_pull_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    const std::string& name = c.args.at(0);
    auto ref = parse_reference(name);
    if (!ref) {
        err << ref.error().message << "\n";
        return 1;
    }
    if (c.all) return pull_all_tags(e, c, *ref, out, err);
    if (ref->tag.empty() && ref->digest.empty() && !c.quiet) out << "Using default tag: latest\n";
    auto r = pull_with_progress(e, name, c.platform, c.quiet, out, 1);
    if (!r) {
        err << kDaemon << r.error().message << "\n";
        return 1;
    }
    if (!c.quiet) print_status(out, r->up_to_date, r->familiar.empty() ? ref->familiar() : r->familiar);
    out << r->full << "\n";
    return 0;
}

std::function<void(const PullProgress&)> progress_printer(std::ostream& out, int fd) {
    const bool terminal = ::isatty(fd) == 1;
    auto printer = std::make_shared<ProgressPrinter>(out, terminal, terminal ? terminal_width(fd) : 0);
    return [printer](const PullProgress& p) { printer->show(p); };
}

Status pull_for_run(Engine& e, const std::string& name, bool announce, std::ostream& err) {
    auto ref = parse_reference_with_default_tag(name);
    if (!ref) return make_error(ref.error().message, 125);
    if (announce) err << "Unable to find image '" << ref->familiar() << "' locally\n";
    auto r = pull_with_progress(e, name, "", false, err, 2);
    if (!r) return make_error(r.error().message, 125);
    print_status(err, r->up_to_date, r->familiar.empty() ? ref->familiar() : r->familiar);
    return {};
}

}  // namespace isolab::cli
