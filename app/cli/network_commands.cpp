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

constexpr const char* kNetworkUsage =
    "Usage:  isolab network COMMAND\n\n"
    "Manage networks\n\n"
    "Commands:\n"
    "  connect NETWORK CONTAINER        Connect a container to a network\n"
    "  create [--subnet CIDR] [--internal] [--label K=V] NETWORK\n"
    "                                   Create a bridge network\n"
    "  disconnect [-f] NETWORK CONTAINER  Disconnect a container from a network\n"
    "  inspect [-f FORMAT] NETWORK...   Display detailed information on one or more networks\n"
    "  ls [-q] [-f KEY=VALUE] [--format FORMAT] [--no-trunc]\n"
    "                                   List networks (filters: dangling, driver, id, label, name,\n"
    "                                   scope, type)\n"
    "  prune [OPTIONS]                  Remove all unused networks\n"
    "  rm NETWORK...                    Remove one or more networks\n"
    "  picture                          The network as the GUI draws it: every interface, address,\n"
    "                                   route and listening socket of the host and of each running\n"
    "                                   container, and which veth pairs with which (JSON)";

int fail(std::ostream& err, const Error& e) {
    err << "Error response from daemon: " << e.message << "\n";
    return e.exit_code;
}

int usage_error(std::ostream& err, const std::string& what) {
    err << "isolab: " << what << "\nSee 'isolab network --help'.\n";
    return 1;
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
int network_ls(Engine& e, std::map<std::string, std::vector<std::string>>& flags, std::ostream& out,
               std::ostream& err) {
    std::vector<std::string> words;
    for (const char* name : {"-f", "--filter"})
        for (const auto& w : flags[name]) {
            // The client's check (opts.FilterOpt), with pflag's words and cobra's footer.
            if (auto n = FilterArgs::normalize(w); !n) {
                err << "invalid argument \"" << w << "\" for \"-f, --filter\" flag: " << n.error().message
                    << "\n\nUsage:  isolab network ls [OPTIONS]\n\nRun 'isolab network ls --help' for more information\n";
                return n.error().exit_code;
            }
            words.push_back(w);
        }
    const bool quiet = flags.count("-q") || flags.count("--quiet");
    const bool no_trunc = flags.count("--no-trunc") != 0;
    const std::string format = flags.count("--format") ? flags["--format"].back() : "";
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

int run_network_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    const auto& a = c.rest;
    if (a.empty() || a[0] == "--help" || a[0] == "-h" || a[0] == "help") {
        (a.empty() ? err : out) << kNetworkUsage << "\n";
        return a.empty() ? 1 : 0;
    }
    const std::string sub = a[0];
    std::vector<std::string> args(a.begin() + 1, a.end());
    // Flags and positional words of the sub-command.
    std::map<std::string, std::vector<std::string>> flags;
    std::vector<std::string> words;
    auto takes_value = [](const std::string& f) {
        return f == "--subnet" || f == "--label" || f == "-f" || f == "--format" || f == "-d" || f == "--driver" ||
               f == "--gateway" || f == "--filter";
    };
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& w = args[i];
        if (w.size() > 1 && w[0] == '-') {
            std::string name = w, value;
            if (size_t eq = w.find('='); eq != std::string::npos) {
                name = w.substr(0, eq);
                value = w.substr(eq + 1);
            } else if (takes_value(w) && sub != "disconnect" && i + 1 < args.size()) {
                value = args[++i];
            } else if (takes_value(w) && sub != "disconnect") {
                return usage_error(err, "flag needs an argument: " + w);
            }
            flags[name].push_back(value);
        } else {
            words.push_back(w);
        }
    }
    auto has = [&](std::initializer_list<const char*> names) {
        for (const char* n : names)
            if (flags.count(n)) return true;
        return false;
    };
    auto value = [&](std::initializer_list<const char*> names) -> std::string {
        for (const char* n : names)
            if (flags.count(n)) return flags[n].back();
        return "";
    };

    if (sub == "create") {
        if (words.size() != 1) return usage_error(err, "\"network create\" requires exactly 1 argument.");
        std::string driver = value({"-d", "--driver"});
        if (!driver.empty() && driver != "bridge")
            return fail(err, make_error("plugin \"" + driver + "\" not found (IsoLab networks are bridges)", 1));
        std::map<std::string, std::string> labels;
        for (const auto& l : flags["--label"]) {
            size_t eq = l.find('=');
            labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
        }
        auto n = e.create_network(words[0], value({"--subnet"}), has({"--internal"}), labels);
        if (!n) return fail(err, n.error());
        out << n->id << "\n";
        return 0;
    }
    if (sub == "ls" || sub == "list") return network_ls(e, flags, out, err);
    if (sub == "inspect") {
        if (words.empty()) return usage_error(err, "\"network inspect\" requires at least 1 argument.");
        std::optional<GoTemplate> tmpl;
        if (std::string fmt = value({"-f", "--format"}); !fmt.empty()) {
            auto parsed = parse_inspect_format(fmt);
            if (!parsed) {
                err << parsed.error().message << "\n";
                return parsed.error().exit_code;
            }
            tmpl = std::move(*parsed);
        }
        json arr = json::array();
        int rc = 0;
        for (const auto& w : words) {
            auto n = e.networks().get(w);
            if (!n) {
                err << "Error: No such network: " << w << "\n";
                rc = 1;
                continue;
            }
            arr.push_back(inspect_json(e, *n));
        }
        if (tmpl) {
            if (auto printed = print_inspect(*tmpl, arr, out); !printed) {
                err << printed.error().message << "\n";
                return printed.error().exit_code;
            }
        } else if (!arr.empty() || rc == 0) {
            out << arr.dump(4) << "\n";
        }
        return rc;
    }
    if (sub == "rm" || sub == "remove") {
        if (words.empty()) return usage_error(err, "\"network rm\" requires at least 1 argument.");
        int rc = 0;
        for (const auto& w : words) {
            if (auto st = e.remove_network(w); !st) rc = fail(err, st.error());
            else out << w << "\n";
        }
        return rc;
    }
    if (sub == "connect") {
        if (words.size() != 2) return usage_error(err, "\"network connect\" requires exactly 2 arguments.");
        if (auto st = e.connect(words[0], words[1]); !st) return fail(err, st.error());
        return 0;
    }
    if (sub == "disconnect") {
        if (words.size() != 2) return usage_error(err, "\"network disconnect\" requires exactly 2 arguments.");
        if (auto st = e.disconnect(words[0], words[1], has({"-f", "--force"})); !st) return fail(err, st.error());
        return 0;
    }
    if (sub == "picture") {
        auto pic = e.network_picture();
        if (!pic) return fail(err, pic.error());
        out << pic->dump(2) << "\n";
        return 0;
    }
    err << "isolab: 'network " << sub << "' is not an isolab command.\nSee 'isolab network --help'.\n";
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
