// The "Network" tab: the host's network namespace and each container's, as the kernel has them
// right now (Engine::network_picture(): links, addresses, listeners read in each namespace).
//
//   ┌ host network namespace ─────────────────────────────────────────────┐
//   │ eth0 10.0.2.15/24   lo 127.0.0.1/8   (--network host containers)      │
//   │        0.0.0.0:8080 ·········┐                       127.0.0.1:2222 ··┐│
//   │ [isolab0  172.17.0.1/16 ═══════════════]                              ││
//   │   veth-il…  │                                                        ││
//   └─────────────┼────────────────────────────────────────────────────────┼┘
//           ┌ web ┴──────────┐ ┌ lonely (none) ┐                  ┌ vm1 (VM) ┴┐
//           │ eth0 172.17.0.2│ │ lo 127.0.0.1  │                  │ guest :80 │
//           │ lo 127.0.0.1   │ └───────────────┘                  └───────────┘
//
// The picture is taken on a worker thread every 1.5 s (it enters each container's namespace on a
// thread of its own); the frame only lays out and draws the last graph (sim/view/network_model).
#include <imgui.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "app/gui/refresher.hpp"
#include "app/gui/views/views.hpp"
#include "sim/core/clock.hpp"
#include "sim/core/i18n.hpp"
#include "sim/view/network_model.hpp"

namespace isolab::gui {

namespace {

constexpr ImU32 kHostFill = IM_COL32(52, 101, 164, 60);
constexpr ImU32 kHostBorder = IM_COL32(52, 101, 164, 255);
constexpr ImU32 kChip = IM_COL32(52, 101, 164, 255);
constexpr ImU32 kBridge = IM_COL32(0, 128, 128, 255);
constexpr ImU32 kVeth = IM_COL32(0, 150, 150, 255);
constexpr ImU32 kContainer = IM_COL32(45, 125, 70, 255);
constexpr ImU32 kContainerNone = IM_COL32(90, 98, 110, 255);
constexpr ImU32 kLoopback = IM_COL32(230, 180, 20, 255);
constexpr ImU32 kPort = IM_COL32(230, 110, 20, 255);
constexpr ImU32 kVm = IM_COL32(130, 70, 160, 255);
constexpr ImU32 kWhite = IM_COL32(255, 255, 255, 255);
constexpr ImU32 kDark = IM_COL32(20, 20, 20, 255);

void arrow_head(ImDrawList* dl, ImVec2 tip, ImVec2 from, ImU32 col, float size) {
    float dx = tip.x - from.x, dy = tip.y - from.y;
    float len = std::sqrt(dx * dx + dy * dy);
    if (len < 1) return;
    dx /= len;
    dy /= len;
    ImVec2 base(tip.x - dx * size, tip.y - dy * size);
    dl->AddTriangleFilled(tip, ImVec2(base.x - dy * size * 0.5f, base.y + dx * size * 0.5f),
                          ImVec2(base.x + dy * size * 0.5f, base.y - dx * size * 0.5f), col);
}

void dashed_line(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 col, float thick, float dash) {
    float dx = b.x - a.x, dy = b.y - a.y;
    float len = std::sqrt(dx * dx + dy * dy);
    if (len < 1) return;
    for (float t = 0; t < len; t += dash * 2) {
        float e = std::min(len, t + dash);
        dl->AddLine(ImVec2(a.x + dx * t / len, a.y + dy * t / len), ImVec2(a.x + dx * e / len, a.y + dy * e / len), col, thick);
    }
}

// Hover targets collected while drawing; the last one under the mouse gets its tooltip.
struct Hovers {
    std::string tip;
    void add(ImVec2 a, ImVec2 b, const std::string& text) {
        if (ImGui::IsWindowHovered() && ImGui::IsMouseHoveringRect(a, b)) tip = text;
    }
    void show() const {
        if (tip.empty()) return;
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
        ImGui::TextUnformatted(tip.c_str());
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
    }
};

// A rounded chip with text; returns its size. Text color picked for the fill.
ImVec2 chip(ImDrawList* dl, ImVec2 at, const std::string& text, ImU32 fill, ImU32 text_color, float max_w = 1e9f) {
    float pad = ImGui::GetTextLineHeight() * 0.35f;
    std::string t = fit_text(text, max_w - pad * 2);
    ImVec2 ts = ImGui::CalcTextSize(t.c_str());
    ImVec2 b(at.x + ts.x + pad * 2, at.y + ts.y + pad * 0.9f);
    dl->AddRectFilled(at, b, fill, pad);
    dl->AddText(ImVec2(at.x + pad, at.y + pad * 0.45f), text_color, t.c_str());
    return ImVec2(b.x - at.x, b.y - at.y);
}

float chip_width(const std::string& text) {
    return ImGui::CalcTextSize(text.c_str()).x + ImGui::GetTextLineHeight() * 0.7f;
}

// One column of the bottom row: a container's own namespace, or a VM.
struct Column {
    bool vm = false;
    size_t index = 0;  // into containers or vms
};

struct Picture {
    view::NetworkModel model;
    std::string error;
    bool ready = false;
};

class NetworkView final : public View {
public:
    const char* id() const override { return "network"; }
    const char* title_key() const override { return "gui.tab.network"; }
    bool animating() const override { return first_load_pending_ && refresher_.busy(); }

    void draw(App& app) override {
        auto w = app.world();
        if (!w) {
            ImGui::TextDisabled("%s", T("gui.loading"));
            return;
        }
        std::string root = app.state_root();
        App* a = &app;
        refresher_.start_if_due(1500, [this, a] { work(*a); });
        Picture p;
        {
            std::lock_guard<std::mutex> l(mu_);
            p = picture_;
        }
        ImGui::PushTextWrapPos(0);
        ImGui::TextDisabled("%s", T("gui.network.intro"));
        ImGui::PopTextWrapPos();
        if (!p.ready) {
            ImGui::TextDisabled("%s", T("gui.network.loading"));
            return;
        }
        if (!p.error.empty()) {
            ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "%s", i18n::trf("gui.network.error", {p.error}).c_str());
            return;
        }
        p.model.vms = view::vm_nats(*w);
        draw_diagram(app, p.model);
        draw_stopped(*w, p.model);
        ImGui::Spacing();
        ImGui::Separator();
        draw_listeners(app, p.model);
    }

private:
    void work(App& app) {
        Picture p;
        std::shared_ptr<Engine> engine = app.engine();  // the window's one engine
        if (!engine) p.error = app.engine_error();
        if (engine) {
            auto pic = engine->network_picture();
            if (pic) {
                p.model = view::build_network_model(*pic);
                p.error = p.model.error;
            } else {
                p.error = pic.error().message;
            }
        }
        p.ready = true;
        {
            std::lock_guard<std::mutex> l(mu_);
            picture_ = std::move(p);
        }
        first_load_pending_ = false;
        app.wake();
    }

    void draw_diagram(App& app, const view::NetworkModel& m) {
        const float line = ImGui::GetTextLineHeight();
        const float pad = line * 0.5f;
        // Columns of the bottom row: bridged containers grouped by their first bridge, then
        // --network none, then the rest, then the VMs.
        std::vector<Column> cols;
        std::vector<size_t> order;
        for (size_t i = 0; i < m.containers.size(); ++i)
            if (m.containers[i].mode != view::NetMode::Host) order.push_back(i);
        auto first_bridge = [&](size_t ci) {
            const auto& c = m.containers[ci];
            if (c.mode == view::NetMode::Bridge && !c.links.empty()) return m.links[c.links.front()].bridge;
            return c.mode == view::NetMode::None ? SIZE_MAX - 1 : SIZE_MAX;
        };
        std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return first_bridge(x) < first_bridge(y); });
        for (size_t i : order) cols.push_back({false, i});
        for (size_t i = 0; i < m.vms.size(); ++i) cols.push_back({true, i});
        std::map<size_t, size_t> col_of_container;
        for (size_t k = 0; k < cols.size(); ++k)
            if (!cols[k].vm) col_of_container[cols[k].index] = k;

        float avail = ImGui::GetContentRegionAvail().x;
        // A column is as wide as its widest address chip needs (titles may shorten with "...").
        float col_min = line * 7.5f;
        for (const auto& l : m.links)
            col_min = std::max(col_min, chip_width(l.container_end + " " + view::strip_prefix(l.ip)) + line * 1.2f + pad * 2);
        for (const auto& p : m.ports)
            col_min = std::max(col_min, chip_width(p.host_ip + ":" + std::to_string(p.host_port)) + line * 2.5f);
        size_t n = std::max<size_t>(cols.size(), 1);
        float cw = std::max(col_min, (avail - pad * 2) / static_cast<float>(n));
        float dw = std::max(avail, cw * static_cast<float>(n) + pad * 2);

        // Heights.
        float chip_h = line * 1.35f;
        float host_title_h = line * 1.3f;
        float row1_h = chip_h + pad;                   // eth0, lo, host-mode containers
        float row2_h = m.ports.empty() && m.vms.empty() ? 0 : chip_h + pad * 1.5f;  // published ports
        float bridge_h = line * 1.5f;
        float bridge_gap = line * 1.6f;
        size_t nb = m.bridges.size();
        float bridges_h = nb == 0 ? 0 : static_cast<float>(nb) * (bridge_h + bridge_gap);
        float host_h = host_title_h + row1_h + row2_h + bridges_h + pad;
        float gap_below_host = line * 2.6f;
        size_t max_links = 1;
        for (const auto& c : m.containers) max_links = std::max(max_links, c.links.size());
        float box_h = line * (4.6f + 1.3f * static_cast<float>(max_links));
        float diagram_h = host_h + gap_below_host + box_h + pad * 2;

        ImGui::BeginChild("diagram", ImVec2(0, diagram_h + ImGui::GetStyle().ScrollbarSize + pad), false,
                          ImGuiWindowFlags_HorizontalScrollbar);
        ImVec2 o = ImGui::GetCursorScreenPos();
        ImGui::Dummy(ImVec2(dw, diagram_h));
        ImDrawList* dl = ImGui::GetWindowDrawList();
        Hovers hov;
        ImU32 text = ImGui::GetColorU32(ImGuiCol_Text);

        auto col_left = [&](size_t k) { return o.x + pad + cw * static_cast<float>(k); };
        auto col_center = [&](size_t k) { return col_left(k) + cw * 0.5f; };
        float box_top = o.y + host_h + gap_below_host;
        float box_margin = line * 0.4f;

        // ---- the host box ----
        ImVec2 ha(o.x + pad * 0.5f, o.y), hb(o.x + dw - pad * 0.5f, o.y + host_h);
        dl->AddRectFilled(ha, hb, kHostFill, line * 0.4f);
        dl->AddRect(ha, hb, kHostBorder, line * 0.4f, 0, 2);
        std::string host_title = i18n::trf("gui.network.host_title", {m.host_netns});
        dl->AddText(ImVec2(ha.x + pad, ha.y + line * 0.15f), text, fit_text(host_title, hb.x - ha.x - pad * 2).c_str());
        hov.add(ha, ImVec2(hb.x, ha.y + host_title_h), T("gui.network.host_tip"));
        float x = ha.x + pad, y1 = ha.y + host_title_h;
        for (const auto& u : m.host_uplinks) {
            std::string t = u.name + " " + (u.inet.empty() ? std::string(T("gui.network.no_address")) : u.inet.front());
            ImVec2 s = chip(dl, ImVec2(x, y1), t, kChip, kWhite);
            hov.add(ImVec2(x, y1), ImVec2(x + s.x, y1 + s.y), i18n::trf("gui.network.uplink_tip", {u.name}));
            x += s.x + pad;
            if (x > hb.x - line * 10) break;
        }
        {
            std::string t = "lo " + (m.host_loopback.empty() ? std::string("127.0.0.1/8") : m.host_loopback);
            ImVec2 s = chip(dl, ImVec2(x, y1), t, kLoopback, kDark);
            hov.add(ImVec2(x, y1), ImVec2(x + s.x, y1 + s.y), T("gui.network.host_lo_tip"));
            x += s.x + pad;
        }
        for (size_t ci : m.host_mode) {
            const auto& c = m.containers[ci];
            std::string t = i18n::trf("gui.network.host_mode_chip", {c.name});
            bool sel = app.selected_container == c.name;
            ImVec2 at(x, y1);
            ImVec2 s = chip(dl, at, t, kContainer, kWhite, hb.x - x - pad);
            if (sel) dl->AddRect(at, ImVec2(at.x + s.x, at.y + s.y), IM_COL32(255, 200, 0, 255), line * 0.35f, 0, 2.5f);
            hov.add(at, ImVec2(at.x + s.x, at.y + s.y), i18n::trf("gui.network.host_mode_tip", {c.name}));
            if (ImGui::IsWindowHovered() && ImGui::IsMouseHoveringRect(at, ImVec2(at.x + s.x, at.y + s.y)) &&
                ImGui::IsMouseClicked(0))
                app.selected_container = c.name;
            x += s.x + pad;
        }

        // ---- published ports and VM forwards: row 2, above their column ----
        float y2 = y1 + row1_h;
        struct Drop {
            float x, y;    // arrow start (under the chip)
            size_t col;
            bool vm;
            std::string label;
            float offset;
        };
        std::vector<Drop> drops;
        std::map<size_t, int> per_col;
        for (const auto& p : m.ports) {
            auto it = col_of_container.find(p.container);
            if (it == col_of_container.end()) continue;
            size_t k = it->second;
            int j = per_col[k]++;
            std::string t = p.host_ip + ":" + std::to_string(p.host_port);
            float wchip = chip_width(t);
            float cx = col_left(k) + cw - box_margin - line * 0.6f - wchip - static_cast<float>(j) * (wchip + pad * 0.5f);
            ImVec2 s = chip(dl, ImVec2(cx, y2), t, kPort, kWhite);
            const auto& c = m.containers[p.container];
            std::string target = (p.container_ip.empty() ? c.name : p.container_ip) + ":" + std::to_string(p.container_port);
            hov.add(ImVec2(cx, y2), ImVec2(cx + s.x, y2 + s.y),
                    i18n::trf("gui.network.port_tip", {t, c.name, target, p.host_listening ? T("gui.network.yes") : T("gui.network.no")}));
            drops.push_back({cx + s.x * 0.5f, y2 + s.y, k, false, ":" + std::to_string(p.container_port) + "/" + p.proto,
                             static_cast<float>(j)});
        }
        for (size_t k = 0; k < cols.size(); ++k) {
            if (!cols[k].vm) continue;
            const auto& v = m.vms[cols[k].index];
            std::string t = "127.0.0.1:" + std::to_string(v.host_port);
            float cx = col_center(k) - chip_width(t) * 0.5f;
            ImVec2 s = chip(dl, ImVec2(cx, y2), t, kVm, kWhite);
            hov.add(ImVec2(cx, y2), ImVec2(cx + s.x, y2 + s.y),
                    i18n::trf("gui.network.vm_port_tip", {t, v.name, std::to_string(v.guest_port)}));
            drops.push_back({cx + s.x * 0.5f, y2 + s.y, k, true, ":" + std::to_string(v.guest_port), 0});
        }

        // ---- bridges ----
        float yb = y2 + row2_h;
        std::vector<std::pair<float, float>> bridge_x(nb);  // left, right
        std::vector<float> bridge_y(nb);
        for (size_t b = 0; b < nb; ++b) {
            const auto& br = m.bridges[b];
            size_t lo = SIZE_MAX, hi = 0;
            for (size_t li : br.links) {
                auto it = col_of_container.find(m.links[li].container);
                if (it == col_of_container.end()) continue;
                lo = std::min(lo, it->second);
                hi = std::max(hi, it->second);
            }
            std::string t = i18n::trf("gui.network.bridge_label",
                                      {br.device.empty() ? br.network : br.device, br.network,
                                       br.address.empty() ? br.gateway : br.address, br.subnet});
            float l, r;
            if (lo == SIZE_MAX) {  // no running container on it: a short bar at the left
                l = ha.x + pad;
                r = std::min(hb.x - pad, l + std::max(chip_width(t) + line, cw - box_margin * 2));
            } else {
                l = col_left(lo) + box_margin;
                r = col_left(hi) + cw - box_margin;
                float need = chip_width(t) + line;
                if (r - l < need) r = std::min(hb.x - pad, l + need);
            }
            float y = yb + static_cast<float>(b) * (bridge_h + bridge_gap);
            bridge_x[b] = {l, r};
            bridge_y[b] = y;
        }

        // ---- veth pairs: lines from a bridge to the container (drawn under the bars) ----
        struct EndLabel {
            ImVec2 at;
            std::string text, tip;
        };
        std::vector<EndLabel> veth_labels;
        for (size_t k = 0; k < cols.size(); ++k) {
            if (cols[k].vm) continue;
            const auto& c = m.containers[cols[k].index];
            for (size_t j = 0; j < c.links.size(); ++j) {
                const auto& l = m.links[c.links[j]];
                if (l.bridge == SIZE_MAX) continue;
                float lx = col_left(k) + box_margin + line * (1.0f + 1.4f * static_cast<float>(j));
                float top = bridge_y[l.bridge] + bridge_h;
                float thick = std::max(2.0f, line * 0.14f);
                dl->AddLine(ImVec2(lx, top), ImVec2(lx, box_top + line * 0.2f), kVeth, thick);
                dl->AddCircleFilled(ImVec2(lx, top + line * 0.1f), thick * 1.6f, kVeth);
                std::string tip = i18n::trf(l.verified ? "gui.network.veth_tip" : "gui.network.veth_tip_unverified",
                                            {l.host_end, std::to_string(l.host_index), l.container_end,
                                             std::to_string(l.container_index), c.name, m.bridges[l.bridge].device});
                hov.add(ImVec2(lx - line * 0.4f, top), ImVec2(lx + line * 0.4f, box_top), tip);
                veth_labels.push_back({ImVec2(lx + line * 0.3f, top + line * 0.15f), l.host_end, tip});
            }
        }
        for (size_t b = 0; b < nb; ++b) {
            const auto& br = m.bridges[b];
            ImVec2 a(bridge_x[b].first, bridge_y[b]), z(bridge_x[b].second, bridge_y[b] + bridge_h);
            dl->AddRectFilled(a, z, br.on_host ? kBridge : IM_COL32(90, 98, 110, 255), line * 0.25f);
            std::string t = i18n::trf("gui.network.bridge_label",
                                      {br.device.empty() ? br.network : br.device, br.network,
                                       br.address.empty() ? br.gateway : br.address, br.subnet});
            dl->AddText(ImVec2(a.x + pad * 0.6f, a.y + (bridge_h - line) * 0.5f), kWhite, fit_text(t, z.x - a.x - pad * 1.2f).c_str());
            std::string tip = i18n::trf("gui.network.bridge_tip", {br.device, br.network, br.subnet, br.gateway});
            if (!br.on_host) tip += "\n" + std::string(T("gui.network.bridge_absent"));
            if (br.internal) tip += "\n" + std::string(T("gui.network.bridge_internal"));
            hov.add(a, z, tip);
        }

        // ---- the bottom row: each container's own namespace, and the VMs ----
        bool callout_drawn = false;  // some container has a loopback of its own
        for (size_t k = 0; k < cols.size(); ++k) {
            ImGui::PushID(static_cast<int>(k));
            ImVec2 a(col_left(k) + box_margin, box_top), z(col_left(k) + cw - box_margin, box_top + box_h);
            float inner = z.x - a.x - pad * 2;
            if (cols[k].vm) {
                const auto& v = m.vms[cols[k].index];
                dl->AddRectFilled(a, z, kVm, line * 0.4f);
                bool sel = app.selected_vm == v.name;
                dl->AddRect(a, z, sel ? IM_COL32(255, 200, 0, 255) : IM_COL32(0, 0, 0, 90), line * 0.4f, 0, sel ? 3 : 1);
                float y = a.y + pad * 0.6f;
                dl->AddText(ImVec2(a.x + pad, y), kWhite, fit_text(i18n::trf("gui.network.vm_title", {v.name}), inner).c_str());
                y += line * 1.3f;
                // Wrapped: "its own network card" is the point of the box.
                const char* card = T("gui.network.vm_card");
                dl->AddText(ImGui::GetFont(), ImGui::GetFontSize(), ImVec2(a.x + pad, y), kWhite, card, nullptr, inner);
                y += ImGui::CalcTextSize(card, nullptr, false, inner).y + line * 0.3f;
                dl->AddText(ImVec2(a.x + pad, y), IM_COL32(230, 220, 240, 255),
                            fit_text(i18n::trf("gui.network.vm_guest_port", {std::to_string(v.guest_port)}), inner).c_str());
                hov.add(a, z, i18n::trf("gui.network.vm_tip", {v.name, std::to_string(v.host_port), std::to_string(v.guest_port)}));
                if (ImGui::IsWindowHovered() && ImGui::IsMouseHoveringRect(a, z) && ImGui::IsMouseClicked(0)) app.selected_vm = v.name;
                ImGui::PopID();
                continue;
            }
            const auto& c = m.containers[cols[k].index];
            bool none = c.mode == view::NetMode::None;
            dl->AddRectFilled(a, z, none ? kContainerNone : kContainer, line * 0.4f);
            bool sel = app.selected_container == c.name;
            dl->AddRect(a, z, sel ? IM_COL32(255, 200, 0, 255) : IM_COL32(0, 0, 0, 90), line * 0.4f, 0, sel ? 3 : 1);
            if (ImGui::IsWindowHovered() && ImGui::IsMouseHoveringRect(a, z) && ImGui::IsMouseClicked(0))
                app.selected_container = c.name;
            float y = a.y + pad * 0.6f;
            std::string title = c.name;
            if (none) title += "  (--network none)";
            else if (c.mode_text != "default" && c.mode_text != "bridge" && !c.mode_text.empty()) title += "  (" + c.mode_text + ")";
            dl->AddText(ImVec2(a.x + pad, y), kWhite, fit_text(title, inner).c_str());
            hov.add(a, ImVec2(z.x, y + line), i18n::trf("gui.network.container_tip", {c.name, c.netns}));
            y += line * 1.35f;
            for (size_t j = 0; j < c.links.size(); ++j) {
                const auto& l = m.links[c.links[j]];
                // The prefix length is in the tooltip: the chip stays narrow.
                std::string t = l.container_end + " " + (l.ip.empty() ? std::string(T("gui.network.no_address")) : view::strip_prefix(l.ip));
                ImVec2 s = chip(dl, ImVec2(a.x + pad, y), t, kVeth, kWhite, inner);
                hov.add(ImVec2(a.x + pad, y), ImVec2(a.x + pad + s.x, y + s.y),
                        i18n::trf("gui.network.eth_tip", {l.container_end, c.name, l.host_end, l.ip}));
                y += line * 1.3f;
            }
            if (c.mode == view::NetMode::Simulated || c.mode == view::NetMode::Unknown) {
                std::string t = c.error.empty() ? std::string(T("gui.network.no_picture")) : c.error;
                dl->AddText(ImVec2(a.x + pad, y), IM_COL32(240, 240, 240, 255), fit_text(t, inner).c_str());
                hov.add(ImVec2(a.x, y), ImVec2(z.x, y + line), t);
                y += line * 1.3f;
            } else {
                std::string lo = "lo " + (c.loopback.empty() ? std::string("127.0.0.1/8") : c.loopback);
                ImVec2 at(a.x + pad, y);
                ImVec2 s = chip(dl, at, lo, kLoopback, kDark, inner);
                hov.add(at, ImVec2(at.x + s.x, at.y + s.y), i18n::trf("gui.network.lo_tip", {c.name}));
                // "≠ host": the loopback is this namespace's own.
                std::string own = T("gui.network.own_lo");
                if (at.x + s.x + pad + ImGui::CalcTextSize(own.c_str()).x < z.x)
                    dl->AddText(ImVec2(at.x + s.x + pad * 0.5f, at.y + line * 0.15f), kLoopback, own.c_str());
                callout_drawn = true;
                y += line * 1.3f;
            }
            if (!c.listeners.empty()) {
                std::string t = T("gui.network.listening");
                for (size_t i = 0; i < c.listeners.size() && i < 4; ++i) t += " :" + std::to_string(c.listeners[i].port);
                dl->AddText(ImVec2(a.x + pad, y), IM_COL32(225, 240, 225, 255), fit_text(t, inner).c_str());
            } else if (none) {
                dl->AddText(ImVec2(a.x + pad, y), IM_COL32(235, 235, 235, 255), fit_text(T("gui.network.none_note"), inner).c_str());
            }
            if (none) hov.add(a, z, i18n::trf("gui.network.none_tip", {c.name}));
            ImGui::PopID();
        }

        // ---- arrows last, on top: published ports (userland proxy) and QEMU's NAT ----
        for (const auto& d : drops) {
            ImU32 col = d.vm ? kVm : kPort;
            float thick = std::max(2.0f, line * 0.15f);
            ImVec2 from(d.x, d.y), to(d.x, box_top - 1);
            if (d.vm) dashed_line(dl, from, ImVec2(to.x, to.y - line * 0.5f), col, thick, line * 0.4f);
            else dl->AddLine(from, ImVec2(to.x, to.y - line * 0.5f), col, thick);
            arrow_head(dl, to, from, col, line * 0.7f);
            std::string label = d.vm ? std::string(T("gui.network.qemu_nat")) + " " + d.label
                                     : std::string(T("gui.network.proxy")) + " " + d.label;
            ImVec2 ts = ImGui::CalcTextSize(label.c_str());
            // Label in the gap between the host box and the containers.
            ImVec2 at(std::min(d.x - ts.x * 0.5f, o.x + dw - ts.x - pad), o.y + host_h + (gap_below_host - ts.y) * 0.5f);
            at.x = std::max(at.x, o.x);
            dl->AddRectFilled(ImVec2(at.x - 3, at.y - 1), ImVec2(at.x + ts.x + 3, at.y + ts.y + 1), col, 3);
            dl->AddText(at, kWhite, label.c_str());
            hov.add(ImVec2(at.x - 3, at.y - 1), ImVec2(at.x + ts.x + 3, at.y + ts.y + 1),
                    d.vm ? T("gui.network.qemu_nat_tip") : T("gui.network.proxy_tip"));
        }
        // The host ends' names last, on an opaque label: a port arrow may pass behind one.
        for (const auto& v : veth_labels) {
            ImVec2 ts = ImGui::CalcTextSize(v.text.c_str());
            dl->AddRectFilled(v.at, ImVec2(v.at.x + ts.x + 4, v.at.y + ts.y), ImGui::GetColorU32(ImGuiCol_WindowBg), 3);
            dl->AddText(ImVec2(v.at.x + 2, v.at.y), kVeth, v.text.c_str());
            hov.add(v.at, ImVec2(v.at.x + ts.x + 4, v.at.y + ts.y), v.tip);
        }
        hov.show();
        ImGui::EndChild();
        // The callout in words, next to the yellow chips it refers to.
        if (callout_drawn) {
            ImVec2 p = ImGui::GetCursorScreenPos();
            float sq = line * 0.8f;
            ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(p.x, p.y + (line - sq) * 0.5f), ImVec2(p.x + sq, p.y + (line + sq) * 0.5f),
                                                      kLoopback, 2);
            ImGui::Dummy(ImVec2(sq, line));
            ImGui::SameLine();
            ImGui::PushTextWrapPos(0);
            ImGui::TextUnformatted(T("gui.network.lo_callout"));
            ImGui::PopTextWrapPos();
        }
    }

    void draw_stopped(const view::WorldSnapshot& w, const view::NetworkModel& m) {
        std::string names;
        for (const auto& c : w.containers) {
            if (m.container(c.rec.name)) continue;
            names += (names.empty() ? "" : ", ") + c.rec.name;
        }
        if (names.empty()) return;
        ImGui::PushTextWrapPos(0);
        ImGui::TextDisabled("%s", i18n::trf("gui.network.stopped", {names}).c_str());
        ImGui::PopTextWrapPos();
    }

    static void listener_table(const char* id, const std::vector<view::NetListener>& ls, float h) {
        ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersOuter | ImGuiTableFlags_ScrollY |
                             ImGuiTableFlags_SizingStretchProp;
        if (!ImGui::BeginTable(id, 3, tf, ImVec2(0, h))) return;
        ImGui::TableSetupScrollFreeze(0, 1);
        ImGui::TableSetupColumn(T("gui.network.col_proto"), ImGuiTableColumnFlags_WidthStretch, 1.0f);
        ImGui::TableSetupColumn(T("gui.network.col_address"), ImGuiTableColumnFlags_WidthStretch, 2.2f);
        ImGui::TableSetupColumn(T("gui.network.col_port"), ImGuiTableColumnFlags_WidthStretch, 1.0f);
        ImGui::TableHeadersRow();
        for (size_t i = 0; i < ls.size(); ++i) {
            ImGui::PushID(static_cast<int>(i));
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(ls[i].proto.c_str());
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(ls[i].address.c_str());
            ImGui::TableNextColumn();
            ImGui::Text("%d", ls[i].port);
            ImGui::PopID();
        }
        ImGui::EndTable();
    }

    void draw_listeners(App& app, const view::NetworkModel& m) {
        ImGui::TextUnformatted(T("gui.network.listeners_title"));
        ImGui::SameLine();
        help_marker(T("gui.network.listeners_help"));
        float line = ImGui::GetTextLineHeightWithSpacing();
        float h = line * 7.5f;
        float half = (ImGui::GetContentRegionAvail().x - ImGui::GetStyle().ItemSpacing.x) * 0.5f;
        ImGui::BeginGroup();
        ImGui::PushItemWidth(half);
        ImGui::TextUnformatted(T("gui.network.host_listeners"));
        ImGui::BeginChild("hostl", ImVec2(half, h), false);
        listener_table("host", m.host_listeners, h);
        ImGui::EndChild();
        ImGui::PopItemWidth();
        ImGui::EndGroup();
        ImGui::SameLine();
        ImGui::BeginGroup();
        const view::ContainerNode* c = m.container(app.selected_container);
        if (app.selected_container.empty()) {
            ImGui::TextUnformatted(T("gui.network.container_listeners_none"));
            ImGui::TextDisabled("%s", T("gui.network.select_hint"));
        } else if (!c) {
            ImGui::TextUnformatted(i18n::trf("gui.network.container_listeners", {app.selected_container}).c_str());
            ImGui::TextDisabled("%s", T("gui.network.not_running"));
        } else if (c->mode == view::NetMode::Host) {
            ImGui::TextUnformatted(i18n::trf("gui.network.container_listeners", {c->name}).c_str());
            ImGui::TextDisabled("%s", T("gui.network.same_as_host"));
        } else {
            ImGui::TextUnformatted(i18n::trf("gui.network.container_listeners", {c->name}).c_str());
            ImGui::BeginChild("ctrl", ImVec2(half, h), false);
            if (c->listeners.empty()) ImGui::TextDisabled("%s", T("gui.network.no_listeners"));
            else listener_table("container", c->listeners, h);
            ImGui::EndChild();
        }
        ImGui::EndGroup();
    }

    std::mutex mu_;
    Picture picture_;
    std::atomic<bool> first_load_pending_{true};
    // Last member: destroyed first, so a running job ends before the state it writes goes.
    Refresher refresher_;
};

}  // namespace

std::unique_ptr<View> make_network_view() { return std::make_unique<NetworkView>(); }

}  // namespace isolab::gui
