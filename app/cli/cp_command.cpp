#include "app/cli/cp_command.hpp"

#include <unistd.h>

#include <ostream>

#include "app/cli/list_format.hpp"
#include "sim/engine/container_copy.hpp"
#include "sim/engine/engine.hpp"

namespace isolab::cli {

std::string resolve_local_path(const std::string& path) {
    std::string abs = path;
    if (abs.empty() || abs[0] != '/') {
        char buf[4096];
        const char* cwd = ::getcwd(buf, sizeof buf);
        abs = std::string(cwd ? cwd : "/") + "/" + path;
    }
    return preserve_trailing_dot_or_separator(go_clean(abs), path);
}

int run_cp_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    auto fail = [&](const std::string& message) {
        err << message << "\n";
        return 1;
    };
    const std::string& source = c.args.at(0);
    const std::string& destination = c.args.at(1);
    if (source.empty()) return fail("source can not be empty");
    if (destination.empty()) return fail("destination can not be empty");
    // Docker: no -q given means quiet unless stdout is a terminal.
    const bool quiet = c.quiet || !::isatty(1);
    const CpArg src = split_cp_arg(source);
    const CpArg dst = split_cp_arg(destination);
    CopyOptions o;
    o.follow_link = c.follow_link;
    o.archive = c.archive;
    out.flush();
    Result<CopyResult> done = make_error("", 1);
    if (!src.container.empty() && !dst.container.empty()) return fail("copying between containers is not supported");
    if (!src.container.empty()) {
        const std::string to = dst.path == "-" ? "-" : resolve_local_path(dst.path);
        done = copy_from_container(e.store(), src.container, src.path, to, 1, o);
        if (done && to == "-") return 0;  // a tar on stdout: no summary
    } else if (!dst.container.empty()) {
        const std::string from = src.path == "-" ? "-" : resolve_local_path(src.path);
        done = copy_to_container(e.store(), dst.container, from, dst.path, 0, o);
    } else {
        return fail("must specify at least one container source");
    }
    if (!done) return fail(done.error().message);
    if (!quiet) err << "Successfully copied " << go_human_size(done->bytes, 3) << " to " << done->shown_dest << "\n";
    return 0;
}

}  // namespace isolab::cli
