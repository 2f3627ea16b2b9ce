#include "app/cli/export_commands.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <ostream>

#include "sim/core/files.hpp"
#include "sim/core/i18n.hpp"
#include "sim/engine/engine.hpp"
#include "sim/engine/export_import.hpp"
#include "sim/engine/reference.hpp"

namespace isolab::cli {

namespace {

constexpr const char* kDaemon = "Error response from daemon: ";

int fail(std::ostream& err, const std::string& prefix, const Error& e) {
    err << prefix << e.message << "\n";
    return e.exit_code;
}

// filepath.Dir(filepath.Clean(path)), for the cases a learner types.
std::string parent_dir(std::string path) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

}  // namespace

std::string go_path_error(const std::string& op, const std::string& path, int err) {
    std::string reason = std::strerror(err);
    if (!reason.empty()) reason[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(reason[0])));
    return op + " " + path + ": " + reason;
}

std::string reference_format_error(const std::string& name) {
    // Docker's ParseNormalizedNamed (sim/engine/reference.hpp) in its own words.
    auto parsed = parse_reference(name);
    if (!parsed) return parsed.error().message;
    return parsed->digest.empty() ? "" : "invalid reference format";
}

int run_export_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    // Docker's order: the terminal, then the output path, then the daemon.
    if (c.output.empty() && ::isatty(1))
        return fail(err, "", make_error("cowardly refusing to save to a terminal. Use the -o flag or redirect", 1));
    if (!c.output.empty()) {
        std::string dir = parent_dir(c.output);
        struct stat st;
        if (dir != "." && ::stat(dir.c_str(), &st) != 0)
            return fail(err, "",
                        make_error("failed to export container: invalid output path: " + go_path_error("stat", dir, errno), 1));
        if (::stat(c.output.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
            return fail(err, "",
                        make_error("failed to export container: invalid output path: \"" + c.output +
                                       "\" must be a regular file",
                                   1));
    }
    out.flush();
    if (auto s = export_container(e, c.args.at(0), c.output.empty() ? "-" : c.output); !s)
        return fail(err, kDaemon, s.error());
    return 0;
}

int run_import_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    const std::string& source = c.args.at(0);
    if (source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0)
        return fail(err, "isolab: ", make_error(i18n::trf("cli.import.url", {source}), 1));
    if (source != "-") {
        // The client opens the file (Docker's os.Open), so its error has no daemon prefix.
        UniqueFd fd(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd.valid()) return fail(err, "", make_error(go_path_error("open", source, errno), 1));
        struct stat st;
        if (::fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode))
            return fail(err, "", make_error("read " + source + ": is a directory", 1));
    }
    ImportOptions o;
    o.source = source;
    o.tag = c.args.size() > 1 ? c.args[1] : "";
    if (!o.tag.empty()) {
        if (std::string bad = reference_format_error(o.tag); !bad.empty()) return fail(err, "", make_error(bad, 1));
    }
    o.message = c.message;
    o.changes = c.changes;
    auto id = import_image(e, o);
    if (!id) return fail(err, kDaemon, id.error());
    out << *id << "\n";
    return 0;
}

}  // namespace isolab::cli
