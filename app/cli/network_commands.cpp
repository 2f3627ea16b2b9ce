#include "app/cli/network_commands.hpp"

#include <unistd.h>

#include <iostream>
#include <map>
#include <optional>

#include "app/cli/commands.hpp"
#include "app/cli/filters.hpp"
#include "app/cli/list_format.hpp"
#include "app/cli/go_template.hpp"
#include "sim/net/networks.hpp"
#include "sim/vm/vm_manager.hpp"

namespace isolab::cli {

using nlohmann::json;

namespace {

int fail(std::ostream& err, const Error& e) {
    err << "Error response from daemon: " << e.message << "\n";
    return e.exit_code;
}

// Docker's `docker network inspect` shape.
json inspect_json(Engine& e, const net::Network& n) {
    json containers = json::object();
    for (const auto& [rec, ep] : e.network_members(n.name)) {
        containers[rec.id] = {{"Name", rec.name},
                              {"EndpointID", ep.host_veth},
                              {"MacAddress", ep.mac},
                              {"IPv4Address", ep.ip.empty() ? "" : ep.ip + "/" + std::to_string(ep.prefix)},
                              {"IPv6Address", ""}};
    }
    json config = json::array();
    if (!n.subnet.empty()) config.push_back({{"Subnet", n.subnet}, {"Gateway", n.gateway}});
    json options = json::object();
    if (!n.bridge.empty()) options["com.docker.network.bridge.name"] = n.bridge;
    json out = {{"Name", n.name},
                {"Id", n.id},
                {"Created", n.created},
                {"Scope", "local"},
                {"Driver", driver_name(n.driver)},
                {"EnableIPv6", false},
                {"IPAM", {{"Driver", "default"}, {"Options", json::object()}, {"Config", config}}},
                {"Internal", n.internal},
                {"Attachable", false},
                {"Containers", containers},
                {"Options", options},
                {"Labels", n.labels}};
    if (!n.note.empty()) out["IsoLab"] = {{"Note", n.note}};
    return out;
}

// Docker's `docker network ls` formats a *formatter.networkContext (Docker 28's fields below).
constexpr const char* kNetworkContext = "*formatter.networkContext";

// `network ls [-f KEY=VALUE]... [-q] [--no-trunc] [--format F]`: filters.hpp decides which networks.
int network_ls(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    // The filter words were checked by the parser (a word without '=' is a flag error).
    const std::vector<std::string>& words = c.filters;
    const bool quiet = c.quiet;
    const bool no_trunc = c.no_trunc;
    const std::string& format = c.format;
    auto filters = FilterArgs::parse(words);
    if (!filters) return fail(err, filters.error());
    auto list = e.networks().list();
    if (list.size() < 3) {
        (void)e.networks().get("bridge");  // the pre-defined three are made on first use
        list = e.networks().list();
    }
    std::vector<bool> in_use;
    if (filters->contains("dangling"))
        for (const auto& n : list) in_use.push_back(!e.network_members(n.name).empty());
    auto shown = filter_networks(list, in_use, *filters);
    if (!shown) return fail(err, shown.error());
    auto id_of = [&](const net::Network& n) { return no_trunc ? n.id : n.id.substr(0, 12); };
    if (quiet) {
        for (const auto& n : *shown) out << id_of(n) << "\n";
        return 0;
    }
    if (!format.empty() && !is_default_table(format)) {
        std::vector<json> rows;
        for (const auto& n : *shown)
            rows.push_back({{"CreatedAt", go_time_text(n.created, true)},
                            {"Driver", net::driver_name(n.driver)},
                            {"ID", id_of(n)},
                            {"IPv4", "true"},
                            {"IPv6", "false"},
                            {"Internal", n.internal ? "true" : "false"},
                            {"Labels", labels_text(n.labels)},
                            {"Name", n.name},
                            {"Scope", "local"}});
        auto printed = print_formatted(format, rows,
                                       {{"ID", "NETWORK ID"}, {"Name", "NAME"}, {"Driver", "DRIVER"}, {"Scope", "SCOPE"},
                                        {"IPv4", "IPV4"}, {"IPv6", "IPV6"}, {"Internal", "INTERNAL"},
                                        {"Labels", "LABELS"}, {"CreatedAt", "CREATED AT"}},
                                       kNetworkContext, out);
        if (!printed) {
            err << printed.error().message << "\n";
            return printed.error().exit_code;
        }
        return 0;
    }
    std::vector<std::vector<std::string>> rows = {{"NETWORK ID", "NAME", "DRIVER", "SCOPE"}};
    for (const auto& n : *shown) rows.push_back({id_of(n), n.name, net::driver_name(n.driver), "local"});
    out << format_table(rows);
    return 0;
}

}  // namespace

// The verbs "network create", "network ls", ... (app/cli/args.cpp parses their flags as Docker's
// client does: an unknown flag is an error, never ignored).
int run_network_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    const std::string& v = c.verb;
    const std::vector<std::string>& words = c.args;
    if (v == "network create") {
        if (!c.network_driver.empty() && c.network_driver != "bridge")
            return fail(err, make_error("plugin \"" + c.network_driver + "\" not found (IsoLab networks are bridges)", 1));
        std::map<std::string, std::string> labels;
        for (const auto& l : c.network_labels) {
            size_t eq = l.find('=');
            labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
        }
        auto n = e.create_network(words[0], c.subnet, c.internal, labels);
        if (!n) return fail(err, n.error());
        out << n->id << "\n";
        return 0;
    }
    if (v == "network ls") return network_ls(e, c, out, err);
    if (v == "network inspect") {
        std::optional<GoTemplate> tmpl;
        if (!c.format.empty()) {
            auto parsed = parse_inspect_format(c.format);
            if (!parsed) {
                err << parsed.error().message << "\n";
                return parsed.error().exit_code;
            }
            tmpl = std::move(*parsed);
        }
        json arr = json::array();
        std::string missing;  // as Docker: what was found is printed first, then an error per name
        for (const auto& w : words) {
            auto n = e.networks().get(w);
            if (!n) {
                missing += "Error: No such network: " + w + "\n";
                continue;
            }
            arr.push_back(inspect_json(e, *n));
        }
        return finish_inspect(tmpl, arr, missing, out, err);
    }
    if (v == "network rm") {
        int rc = 0;
        for (const auto& w : words) {
            if (auto st = e.remove_network(w); !st) rc = fail(err, st.error());
            else out << w << "\n";
        }
        return rc;
    }
    if (v == "network connect") {
        if (auto st = e.connect(words[0], words[1]); !st) return fail(err, st.error());
        return 0;
    }
    if (v == "network disconnect") {
        if (auto st = e.disconnect(words[0], words[1], c.force); !st) return fail(err, st.error());
        return 0;
    }
    if (v == "network picture") {
        auto pic = e.network_picture();
        if (!pic) return fail(err, pic.error());
        out << pic->dump(2) << "\n";
        return 0;
    }
    err << "isolab: unknown command: isolab " << v << "\n";
    return 1;
}

int run_port_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    auto rec = e.inspect(c.args.at(0));
    if (!rec) {
        err << "Error response from daemon: " << rec.error().message << "\n";
        return rec.error().exit_code;
    }
    std::string want;
    if (c.args.size() > 1) {
        want = c.args[1];
        if (want.find('/') == std::string::npos) want += "/tcp";
    }
    bool any = false;
    for (const auto& p : rec->published) {
        std::string key = std::to_string(p.container_port) + "/" + p.proto;
        if (!want.empty() && key != want) continue;
        any = true;
        std::string host = (p.host_ip.empty() ? "0.0.0.0" : p.host_ip) + ":" + std::to_string(p.host_port);
        out << (want.empty() ? key + " -> " : "") << host << "\n";
    }
    if (!want.empty() && !any) {
        err << "Error: No public port '" << want << "' published for " << rec->name << "\n";
        return 1;
    }
    return 0;
}

int run_system_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    if (!c.force) {
        err << "WARNING! This removes every container, VM, network, image and the build cache of "
            << e.store().root() << ".\nRun `isolab system reset -f` to do it.\n";
        return 1;
    }
    // VMs too: a reset leaves nothing of the state root running.
    vm::VmManager vms(e.store().root());
    for (const auto& v : vms.list())
        if (auto st = vms.remove(v.name, true); !st) err << "Error: vm " << v.name << ": " << st.error().message << "\n";
    if (auto st = e.reset(); !st) {
        err << "Error: " << st.error().message << "\n";
        return st.error().exit_code;
    }
    out << "IsoLab state root " << e.store().root() << " is empty again.\n";
    return 0;
}

}  // namespace isolab::cli
