#include "app/cli/prune_commands.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "app/cli/commands.hpp"
#include "app/cli/go_template.hpp"
#include "app/cli/list_format.hpp"
#include "app/cli/volume_commands.hpp"
#include "sim/core/clock.hpp"
#include "sim/core/i18n.hpp"
#include "sim/core/strings.hpp"
#include "sim/engine/build.hpp"
#include "sim/engine/engine.hpp"
#include "sim/engine/volume_actions.hpp"
#include "sim/runtime/json_log.hpp"

namespace isolab::cli {

using nlohmann::json;

std::string go_human_size(double bytes, int precision) {
    static const char* const kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
    size_t unit = 0;
    while (bytes >= 1000.0 && unit + 1 < std::size(kUnits)) {
        bytes /= 1000.0;
        ++unit;
    }
    // std::to_chars: %g's digits without the locale's decimal point.
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, bytes, std::chars_format::general, precision);
    return std::string(buf, res.ptr) + kUnits[unit];
}

bool confirm(std::istream& in, std::ostream& out, std::string_view message) {
    out << message << " [y/N] " << std::flush;
    std::string line;
    if (!std::getline(in, line)) return false;
    line = trim(line);
    return line == "y" || line == "Y";
}

std::string system_prune_warning(bool all, bool volumes, const std::vector<std::string>& filters) {
    std::vector<std::string> warnings = {"all stopped containers", "all networks not used by at least one container"};
    if (volumes) warnings.push_back("all anonymous volumes not used by at least one container");
    warnings.push_back(all ? "all images without at least one container associated to them" : "all dangling images");
    warnings.push_back(all ? "all build cache" : "unused build cache");
    std::string text = "WARNING! This will remove:";
    for (const auto& w : warnings) text += "\n  - " + w;
    // Docker names only these three, each value once, in natural order.
    std::set<std::string> shown;
    for (const auto& f : filters) {
        std::string name = f.substr(0, f.find('='));
        if (name == "label" || name == "label!" || name == "until") shown.insert(f);
    }
    std::vector<std::string> sorted(shown.begin(), shown.end());
    std::sort(sorted.begin(), sorted.end(), natural_less);
    text += "\n";
    if (!sorted.empty()) {
        text += "\n  Items to be pruned will be filtered with:";
        for (const auto& f : sorted) text += "\n  - " + f;
        text += "\n";
    }
    return text + "\nAre you sure you want to continue?";
}

Result<PruneFilters> parse_prune_filters(const std::vector<std::string>& words,
                                         const std::vector<std::string>& accepted, int64_t now_ns) {
    auto args = FilterArgs::parse(words);
    if (!args) return args.error();
    ISOLAB_TRY(args->validate(accepted));
    PruneFilters out{*args, std::nullopt};
    // Docker's getUntilFromPruneFilters.
    const auto& until = out.args.get("until");
    if (until.size() > 1) return make_error("more than one until filter specified", 1);
    if (!until.empty()) {
        auto t = parse_log_time(until[0], now_ns);
        if (!t) return make_error(t.error().message, 1);
        out.until_ns = *t;
    }
    return out;
}

bool prune_filters_match(const PruneFilters& f, const std::string& created,
                         const std::map<std::string, std::string>& labels) {
    if (f.until_ns && rfc3339_to_unix_ns(created) > *f.until_ns) return false;
    if (!f.args.match_kv_list("label", labels)) return false;
    if (f.args.contains("label!") && f.args.match_kv_list("label!", labels)) return false;
    return true;
}

bool is_prune_verb(std::string_view verb) {
    return verb == "container prune" || verb == "image prune" || verb == "network prune" || verb == "system prune" ||
           verb == "system df";
}

namespace {

constexpr const char* kDaemon = "Error response from daemon: ";

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string since(const std::string& rfc3339) {
    int64_t t = rfc3339_to_unix_ns(rfc3339);
    int64_t s = t == 0 ? 0 : (now_ns() - t) / 1000000000LL;
    return human_duration(s) + " ago";
}

// What removing the container frees: its writable layer, or its whole copy without overlayfs.
int64_t writable_size(Engine& e, const ContainerRecord& r) {
    if (r.backend == Backend::Simulated) return 0;
    return ImageStore::layer_size(e.store().container_dir(r.id) +
                                  (r.rootfs_mode == RootfsMode::Copy ? "/rootfs" : "/upper"));
}

bool has_process_or_will(ContainerState s) {
    switch (s) {
        case ContainerState::Created:
        case ContainerState::Exited:
        case ContainerState::Dead: return false;
        case ContainerState::Running:
        case ContainerState::Paused:
        case ContainerState::Restarting:
        case ContainerState::Removing: return true;
    }
    return true;
}

std::map<std::string, std::string> image_labels(const Image& img) {
    std::map<std::string, std::string> out;
    const json labels = img.config.value("config", json::object()).value("Labels", json::object());
    if (labels.is_object())
        for (const auto& [k, v] : labels.items())
            if (v.is_string()) out[k] = v.get<std::string>();
    return out;
}

struct Pruned {
    std::vector<std::string> lines;  // what Docker lists under its heading
    uint64_t bytes = 0;
};

const std::vector<std::string> kLabelUntil = {"label", "label!", "until"};

Result<Pruned> prune_containers(Engine& e, const std::vector<std::string>& filters) {
    auto f = parse_prune_filters(filters, kLabelUntil, now_ns());
    if (!f) return f.error();
    Pruned out;
    for (const auto& r : e.list(true)) {
        if (has_process_or_will(r.state)) continue;
        // A build's intermediate container is the build's to remove (build.hpp), also after a crash.
        if (r.spec.labels.count(kBuildOwnerLabel)) continue;
        if (!prune_filters_match(*f, r.created, r.spec.labels)) continue;
        int64_t size = writable_size(e, r);
        // One that started since the list is refused by remove and stays, as in Docker.
        if (!e.remove(r.id, false)) continue;
        out.lines.push_back(r.id);
        out.bytes += static_cast<uint64_t>(size);
    }
    return out;
}

Result<Pruned> prune_networks(Engine& e, const std::vector<std::string>& filters) {
    auto f = parse_prune_filters(filters, kLabelUntil, now_ns());
    if (!f) return f.error();
    Pruned out;
    for (const auto& n : e.networks().list()) {
        if (n.builtin || !prune_filters_match(*f, n.created, n.labels)) continue;
        if (!e.network_members(n.name).empty()) continue;
        if (e.remove_network(n.name)) out.lines.push_back(n.name);
    }
    return out;
}

Result<Pruned> prune_images(Engine& e, bool all, std::vector<std::string> filters) {
    filters.push_back(std::string("dangling=") + (all ? "false" : "true"));  // what Docker's client adds
    auto f = parse_prune_filters(filters, {"dangling", "label", "label!", "until"}, now_ns());
    if (!f) return f.error();
    auto dangling = f->args.get_bool_or_default("dangling", true);
    if (!dangling) return dangling.error();
    const bool dangling_only = *dangling;
    std::set<std::string> used;
    for (const auto& r : e.list(true)) used.insert(r.image_id);
    auto images = e.images().list();
    std::sort(images.begin(), images.end(), [](const Image& a, const Image& b) {
        return a.config.value("created", "") > b.config.value("created", "");
    });
    Pruned out;
    for (const auto& img : images) {
        if (used.count(img.id)) continue;
        if (!prune_filters_match(*f, img.config.value("created", ""), image_labels(img))) continue;
        if (dangling_only && !img.repo_tags.empty()) continue;
        std::map<std::string, int64_t> layer_bytes;  // "sha256:<hex>" -> bytes, measured before removal
        for (const auto& dir : img.layer_dirs)
            layer_bytes["sha256:" + dir.substr(dir.rfind('/') + 1)] = ImageStore::layer_size(dir);
        std::vector<std::string> refs = img.repo_tags;
        std::sort(refs.begin(), refs.end());
        if (refs.empty()) refs.push_back(img.id);
        for (const auto& ref : refs) {
            std::vector<std::string> report;
            if (!e.images().remove(ref, &report)) break;
            for (const auto& line : report) {
                // rmi's "Untagged: x" / "Deleted: sha256:..." as the prune report words them.
                if (line.rfind("Untagged: ", 0) == 0) {
                    out.lines.push_back("untagged: " + line.substr(10));
                } else if (line.rfind("Deleted: ", 0) == 0) {
                    std::string id = line.substr(9);
                    out.lines.push_back("deleted: " + id);
                    if (auto it = layer_bytes.find(id); it != layer_bytes.end() && id != img.id)
                        out.bytes += static_cast<uint64_t>(it->second);
                }
            }
        }
    }
    return out;
}

Result<Pruned> prune_unused_volumes(Engine& e, const std::vector<std::string>& filters) {
    bool all = false;  // an `all=true` among system prune's filters is the daemon's, as in Docker
    auto matches = volume_prune_filter(filters, &all);
    if (!matches) return matches.error();
    auto report = prune_volumes(e.store(), VolumeStore(e.store().root()), all, *matches);
    if (!report) return report.error();
    return Pruned{report->deleted, report->reclaimed};
}

Pruned prune_build_cache(Engine& e, bool all) {
    Pruned out;
    for (const auto& entry : e.images().build_cache()) {
        if (!all && !entry.dangling) continue;
        if (!e.images().remove_build_cache(entry.key)) continue;
        out.lines.push_back(entry.key);
        out.bytes += static_cast<uint64_t>(entry.size);
    }
    return out;
}

// Docker prints each section's text with Println: the heading, one line each, an empty line.
void print_section(std::ostream& out, const char* heading, const Pruned& p) {
    if (p.lines.empty()) return;
    out << heading << "\n";
    for (const auto& l : p.lines) out << l << "\n";
    out << "\n";
}

int fail(std::ostream& err, const Error& e) {
    err << kDaemon << e.message << "\n";
    return e.exit_code;
}

void print_total(std::ostream& out, uint64_t bytes) {
    out << "Total reclaimed space: " << go_human_size(static_cast<double>(bytes)) << "\n";
}

int cmd_container_prune(Engine& e, const Command& c, std::istream& in, std::ostream& out, std::ostream& err) {
    if (!c.force && !confirm(in, out, "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?"))
        return 0;
    auto p = prune_containers(e, c.filters);
    if (!p) return fail(err, p.error());
    print_section(out, "Deleted Containers:", *p);
    print_total(out, p->bytes);
    return 0;
}

int cmd_image_prune(Engine& e, const Command& c, std::istream& in, std::ostream& out, std::ostream& err) {
    const char* warning =
        c.all ? "WARNING! This will remove all images without at least one container associated to them.\n"
                "Are you sure you want to continue?"
              : "WARNING! This will remove all dangling images.\nAre you sure you want to continue?";
    if (!c.force && !confirm(in, out, warning)) return 0;
    auto p = prune_images(e, c.all, c.filters);
    if (!p) return fail(err, p.error());
    print_section(out, "Deleted Images:", *p);
    print_total(out, p->bytes);
    return 0;
}

int cmd_network_prune(Engine& e, const Command& c, std::istream& in, std::ostream& out, std::ostream& err) {
    if (!c.force && !confirm(in, out,
                             "WARNING! This will remove all custom networks not used by at least one container.\n"
                             "Are you sure you want to continue?"))
        return 0;
    auto p = prune_networks(e, c.filters);
    if (!p) return fail(err, p.error());
    print_section(out, "Deleted Networks:", *p);  // Docker reports no space for networks
    return 0;
}

int cmd_system_prune(Engine& e, const Command& c, std::istream& in, std::ostream& out, std::ostream& err) {
    // Docker's client refuses this before asking (moby's volume prune has no `until`).
    if (c.volumes && std::any_of(c.filters.begin(), c.filters.end(),
                                 [](const std::string& f) { return f.rfind("until=", 0) == 0; })) {
        err << "ERROR: The \"until\" filter is not supported with \"--volumes\"\n";
        return 1;
    }
    if (!c.force && !confirm(in, out, system_prune_warning(c.all, c.volumes, c.filters))) return 0;
    uint64_t total = 0;
    // Docker's order: containers first, so that the networks and images they held are free.
    auto containers = prune_containers(e, c.filters);
    if (!containers) return fail(err, containers.error());
    print_section(out, "Deleted Containers:", *containers);
    total += containers->bytes;
    auto networks = prune_networks(e, c.filters);
    if (!networks) return fail(err, networks.error());
    print_section(out, "Deleted Networks:", *networks);
    // --volumes: anonymous volumes no container uses, never named ones (Docker's client sends no
    // `all` here, whatever -a says), with the label filters.
    if (c.volumes) {
        auto volumes = prune_unused_volumes(e, c.filters);
        if (!volumes) return fail(err, volumes.error());
        print_section(out, "Deleted Volumes:", *volumes);
        total += volumes->bytes;
    }
    auto images = prune_images(e, c.all, c.filters);
    if (!images) return fail(err, images.error());
    print_section(out, "Deleted Images:", *images);
    total += images->bytes;
    Pruned cache = prune_build_cache(e, c.all);
    print_section(out, "Deleted build cache objects:", cache);
    total += cache.bytes;
    print_total(out, total);
    return 0;
}

// ---- system df ------------------------------------------------------------------------------

struct ImageUsage {
    const Image* image;
    int64_t size = 0, shared = 0;
    int containers = 0;
};

int cmd_system_df(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    const bool table = c.format.empty() || is_default_table(c.format);
    if (c.verbose && !table) {
        err << i18n::tr("prune.df_verbose_format") << "\n";
        return 1;
    }
    auto images = e.images().list();
    std::sort(images.begin(), images.end(), [](const Image& a, const Image& b) {
        return a.config.value("created", "") > b.config.value("created", "");
    });
    const auto containers = e.list(true);
    const auto cache = e.images().build_cache();

    // Images: a layer counts once in the total; an image's shared part is what another image
    // also names.
    std::map<std::string, int> layer_users;
    std::map<std::string, int64_t> layer_bytes;
    for (const auto& img : images)
        for (const auto& l : std::set<std::string>(img.layer_dirs.begin(), img.layer_dirs.end())) {
            ++layer_users[l];
            if (!layer_bytes.count(l)) layer_bytes[l] = ImageStore::layer_size(l);
        }
    int64_t layers_size = 0;
    for (const auto& [l, b] : layer_bytes) layers_size += b;
    std::vector<ImageUsage> usage;
    int active_images = 0;
    int64_t used = 0;
    for (const auto& img : images) {
        ImageUsage u{&img};
        for (const auto& l : std::set<std::string>(img.layer_dirs.begin(), img.layer_dirs.end())) {
            u.size += layer_bytes[l];
            if (layer_users[l] > 1) u.shared += layer_bytes[l];
        }
        for (const auto& r : containers) u.containers += r.image_id == img.id;
        if (u.containers > 0) {
            ++active_images;
            used += u.size - u.shared;  // Docker's arithmetic: shared layers stay reclaimable
        }
        usage.push_back(u);
    }
    auto with_percent = [](int64_t reclaimable, int64_t total) {
        std::string s = go_human_size(static_cast<double>(reclaimable));
        return total > 0 ? s + " (" + std::to_string(reclaimable * 100 / total) + "%)" : s;
    };

    int active_containers = 0;
    int64_t containers_size = 0, containers_reclaimable = 0;
    std::vector<int64_t> container_sizes;
    for (const auto& r : containers) {
        int64_t s = writable_size(e, r);
        container_sizes.push_back(s);
        containers_size += s;
        bool active = r.state == ContainerState::Running || r.state == ContainerState::Paused ||
                      r.state == ContainerState::Restarting;
        if (active) ++active_containers;
        else containers_reclaimable += s;
    }
    int64_t cache_size = 0;
    for (const auto& entry : cache) cache_size += entry.size;

    // Volumes: Docker's diskUsageVolumesContext. Active = mounted by a container (any state);
    // reclaimable = the sizes of the others.
    const VolumeStore volume_store(e.store().root());
    auto volumes = volume_store.list();
    std::sort(volumes.begin(), volumes.end(), [](const Volume& a, const Volume& b) { return natural_less(a.name, b.name); });
    const auto users = volume_user_map(e.store());
    std::vector<int64_t> volume_sizes;
    int active_volumes = 0;
    int64_t volumes_size = 0, volumes_reclaimable = 0;
    for (const auto& v : volumes) {
        const int64_t size = volume_store.size_bytes(v.name);
        volume_sizes.push_back(size);
        volumes_size += size;
        if (users.count(v.name)) ++active_volumes;
        else volumes_reclaimable += size;
    }

    if (!c.verbose) {
        auto row = [](const char* type, size_t total, int active, std::string size, std::string reclaimable) {
            return json{{"Type", type},
                        {"TotalCount", std::to_string(total)},
                        {"Active", std::to_string(active)},
                        {"Size", std::move(size)},
                        {"Reclaimable", std::move(reclaimable)}};
        };
        std::vector<json> rows = {
            row("Images", images.size(), active_images, go_human_size(static_cast<double>(layers_size)),
                with_percent(layers_size - used, layers_size)),
            row("Containers", containers.size(), active_containers, go_human_size(static_cast<double>(containers_size)),
                with_percent(containers_reclaimable, containers_size)),
            row("Local Volumes", volumes.size(), active_volumes, go_human_size(static_cast<double>(volumes_size)),
                with_percent(volumes_reclaimable, volumes_size)),
            row("Build Cache", cache.size(), 0, go_human_size(static_cast<double>(cache_size)),
                go_human_size(static_cast<double>(cache_size))),
        };
        if (table) {
            std::vector<std::vector<std::string>> t = {{"TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"}};
            for (const auto& r : rows)
                t.push_back({r["Type"], r["TotalCount"], r["Active"], r["Size"], r["Reclaimable"]});
            out << format_table(t, 10);
            return 0;
        }
        auto printed = print_formatted(c.format, rows,
                                       {{"Type", "TYPE"}, {"TotalCount", "TOTAL"}, {"Active", "ACTIVE"},
                                        {"Size", "SIZE"}, {"Reclaimable", "RECLAIMABLE"}},
                                       "*formatter.diskUsageImagesContext", out);
        if (!printed) {
            err << printed.error().message << "\n";
            return printed.error().exit_code;
        }
        return 0;
    }

    // -v: one table per kind, each aligned on its own (Docker's subsections).
    std::vector<std::vector<std::string>> it = {
        {"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"}};
    for (const auto& u : usage) {
        std::string repo = "<none>", tag = "<none>";
        std::vector<std::string> tags = u.image->repo_tags;
        std::sort(tags.begin(), tags.end());
        if (!tags.empty()) {  // Docker shows the first name only
            size_t colon = tags[0].rfind(':');
            repo = tags[0].substr(0, colon);
            tag = tags[0].substr(colon + 1);
        }
        it.push_back({repo, tag, u.image->id.substr(7, 12), since(u.image->config.value("created", "")),
                      go_human_size(static_cast<double>(u.size), 3), go_human_size(static_cast<double>(u.shared)),
                      go_human_size(static_cast<double>(u.size - u.shared)), std::to_string(u.containers)});
    }
    out << "Images space usage:\n\n" << format_table(it, 10);
    std::vector<std::vector<std::string>> ct = {
        {"CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS", "NAMES"}};
    for (size_t i = 0; i < containers.size(); ++i) {
        const auto& r = containers[i];
        ct.push_back({r.id.substr(0, 12), r.spec.image, "\"" + docker_ellipsis(command_line(r.path_args), 20) + "\"",
                      std::to_string(local_volume_count(r)), go_human_size(static_cast<double>(container_sizes[i]), 3),
                      since(r.created),
                      container_status_column(r), r.name});
    }
    out << "\nContainers space usage:\n\n" << format_table(ct, 10);
    std::vector<std::vector<std::string>> vt = {{"VOLUME NAME", "LINKS", "SIZE"}};
    for (size_t i = 0; i < volumes.size(); ++i) {
        auto it = users.find(volumes[i].name);
        vt.push_back({volumes[i].name, std::to_string(it == users.end() ? 0 : it->second.size()),
                      go_human_size(static_cast<double>(volume_sizes[i]))});
    }
    out << "\nLocal Volumes space usage:\n\n" << format_table(vt, 10);
    out << "\nBuild cache usage: " << go_human_size(static_cast<double>(cache_size)) << "\n\n";
    std::vector<std::vector<std::string>> bt = {
        {"CACHE ID", "CACHE TYPE", "SIZE", "CREATED", "LAST USED", "USAGE", "SHARED"}};
    for (const auto& entry : cache) {
        // IsoLab records no use of an entry: LAST USED and USAGE stay empty rather than guessed.
        int64_t age = std::max<int64_t>(0, now_ns() / 1000000000LL - entry.modified_unix);
        bt.push_back({entry.key.substr(0, 12), "regular", go_human_size(static_cast<double>(entry.size), 3),
                      human_duration(age) + " ago", "", "", "false"});
    }
    out << format_table(bt, 10);
    return 0;
}

}  // namespace

int run_prune_command(Engine& e, const Command& c, std::istream& in, std::ostream& out, std::ostream& err) {
    const std::string& v = c.verb;
    if (v == "container prune") return cmd_container_prune(e, c, in, out, err);
    if (v == "image prune") return cmd_image_prune(e, c, in, out, err);
    if (v == "network prune") return cmd_network_prune(e, c, in, out, err);
    if (v == "system prune") return cmd_system_prune(e, c, in, out, err);
    if (v == "system df") return cmd_system_df(e, c, out, err);
    err << "isolab: '" << v << "' is not a prune command\n";
    return 1;
}

}  // namespace isolab::cli
