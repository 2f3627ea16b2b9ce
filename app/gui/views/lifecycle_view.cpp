// The Lifecycle tab: the container state machine and the VM state machine as diagrams (STYLE §3,
// "state machines you can see"). Nodes are states, arrows are commands; the selected object's
// state is lit, and every arrow is a button that runs its `isolab` command. An arrow the machine
// forbids in the current state is grey and its tooltip is the very error the command would print
// (the model asks container_transition / vm_transition, as the engine does). Under the selected
// container's diagram, its setup steps: the plan while it is created, the timed steps of its last
// start after that — what `start` adds to `create`.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "app/gui/view.hpp"
#include "app/gui/views/setup_steps.hpp"
#include "app/gui/views/views.hpp"
#include "sim/core/i18n.hpp"
#include "sim/view/lifecycle_model.hpp"
#include "sim/view/setup_model.hpp"
#include "sim/view/stacks.hpp"

namespace isolab::gui {

namespace {

using view::EdgeBlock;
using view::LifecycleDiagram;
using view::LifecycleEdge;
using view::LifecycleNode;

constexpr ImU32 kWhite = IM_COL32(255, 255, 255, 255);
constexpr ImU32 kHighlight = IM_COL32(255, 200, 0, 255);
constexpr ImU32 kRemoved = IM_COL32(150, 60, 60, 255);
constexpr ImU32 kComposite = IM_COL32(56, 139, 253, 255);

ImVec2 add(ImVec2 a, ImVec2 b) { return ImVec2(a.x + b.x, a.y + b.y); }
ImVec2 sub(ImVec2 a, ImVec2 b) { return ImVec2(a.x - b.x, a.y - b.y); }
ImVec2 mul(ImVec2 a, float k) { return ImVec2(a.x * k, a.y * k); }
float len(ImVec2 a) { return std::sqrt(a.x * a.x + a.y * a.y); }
ImVec2 unit(ImVec2 a) {
    float l = len(a);
    return l > 0 ? mul(a, 1.0f / l) : ImVec2(1, 0);
}

// Where the diagram's grid is on the screen.
struct Geometry {
    ImVec2 origin;
    float cell_w = 0, cell_h = 0, node_w = 0, node_h = 0;
    ImVec2 center(const LifecycleNode& n) const {
        return ImVec2(origin.x + (n.col + 0.5f) * cell_w, origin.y + (n.row + 0.5f) * cell_h);
    }
    // The point where the ray from C towards TARGET leaves the node box around C.
    ImVec2 border(ImVec2 c, ImVec2 target) const {
        ImVec2 d = sub(target, c);
        float hw = node_w * 0.5f + 2, hh = node_h * 0.5f + 2;
        float tx = std::fabs(d.x) > 1e-3f ? hw / std::fabs(d.x) : 1e9f;
        float ty = std::fabs(d.y) > 1e-3f ? hh / std::fabs(d.y) : 1e9f;
        return add(c, mul(d, std::min(tx, ty)));
    }
};

unsigned int line_color(bool enabled) {
    return ImGui::GetColorU32(enabled ? ImGuiCol_Text : ImGuiCol_TextDisabled);
}

void arrow_head(ImDrawList* dl, ImVec2 tip, ImVec2 dir, ImU32 col, float size) {
    ImVec2 u = unit(dir);
    ImVec2 n(-u.y, u.x);
    ImVec2 base = sub(tip, mul(u, size));
    dl->AddTriangleFilled(tip, add(base, mul(n, size * 0.5f)), sub(base, mul(n, size * 0.5f)), col);
}

void dashed(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 col, float thick, float dash) {
    float l = len(sub(b, a));
    ImVec2 u = unit(sub(b, a));
    for (float t = 0; t < l; t += dash * 2) {
        float e = std::min(t + dash, l);
        dl->AddLine(add(a, mul(u, t)), add(a, mul(u, e)), col, thick);
    }
}

std::string node_label(const std::string& id, bool vm) {
    if (id == "none") return T(vm ? "gui.lifecycle.node.vm_none" : "gui.lifecycle.node.none");
    if (id == "removed") return T("gui.lifecycle.node.removed");
    return T(("gui.state." + id).c_str());
}

ImU32 node_fill(const std::string& id) {
    if (id == "removed") return kRemoved;
    if (id == "none") return IM_COL32(90, 96, 110, 255);
    return state_color(id);
}

ImU32 with_alpha(ImU32 c, int a) { return (c & 0x00FFFFFF) | (static_cast<ImU32>(a) << 24); }

// One group of buttons on one arrow (edges with the same ends and lane share it).
struct Cluster {
    std::vector<const LifecycleEdge*> edges;
    ImVec2 anchor;      // the point on the line
    ImVec2 outward;     // push the cluster off the line in this direction (zero: centred on it)
};

// The words on the button; the tooltip has the whole command line. In the VM diagram the
// leading "vm " is left out (the diagram is the VM's), so the buttons fit between the boxes.
std::string button_label(const LifecycleEdge& e) {
    if (e.composite) return std::string(T("gui.lifecycle.run_composite"));
    std::string a = e.action.rfind("vm ", 0) == 0 ? e.action.substr(3) : e.action;
    if (e.from == "any") a += " " + std::string(T("gui.lifecycle.from_any"));
    return a;
}

ImVec2 cluster_size(const Cluster& c) {
    ImGuiStyle& st = ImGui::GetStyle();
    float w = 0, h = 0;
    for (const auto* e : c.edges) {
        ImVec2 ts = ImGui::CalcTextSize(button_label(*e).c_str());
        w = std::max(w, ts.x + st.FramePadding.x * 2);
        h += ts.y + st.FramePadding.y * 2 + (h > 0 ? st.ItemSpacing.y * 0.5f : 0);
    }
    return ImVec2(w, h);
}

void edge_tooltip(const LifecycleEdge& e, bool vm) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 34);
    if (e.automatic) {
        ImGui::TextUnformatted(e.error.c_str());
    } else {
        ImGui::Text("$ isolab %s", e.command.c_str());
        if (!e.docker.empty()) ImGui::TextDisabled("= %s", e.docker.c_str());
        if (e.composite) ImGui::TextUnformatted(T("gui.lifecycle.run_composite_tip"));
        if (e.enabled) {
            ImGui::TextUnformatted(T("gui.lifecycle.click_to_run"));
        } else if (e.block == EdgeBlock::Forbidden) {
            ImGui::Separator();
            ImGui::TextUnformatted(T(vm ? "gui.lifecycle.vm_says" : "gui.lifecycle.docker_says"));
            ImGui::TextColored(ImVec4(0.95f, 0.35f, 0.3f, 1), "%s", e.error.c_str());
        } else {
            ImGui::Separator();
            ImGui::TextUnformatted(e.error.c_str());
        }
    }
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
}

// Draws D into a WIDTH×HEIGHT region at the cursor; returns the edge whose button was clicked.
const LifecycleEdge* draw_diagram(const char* id, const LifecycleDiagram& d, bool vm, float width, float height) {
    ImGui::PushID(id);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float font = ImGui::GetFontSize();
    Geometry g;
    g.origin = ImGui::GetCursorScreenPos();
    const float under = 0.55f;  // extra room below the grid for the "under" route
    g.cell_w = width / static_cast<float>(d.cols);
    g.cell_h = height / (static_cast<float>(d.rows) + under);
    g.node_w = std::min(g.cell_w * (vm ? 0.6f : 0.56f), font * 9.0f);
    g.node_h = std::min(g.cell_h * 0.46f, font * 2.3f);
    const float thick = std::max(1.5f, font / 9.0f);
    const float head = font * 0.55f;
    const LifecycleEdge* clicked = nullptr;

    std::map<std::string, const LifecycleNode*> nodes;
    for (const auto& n : d.nodes) nodes[n.id] = &n;

    // ---- lines and the places for their buttons ----
    std::vector<Cluster> clusters;
    std::map<std::string, size_t> cluster_of;
    std::vector<std::pair<const LifecycleEdge*, ImVec2>> auto_labels;
    for (const auto& e : d.edges) {
        const LifecycleNode* to = nodes[e.to];
        const LifecycleNode* from = e.from == "any" ? nullptr : nodes[e.from];
        ImU32 col = e.composite ? kComposite : line_color(e.enabled);
        if (e.automatic) col = line_color(false);
        ImVec2 anchor, outward(0, 0);
        if (e.route == "loop" && from) {
            // A restart: out of the top of the node and back in.
            ImVec2 c = g.center(*from);
            ImVec2 a(c.x - g.node_w * 0.25f, c.y - g.node_h * 0.5f);
            ImVec2 b(c.x + g.node_w * 0.25f, c.y - g.node_h * 0.5f);
            float up = g.cell_h * 0.42f;
            dl->AddBezierCubic(a, ImVec2(a.x - g.node_w * 0.1f, a.y - up), ImVec2(b.x + g.node_w * 0.1f, b.y - up), b,
                               col, thick);
            arrow_head(dl, b, ImVec2(0.15f, 1), col, head);
            anchor = ImVec2(c.x, a.y - up * 0.75f);
            outward = ImVec2(0, -1);
        } else if (e.route == "under" && from) {
            // Below the whole diagram, into the target from underneath.
            ImVec2 a = g.center(*from), b = g.center(*to);
            float y = g.origin.y + (static_cast<float>(d.rows) + under * 0.45f) * g.cell_h;
            ImVec2 p1(a.x + g.node_w * 0.3f, a.y + g.node_h * 0.5f + 2);
            ImVec2 p2(p1.x, y), p3(b.x + g.node_w * 0.2f, y), p4(p3.x, b.y + g.node_h * 0.5f + 2);
            dl->AddLine(p1, p2, col, thick);
            dl->AddLine(p2, p3, col, thick);
            dl->AddLine(p3, add(p4, ImVec2(0, head * 0.5f)), col, thick);
            arrow_head(dl, p4, ImVec2(0, -1), col, head);
            anchor = ImVec2((p2.x + p3.x) * 0.5f, y);
        } else {
            ImVec2 tc = g.center(*to);
            ImVec2 fc = from ? g.center(*from) : ImVec2(tc.x + g.cell_w * 0.95f, tc.y);
            ImVec2 dir = unit(sub(tc, fc));
            ImVec2 perp(-dir.y, dir.x);
            ImVec2 shift = mul(perp, e.offset * font * 0.45f);
            ImVec2 a = from ? g.border(fc, tc) : fc;
            ImVec2 b = g.border(tc, fc);
            a = add(a, shift);
            b = add(b, shift);
            if (e.automatic || e.composite) dashed(dl, a, sub(b, mul(dir, head * 0.5f)), col, thick, font * 0.35f);
            else dl->AddLine(a, sub(b, mul(dir, head * 0.5f)), col, thick);
            arrow_head(dl, b, dir, col, head);
            // Buttons of a diagonal sit nearer its start, away from the crowd around the target.
            const bool diagonal = std::fabs(dir.x) > 0.2f && std::fabs(dir.y) > 0.2f;
            float t = e.label_at >= 0 ? e.label_at : diagonal && e.offset == 0 ? 0.4f : 0.5f;
            anchor = from ? add(a, mul(sub(b, a), t)) : a;
            if (e.offset != 0) outward = mul(perp, e.offset);
            if (!from) outward = ImVec2(0, 0);
        }
        if (e.automatic) {
            auto_labels.push_back({&e, anchor});  // drawn over the nodes, below
            continue;
        }
        std::string ck = e.from + ">" + e.to + ">" + e.route + ">" + std::to_string(e.offset);
        auto it = cluster_of.find(ck);
        if (it == cluster_of.end()) {
            cluster_of[ck] = clusters.size();
            clusters.push_back(Cluster{{&e}, anchor, outward});
        } else {
            clusters[it->second].edges.push_back(&e);
        }
    }

    // ---- nodes ----
    for (const auto& n : d.nodes) {
        ImVec2 c = g.center(n);
        ImVec2 a(c.x - g.node_w * 0.5f, c.y - g.node_h * 0.5f), b(c.x + g.node_w * 0.5f, c.y + g.node_h * 0.5f);
        const bool current = n.id == d.current;
        const float r = font * 0.4f;
        ImU32 fill = node_fill(n.id);
        // Other states step back; less so on the light presenter theme, where they would wash out.
        const bool light = ImGui::GetStyle().Colors[ImGuiCol_WindowBg].x > 0.5f;
        if (!current && !d.current.empty()) fill = with_alpha(fill, light ? 200 : 150);
        if (n.id == "none") {
            dl->AddRect(a, b, line_color(false), r, 0, thick);
        } else {
            dl->AddRectFilled(a, b, fill, r);
        }
        if (current) {
            float gl = font * 0.22f;
            dl->AddRect(ImVec2(a.x - gl, a.y - gl), ImVec2(b.x + gl, b.y + gl), kHighlight, r + gl, 0, thick * 2.2f);
        }
        std::string label = node_label(n.id, vm);
        ImVec2 ts = ImGui::CalcTextSize(label.c_str());
        ImU32 tc = n.id == "none" ? ImGui::GetColorU32(ImGuiCol_Text) : kWhite;
        dl->AddText(ImVec2(c.x - ts.x * 0.5f, c.y - ts.y * 0.5f), tc, label.c_str());
        ImGui::SetCursorScreenPos(a);
        ImGui::PushID(n.id.c_str());
        ImGui::InvisibleButton("node", ImVec2(g.node_w, g.node_h));
        if (ImGui::IsItemHovered()) {
            std::string key = std::string(vm ? "gui.lifecycle.vm_node_tip." : "gui.lifecycle.node_tip.") + n.id;
            ImGui::BeginTooltip();
            ImGui::PushTextWrapPos(font * 30);
            ImGui::TextUnformatted(T(key.c_str()));
            if (current) ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(kHighlight), "%s", T("gui.lifecycle.you_are_here"));
            ImGui::PopTextWrapPos();
            ImGui::EndTooltip();
        }
        ImGui::PopID();
    }

    // ---- labels of the automatic edges: a label, not a button (nobody types these) ----
    std::vector<std::pair<ImVec2, ImVec2>> placed;
    for (const auto& [e, anchor] : auto_labels) {
        std::string key = "gui.lifecycle.auto." + e->from + "." + e->to;
        const char* label = T(key.c_str());
        ImVec2 ts = ImGui::CalcTextSize(label);
        ImVec2 at = sub(anchor, mul(ts, 0.5f));  // on its lane: the model's label_at keeps them apart
        // Where two labels would overlap (a short diagonal, a large font) the second is left out:
        // the node's own tooltip explains the event too.
        ImVec2 end = add(at, ts);
        bool overlaps = std::any_of(placed.begin(), placed.end(), [&](const auto& r) {
            return at.x < r.second.x && end.x > r.first.x && at.y < r.second.y && end.y > r.first.y;
        });
        if (overlaps) continue;
        placed.push_back({at, end});
        dl->AddRectFilled(at, add(at, ts), ImGui::GetColorU32(ImGuiCol_ChildBg), font * 0.2f);
        ImGui::SetCursorScreenPos(at);
        ImGui::PushID(key.c_str());
        ImGui::TextDisabled("%s", label);
        if (ImGui::IsItemHovered()) edge_tooltip(*e, vm);
        ImGui::PopID();
    }

    // ---- buttons, last: on top of lines and nodes ----
    ImGuiStyle& st = ImGui::GetStyle();
    for (size_t ci = 0; ci < clusters.size(); ++ci) {
        const Cluster& cl = clusters[ci];
        ImVec2 sz = cluster_size(cl);
        ImVec2 at = sub(cl.anchor, mul(sz, 0.5f));
        if (cl.outward.x != 0 || cl.outward.y != 0) {
            float push = std::fabs(cl.outward.x) * sz.x * 0.5f + std::fabs(cl.outward.y) * sz.y * 0.5f + font * 0.15f;
            at = add(at, mul(cl.outward, push));
        }
        float y = at.y;
        for (const LifecycleEdge* e : cl.edges) {
            ImGui::PushID(static_cast<int>(e - d.edges.data()));
            std::string label = button_label(*e);
            ImVec2 ts = ImGui::CalcTextSize(label.c_str());
            float bw = ts.x + st.FramePadding.x * 2;
            ImGui::SetCursorScreenPos(ImVec2(at.x + (sz.x - bw) * 0.5f, y));
            ImGui::BeginDisabled(!e->enabled);
            if (e->enabled) {
                ImVec4 c = ImGui::ColorConvertU32ToFloat4(e->composite ? kComposite : IM_COL32(46, 140, 67, 255));
                ImGui::PushStyleColor(ImGuiCol_Button, c);
                ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 1, 1, 1));
            }
            if (ImGui::Button(label.c_str())) clicked = e;
            if (e->enabled) ImGui::PopStyleColor(2);
            ImGui::EndDisabled();
            if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled)) edge_tooltip(*e, vm);
            y += ts.y + st.FramePadding.y * 2 + st.ItemSpacing.y * 0.5f;
            ImGui::PopID();
        }
    }

    ImGui::SetCursorScreenPos(g.origin);
    ImGui::Dummy(ImVec2(width, height));
    ImGui::PopID();
    return clicked;
}

// "web", "web2", ...: the first name no container has.
std::string next_container_name(const view::WorldSnapshot& w) {
    for (int i = 1;; ++i) {
        std::string n = i == 1 ? "web" : "web" + std::to_string(i);
        if (!w.container(n)) return n;
    }
}

class LifecycleView final : public View {
public:
    const char* id() const override { return "lifecycle"; }
    const char* title_key() const override { return "gui.tab.lifecycle"; }

    void draw(App& app) override {
        auto w = app.world();
        if (!w) {
            ImGui::TextDisabled("%s", T("gui.loading"));
            return;
        }
        ImVec2 avail = ImGui::GetContentRegionAvail();
        const float line = ImGui::GetTextLineHeightWithSpacing();
        const float header = line * 3.6f, legend = line * 2.6f;
        // A diagram is readable from about 3.6 lines per grid row (3 rows + the route below).
        const float min_h = line * 3.6f * 3.55f;
        // The selected container's setup steps go under its diagram: the whole list when there
        // is room, else a part of the height (at least a few rows) and the list scrolls.
        const view::ContainerView* csel = w->container(app.selected_container);
        setup_ = csel ? view::setup_list(csel->rec) : view::SetupList{};
        float setup_h = csel ? std::min(setup_steps_height(setup_), std::max(line * 7, avail.y * 0.38f)) : 0;
        // Side by side only when each diagram keeps room for its labels (a lesson's wide tab
        // area shows one at a time instead of two cramped ones).
        const bool side_by_side = avail.x > ImGui::GetFontSize() * 84;
        const bool both_fit = side_by_side ? avail.y - legend - header - setup_h >= min_h
                                           : avail.y - legend - header * 2 - setup_h >= min_h * 2;
        if (!both_fit) {
            // Not enough room for two readable diagrams (presenter mode, small windows): one at a
            // time, chosen here.
            // The diagram follows the selection: a newly selected container or VM (a lesson
            // selecting its VM) brings its own diagram.
            const std::string& c = app.selected_container;
            const std::string& v = app.selected_vm;
            if (!focus_chosen_) focus_ = c.empty() && !v.empty() ? Focus::Vm : Focus::Container;
            else if (!c.empty() && c != last_container_) focus_ = Focus::Container;
            else if (!v.empty() && v != last_vm_) focus_ = Focus::Vm;
            focus_chosen_ = true;
            last_container_ = c;
            last_vm_ = v;
            const float body = avail.y - legend - header - line * 1.2f;
            // The container's steps go under its diagram when a few rows fit below a readable
            // diagram; otherwise (presenter mode) they are a choice of their own.
            const bool steps_under = body - min_h >= line * 6;
            const bool steps_apart = csel && !steps_under;
            if (focus_ == Focus::Setup && !steps_apart) focus_ = Focus::Container;
            if (ImGui::RadioButton(T("gui.lifecycle.show_container"), focus_ == Focus::Container)) focus_ = Focus::Container;
            ImGui::SameLine();
            if (ImGui::RadioButton(T("gui.lifecycle.show_vm"), focus_ == Focus::Vm)) focus_ = Focus::Vm;
            if (steps_apart) {
                ImGui::SameLine();
                if (ImGui::RadioButton(T("gui.setup.title"), focus_ == Focus::Setup)) focus_ = Focus::Setup;
            }
            switch (focus_) {
                case Focus::Vm: draw_vm_part(app, *w, avail.x, std::max(body, min_h * 0.8f)); break;
                case Focus::Setup:
                    // No diagram, so no legend of its arrows: the steps take its room too.
                    draw_container_part(app, *w, avail.x, 0, body + legend);
                    return;
                case Focus::Container:
                    if (csel && steps_under) {
                        // The diagram keeps its readable minimum; the steps take what is left.
                        float dh = std::max(body - setup_h, min_h);
                        draw_container_part(app, *w, avail.x, dh, body - dh);
                    } else {
                        draw_container_part(app, *w, avail.x, std::max(body, min_h * 0.8f), 0);
                    }
                    break;
            }
        } else {
            float dh = side_by_side ? std::clamp(avail.y - header - legend - setup_h, min_h, line * 22)
                                    : std::clamp((avail.y - header * 2 - legend - setup_h) * 0.5f, min_h, line * 18);
            const float gap = ImGui::GetStyle().ItemSpacing.x * 3;
            const float col_w = side_by_side ? (avail.x - gap) * 0.5f : avail.x;
            ImGui::BeginGroup();
            draw_container_part(app, *w, col_w, dh, setup_h);
            ImGui::EndGroup();
            if (side_by_side) ImGui::SameLine(0, gap);
            else ImGui::Separator();
            ImGui::BeginGroup();
            draw_vm_part(app, *w, col_w, dh);
            ImGui::EndGroup();
        }
        ImGui::Separator();
        ImGui::PushTextWrapPos(0);
        ImGui::TextDisabled("%s", T("gui.lifecycle.legend"));
        ImGui::PopTextWrapPos();
    }

private:
    // The container's heading, its diagram in WIDTH×HEIGHT (none when HEIGHT is 0), then (a
    // container selected) its setup steps in SETUP_H below it.
    void draw_container_part(App& app, const view::WorldSnapshot& w, float width, float height, float setup_h) {
        ImGui::PushID("container");
        const view::ContainerView* sel = w.container(app.selected_container);
        ImGui::TextUnformatted(T("gui.lifecycle.container_title"));
        ImGui::SameLine();
        help_marker(T("gui.lifecycle.container_help"));
        // The selection, here as well as in the stacks.
        ImGui::SetNextItemWidth(std::min(width * 0.45f, ImGui::GetFontSize() * 14));
        std::string preview = sel ? sel->rec.name : std::string(T("gui.lifecycle.pick"));
        if (ImGui::BeginCombo("##pick", preview.c_str())) {
            for (const auto& c : w.containers) {
                ImGui::PushID(c.rec.id.c_str());
                std::string item = c.rec.name + "  (" + std::string(T(("gui.state." + std::string(to_string(c.rec.state))).c_str())) + ")";
                if (ImGui::Selectable(item.c_str(), sel && sel->rec.id == c.rec.id)) app.selected_container = c.rec.name;
                ImGui::PopID();
            }
            if (w.containers.empty()) ImGui::TextDisabled("%s", T("gui.lifecycle.no_containers"));
            ImGui::EndCombo();
        }
        if (sel) {
            ImGui::SameLine();
            state_badge(std::string(to_string(sel->rec.state)));
        }
        bool removed = !sel && !app.selected_container.empty();
        ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + width);
        // (The sentence points at the diagram: not when only the setup steps are shown.)
        if (sel && height > 0) ImGui::TextDisabled("%s", i18n::trf("gui.lifecycle.container_now", {sel->rec.name, T(("gui.state." + std::string(to_string(sel->rec.state))).c_str())}).c_str());
        else if (sel) ImGui::Spacing();
        else if (removed) ImGui::TextDisabled("%s", i18n::trf("gui.lifecycle.container_gone", {app.selected_container}).c_str());
        else ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(kHighlight), "%s", T("gui.lifecycle.select_hint"));
        ImGui::PopTextWrapPos();

        std::optional<ContainerState> state;
        if (sel) state = sel->rec.state;
        std::string fresh = next_container_name(w);
        std::string run = view::run_web_command(w);           // "run -d ..." 
        std::string rest = run.rfind("run -d ", 0) == 0 ? run.substr(7) : run.substr(4);
        std::string run_cmd = "run -d --name " + fresh + " " + rest;
        std::string create_cmd = "create --name " + fresh + " " + rest;
        std::string name = sel ? sel->rec.name : app.selected_container;
        LifecycleDiagram d = view::container_diagram(state, removed, name, sel ? sel->rec.id : "", run_cmd, create_cmd);
        if (height > 0)
            if (const LifecycleEdge* e = draw_diagram("cdiag", d, false, width, height)) {
                app.command(e->command);
                if (e->from == "none") app.selected_container = fresh;
            }
        if (sel && setup_h > 0) draw_setup_steps(app, sel->rec.name, setup_, width, setup_h);
        ImGui::PopID();
    }

    void draw_vm_part(App& app, const view::WorldSnapshot& w, float width, float height) {
        ImGui::PushID("vm");
        const view::VmView* sel = w.vm(app.selected_vm);
        ImGui::TextUnformatted(T("gui.lifecycle.vm_title"));
        ImGui::SameLine();
        help_marker(T("gui.lifecycle.vm_help"));
        ImGui::SetNextItemWidth(std::min(width * 0.45f, ImGui::GetFontSize() * 14));
        std::string preview = sel ? sel->rec.name : std::string(T("gui.lifecycle.pick_vm"));
        if (ImGui::BeginCombo("##pickvm", preview.c_str())) {
            for (const auto& v : w.vms) {
                ImGui::PushID(v.rec.name.c_str());
                std::string item = v.rec.name + "  (" + std::string(T(("gui.state." + std::string(vm::to_string(v.rec.state))).c_str())) + ")";
                if (ImGui::Selectable(item.c_str(), sel && sel->rec.name == v.rec.name)) app.selected_vm = v.rec.name;
                ImGui::PopID();
            }
            if (w.vms.empty()) ImGui::TextDisabled("%s", T("gui.lifecycle.no_vms"));
            ImGui::EndCombo();
        }
        if (sel) {
            ImGui::SameLine();
            state_badge(std::string(vm::to_string(sel->rec.state)));
        }
        bool removed = !sel && !app.selected_vm.empty();
        ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + width);
        if (sel) ImGui::TextDisabled("%s", i18n::trf("gui.lifecycle.vm_now", {sel->rec.name, T(("gui.state." + std::string(vm::to_string(sel->rec.state))).c_str())}).c_str());
        else if (removed) ImGui::TextDisabled("%s", i18n::trf("gui.lifecycle.vm_gone", {app.selected_vm}).c_str());
        else ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(kHighlight), "%s", T("gui.lifecycle.select_vm_hint"));
        ImGui::PopTextWrapPos();

        std::optional<vm::VmState> state;
        if (sel) state = sel->rec.state;
        std::string fresh = view::next_vm_name(w);
        std::string name = sel ? sel->rec.name : app.selected_vm;
        LifecycleDiagram d = view::vm_diagram(state, removed, name, fresh);
        if (const LifecycleEdge* e = draw_diagram("vdiag", d, true, width, height)) {
            app.command(e->command);
            if (e->from == "none") app.selected_vm = fresh;
            if (e->action == "vm start -d") app.animate_for(20000);
        }
        ImGui::PopID();
    }

    view::SetupList setup_;      // the selected container's setup, this frame
    enum class Focus { Container, Vm, Setup };
    Focus focus_ = Focus::Container;  // one-diagram mode: what is shown
    bool focus_chosen_ = false;
    std::string last_container_, last_vm_;  // the selection the focus last followed
};

}  // namespace

std::unique_ptr<View> make_lifecycle_view() { return std::make_unique<LifecycleView>(); }

}  // namespace isolab::gui
