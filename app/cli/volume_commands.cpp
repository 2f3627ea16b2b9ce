#include "app/cli/volume_commands.hpp"

#include <algorithm>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "app/cli/commands.hpp"
#include "app/cli/filters.hpp"
#include "app/cli/go_template.hpp"
#include "app/cli/list_format.hpp"
#include "app/cli/prune_commands.hpp"
#include "sim/core/strings.hpp"
#include "sim/engine/engine.hpp"
#include "sim/engine/volume_actions.hpp"

namespace isolab::cli {

using nlohmann::json;

namespace {

constexpr const char* kDaemon = "Error response from daemon: ";

int fail(std::ostream& err, const Error& e) {
    err << kDaemon << e.message << "\n";
    return e.exit_code;
}

// Go's strconv.ParseBool, which moby's withPrune uses on the `all` filter.
std::optional<bool> go_bool(const std::string& s) {
    if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
    if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") return false;
    return std::nullopt;
}

// Docker 28's `volume ls --format` struct, *formatter.volumeContext: every field a string; the
// cluster fields and the usage data (not asked for by a listing) are "N/A".
constexpr const char* kVolumeContext = "*formatter.volumeContext";

json ls_row(const Volume& v) {
    return {{"Availability", "N/A"}, {"Driver", "local"},       {"Group", "N/A"},
            {"Labels", labels_text(volume_labels(v))},          {"Links", "N/A"},
            {"Mountpoint", v.mountpoint}, {"Name", v.name},     {"Scope", "local"},
            {"Size", "N/A"},              {"Status", "N/A"}};
}

int volume_create(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    VolumeStore volumes(e.store().root());
    auto v = create_volume(e.store(), volumes, c.args.empty() ? "" : c.args[0], c.volume_labels);
    if (!v) return fail(err, v.error());
    out << v->name << "\n";
    return 0;
}

int volume_ls(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    VolumeStore volumes(e.store().root());
    const auto all = volumes.list();
    const auto users = volume_user_map(e.store());
    std::vector<bool> used;
    for (const auto& v : all) used.push_back(users.count(v.name) != 0);
    auto shown = filter_volumes(all, used, c.filters);
    if (!shown) return fail(err, shown.error());
    const bool table = c.format.empty() || is_default_table(c.format);
    if (c.quiet && table) {  // Docker's quiet format is {{.Name}}; a template of one's own wins
        for (const auto& v : *shown) out << v.name << "\n";
        return 0;
    }
    if (!table) {
        std::vector<json> rows;
        for (const auto& v : *shown) rows.push_back(ls_row(v));
        auto printed = print_formatted(c.format, rows,
                                       {{"Name", "VOLUME NAME"}, {"Driver", "DRIVER"}, {"Scope", "SCOPE"},
                                        {"Mountpoint", "MOUNTPOINT"}, {"Labels", "LABELS"}, {"Links", "LINKS"},
                                        {"Size", "SIZE"}, {"Group", "GROUP"}, {"Availability", "AVAILABILITY"},
                                        {"Status", "STATUS"}},
                                       kVolumeContext, out);
        if (!printed) {
            err << printed.error().message << "\n";
            return printed.error().exit_code;
        }
        return 0;
    }
    std::vector<std::vector<std::string>> rows = {{"DRIVER", "VOLUME NAME"}};
    for (const auto& v : *shown) rows.push_back({"local", v.name});
    out << format_table(rows, 10);
    return 0;
}

int volume_inspect(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    std::optional<GoTemplate> tmpl;
    if (!c.format.empty()) {
        auto parsed = parse_inspect_format(c.format);
        if (!parsed) {
            err << parsed.error().message << "\n";
            return parsed.error().exit_code;
        }
        tmpl = std::move(*parsed);
    }
    VolumeStore volumes(e.store().root());
    json arr = json::array();
    std::string missing;  // as Docker: what was found is printed first, then an error per name
    for (const auto& name : c.args) {
        auto v = volumes.get(name);
        if (!v) {
            missing += std::string(kDaemon) + v.error().message + "\n";
            continue;
        }
        arr.push_back(volume_inspect_json(*v));
    }
    return finish_inspect(tmpl, arr, missing, out, err);
}

int volume_rm(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    VolumeStore volumes(e.store().root());
    std::string errors;  // Docker's client prints them all after the names it removed
    for (const auto& name : c.args) {
        if (auto s = remove_volume(e.store(), volumes, name, c.force); !s) {
            errors += std::string(kDaemon) + s.error().message + "\n";
            continue;
        }
        out << name << "\n";
    }
    out.flush();
    err << errors;
    return errors.empty() ? 0 : 1;
}

int volume_prune(Engine& e, const Command& c, std::istream& in, std::ostream& out, std::ostream& err) {
    // The client's check, before the question.
    bool filter_all = false;
    for (const auto& w : c.filters) filter_all = filter_all || w.rfind("all=", 0) == 0;
    if (c.all && filter_all) {
        err << "conflicting options: cannot specify both --all and --filter all=1\n";
        return 1;
    }
    const char* warning = c.all ? "WARNING! This will remove all local volumes not used by at least one container.\n"
                                  "Are you sure you want to continue?"
                                : "WARNING! This will remove anonymous local volumes not used by at least one "
                                  "container.\nAre you sure you want to continue?";
    if (!c.force && !confirm(in, out, warning)) return 0;
    bool all = c.all;
    auto matches = volume_prune_filter(c.filters, &all);
    if (!matches) return fail(err, matches.error());
    VolumeStore volumes(e.store().root());
    auto report = prune_volumes(e.store(), volumes, all, *matches);
    if (!report) return fail(err, report.error());
    if (!report->deleted.empty()) {
        out << "Deleted Volumes:\n";
        for (const auto& name : report->deleted) out << name << "\n";
        out << "\n";
    }
    out << "Total reclaimed space: " << go_human_size(static_cast<double>(report->reclaimed)) << "\n";
    return 0;
}

}  // namespace

Result<std::vector<Volume>> filter_volumes(const std::vector<Volume>& all, const std::vector<bool>& used,
                                           const std::vector<std::string>& filter_words) {
    auto filters = FilterArgs::parse(filter_words);
    if (!filters) return filters.error();
    ISOLAB_TRY(filters->validate({"dangling", "driver", "label", "name"}));
    auto dangling = filters->get_bool_or_default("dangling", false);
    if (!dangling) return dangling.error();
    std::vector<Volume> out;
    for (size_t i = 0; i < all.size(); ++i) {
        const Volume& v = all[i];
        if (filters->contains("driver") && !filters->exact_match("driver", "local")) continue;
        if (filters->contains("name") && !filters->match("name", v.name)) continue;
        if (filters->contains("label") && !filters->match_kv_list("label", volume_labels(v))) continue;
        const bool in_use = i < used.size() && used[i];
        if (filters->contains("dangling") && in_use == *dangling) continue;
        out.push_back(v);
    }
    std::sort(out.begin(), out.end(), [](const Volume& a, const Volume& b) { return natural_less(a.name, b.name); });
    return out;
}

Result<std::function<bool(const Volume&)>> volume_prune_filter(const std::vector<std::string>& words, bool* all) {
    auto filters = FilterArgs::parse(words);
    if (!filters) return filters.error();
    ISOLAB_TRY(filters->validate({"all", "label", "label!"}));
    // moby's withPrune.
    const auto& values = filters->get("all");
    if (values.size() > 1) {
        std::string list;
        for (const auto& v : values) list += (list.empty() ? "" : " ") + v;
        return make_error("invalid filter 'all=[" + list + "]': only one value is expected", 1);
    }
    if (values.size() == 1) {
        auto b = go_bool(values[0]);
        if (!b) return make_error("invalid filter 'all': strconv.ParseBool: parsing \"" + values[0] + "\": invalid syntax", 1);
        if (*b && all) *all = true;
    }
    FilterArgs f = *filters;
    return std::function<bool(const Volume&)>([f](const Volume& v) {
        const auto labels = volume_labels(v);
        if (!f.match_kv_list("label", labels)) return false;
        if (f.contains("label!") && f.match_kv_list("label!", labels)) return false;
        return true;
    });
}

bool is_volume_verb(const std::string& verb) {
    return verb == "volume create" || verb == "volume ls" || verb == "volume inspect" || verb == "volume rm" ||
           verb == "volume prune";
}

int run_volume_command(Engine& e, const Command& c, std::istream& in, std::ostream& out, std::ostream& err) {
    const std::string& v = c.verb;
    if (v == "volume create") return volume_create(e, c, out, err);
    if (v == "volume ls") return volume_ls(e, c, out, err);
    if (v == "volume inspect") return volume_inspect(e, c, out, err);
    if (v == "volume rm") return volume_rm(e, c, out, err);
    if (v == "volume prune") return volume_prune(e, c, in, out, err);
    err << "isolab: '" << v << "' is not a volume command\n";
    return 1;
}

}  // namespace isolab::cli
