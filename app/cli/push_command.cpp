#include "app/cli/push_command.hpp"
#include "app/cli/registry_commands.hpp"

#include <ostream>

#include "app/cli/pull_command.hpp"
#include "sim/core/i18n.hpp"
#include "sim/engine/engine.hpp"
#include "sim/engine/push.hpp"
#include "sim/engine/reference.hpp"

namespace isolab::cli {

int run_push_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    const std::string& name = c.args.at(0);
    if (!c.disable_content_trust) {
        err << i18n::tr("cli.push.content_trust") << "\n";
        return 1;
    }
    // Docker's client: the platform is parsed first, then the note it prints for --platform.
    if (!c.platform.empty()) {
        if (auto p = parse_platform(c.platform); !p) {
            err << "Invalid platform " << c.platform << p.error().message << "\n";
            return 1;
        }
        out << "\n Info -> Using --platform pushes only the specified platform manifest of a multi-platform image index.\n"
               "         Other components, like attestations, will not be included.\n"
               "         To push the complete multi-platform image, remove the --platform flag.\n"
               "         \n";
    }
    auto ref = parse_reference(name);
    if (!ref) {
        err << ref.error().message << "\n";
        return 1;
    }
    if (c.all && (!ref->tag.empty() || !ref->digest.empty())) {
        err << "tag can't be used with --all-tags/-a\n";
        return 1;
    }
    if (!ref->digest.empty()) {
        err << "cannot push a digest reference\n";
        return 1;
    }
    ImageReference shown = *ref;
    if (!c.all && shown.tag.empty()) {
        shown.tag = "latest";
        if (!c.quiet) out << "Using default tag: latest\n";
    }
    auto settings = load_registry_settings();
    if (!settings) {
        err << "Error response from daemon: " << settings.error().message << "\n";
        return 1;
    }
    auto creds = load_registry_credentials(ref->domain);
    if (!creds) {
        err << "Error response from daemon: " << creds.error().message << "\n";
        return 1;
    }
    PushRequest req;
    req.name = shown.familiar();
    req.all_tags = c.all;
    req.platform = c.platform;
    req.credentials = *creds;
    bool started = false;  // has the daemon's stream begun? (its errors then come bare)
    auto draw = progress_printer(out, 1);
    auto r = push_image(e.images(), req, *settings, [&](const PullProgress& p) {
        started = true;
        if (!c.quiet) draw(p);
    });
    if (!r) {
        err << (started ? "" : "Error response from daemon: ") << localized_registry_error(r.error()).message << "\n";
        return 1;
    }
    if (c.quiet) out << shown.full() << "\n";
    return 0;
}

}  // namespace isolab::cli
