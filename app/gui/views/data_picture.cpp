#include "app/gui/views/data_picture.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>

#include "app/gui/view.hpp"
#include "sim/core/i18n.hpp"

namespace isolab::gui {

namespace {

// The Images tab's own colours: its writable layer and read-only layers (images_view.cpp); green
// for what stays (the isolation tab's "its own"); a folder's brown for the host's files; magenta
// for memory.
constexpr ImU32 kWritable = IM_COL32(214, 122, 20, 255);
constexpr ImU32 kImage = IM_COL32(52, 101, 164, 255);
constexpr ImU32 kVolume = IM_COL32(46, 160, 67, 255);
constexpr ImU32 kAnonymous = IM_COL32(30, 128, 104, 255);
constexpr ImU32 kMissing = IM_COL32(110, 118, 129, 255);
constexpr ImU32 kBind = IM_COL32(133, 94, 56, 255);
constexpr ImU32 kTmpfs = IM_COL32(168, 62, 130, 255);
constexpr ImU32 kWhite = IM_COL32(255, 255, 255, 255);
constexpr ImU32 kSoftWhite = IM_COL32(255, 255, 255, 210);
constexpr ImU32 kSelected = IM_COL32(255, 200, 0, 255);

constexpr size_t kMaxUsersShown = 4;

ImU32 with_alpha(ImU32 c, int alpha) { return (c & ~IM_COL32_A_MASK) | (static_cast<ImU32>(alpha) << IM_COL32_A_SHIFT); }

ImU32 lighter(ImU32 c) {
    ImVec4 v = ImGui::ColorConvertU32ToFloat4(c);
    return ImGui::ColorConvertFloat4ToU32(ImVec4(std::min(1.0f, v.x * 1.25f + 0.10f), std::min(1.0f, v.y * 1.25f + 0.10f),
                                                 std::min(1.0f, v.z * 1.25f + 0.10f), v.w));
}

std::string size_text(int64_t bytes) { return bytes < 0 ? "..." : view::human_bytes(bytes); }

void show_tip(const std::string& tip) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 32);
    ImGui::TextUnformatted(tip.c_str());
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
}

void ellipse_filled(ImDrawList* dl, ImVec2 c, float rx, float ry, ImU32 col) {
    constexpr int n = 32;
    ImVec2 pts[n];
    for (int i = 0; i < n; ++i) {
        float a = static_cast<float>(i) * 6.2831853f / n;
        pts[i] = ImVec2(c.x + rx * std::cos(a), c.y + ry * std::sin(a));
    }
    dl->AddConvexPolyFilled(pts, n, col);
}

void dashed_line(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 col, float dash, float thick) {
    float len = std::hypot(b.x - a.x, b.y - a.y);
    if (len <= 0) return;
    ImVec2 d((b.x - a.x) / len, (b.y - a.y) / len);
    for (float t = 0; t < len; t += dash * 2) {
        float e = std::min(t + dash, len);
        dl->AddLine(ImVec2(a.x + d.x * t, a.y + d.y * t), ImVec2(a.x + d.x * e, a.y + d.y * e), col, thick);
    }
}

void dashed_rect(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 col, float dash, float thick) {
    dashed_line(dl, a, ImVec2(b.x, a.y), col, dash, thick);
    dashed_line(dl, ImVec2(b.x, a.y), b, col, dash, thick);
    dashed_line(dl, b, ImVec2(a.x, b.y), col, dash, thick);
    dashed_line(dl, ImVec2(a.x, b.y), a, col, dash, thick);
}

// What one box says, line by line, and how it looks.
struct BoxText {
    std::string kind, label, size, status, tip;
    std::vector<std::string> users;
    ImU32 fill = kVolume;
};

std::string use_line(const view::DataUse& u) {
    std::string s = u.container + " → " + u.target + " · " + (u.readonly ? "ro" : "rw");
    if (u.simulated) s += " (" + std::string(T("gui.data.simulated")) + ")";
    return s;
}

BoxText box_text(const view::DataBox& b) {
    BoxText t;
    t.label = b.label;
    for (size_t i = 0; i < b.users.size() && i < kMaxUsersShown; ++i) t.users.push_back(use_line(b.users[i]));
    if (b.users.size() > kMaxUsersShown)
        t.users.push_back(i18n::trf("gui.data.more_users", {std::to_string(b.users.size() - kMaxUsersShown)}));
    std::string users_tip;
    for (const auto& u : b.users) users_tip += "\n  " + use_line(u);
    if (b.kind == view::DataKind::Bind) {
        t.kind = T("gui.data.kind_bind");
        t.fill = kBind;
        t.size = "";  // not measured: a host folder may be the whole disk
        t.status = T("gui.data.survives");
        t.tip = i18n::trf("gui.data.bind_tip", {b.path}) + users_tip;
        return t;
    }
    t.kind = T(b.anonymous ? "gui.data.kind_anonymous" : "gui.data.kind_volume");
    t.fill = b.missing ? kMissing : b.anonymous ? kAnonymous : kVolume;
    t.size = b.missing ? "" : size_text(b.size);
    t.status = b.dangling ? T("gui.data.dangling")
               : b.missing ? T("gui.data.missing")
               : b.anonymous ? T("gui.data.anonymous_status")
                             : T("gui.data.survives");
    if (b.missing) t.tip = i18n::trf("gui.data.missing_tip", {b.source});
    else if (b.anonymous) t.tip = i18n::trf("gui.data.anonymous_tip", {b.source, b.path, b.created});
    else t.tip = i18n::trf("gui.data.volume_tip", {b.source, b.path, b.created});
    t.tip += users_tip;
    return t;
}

}  // namespace

void draw_data_picture(App& app, const view::DataPicture& pic, float width) {
    ImGui::TextUnformatted(T("gui.data.title"));
    ImGui::SameLine();
    help_marker(T("gui.data.help"));
    ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + width);
    ImGui::TextUnformatted(T("gui.data.lesson"));
    ImGui::PopTextWrapPos();
    if (pic.empty()) {
        ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + width);
        ImGui::TextDisabled("%s", T("gui.data.none"));
        ImGui::PopTextWrapPos();
        return;
    }

    const float fs = ImGui::GetFontSize();
    const float line = ImGui::GetTextLineHeight();
    const float pad = fs * 0.45f;
    const float gap = fs * 0.9f;
    const float thick = std::max(1.5f, fs * 0.12f);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImU32 text_col = ImGui::GetColorU32(ImGuiCol_Text);

    // --- layout: columns on top, the host band below ---
    const size_t n = pic.columns.size();
    size_t most_chips = 0;
    for (const auto& c : pic.columns) most_chips = std::max(most_chips, c.tmpfs.size());
    const float header_h = line * 1.25f, chip_h = line * 1.45f, writable_h = line * 2.5f, image_h = line * 1.5f;
    const float col_h = pad + header_h + static_cast<float>(most_chips) * chip_h + writable_h + pad * 0.5f + image_h + pad;
    const float cw = n ? std::min(fs * 16, (width - gap * static_cast<float>(n - 1)) / static_cast<float>(n)) : 0;
    ImVec2 origin = ImGui::GetCursorScreenPos();
    origin.y += pad;
    const float cols_total = static_cast<float>(n) * cw + static_cast<float>(n ? n - 1 : 0) * gap;
    const float cx0 = origin.x + std::max(0.0f, (width - cols_total) * 0.5f);
    const float cols_bottom = origin.y + (n ? col_h : 0);
    // Room under the columns for the lines and their target labels, one label row per edge.
    size_t most_edges = 0;
    for (const auto& c : pic.columns) most_edges = std::max(most_edges, c.edges.size());
    const float band_top = cols_bottom + (n ? line * (1.2f + std::max(1.6f, static_cast<float>(most_edges) * 1.05f)) : 0);

    std::vector<BoxText> texts;
    for (const auto& b : pic.boxes) texts.push_back(box_text(b));
    const size_t m = pic.boxes.size();
    const float inner_pad = pad;
    // Each box as wide as its longest line needs, between 10 and 17 font heights (a long host
    // path is cut, its tooltip has it whole); rows filled left to right, each centered.
    const float kind_scale = 0.85f;  // the kind is a caption above the name
    std::vector<float> bws(m);
    for (size_t i = 0; i < m; ++i) {
        const BoxText& t = texts[i];
        float need = ImGui::CalcTextSize(t.kind.c_str()).x * kind_scale;
        need = std::max(need, ImGui::CalcTextSize(t.label.c_str()).x + ImGui::CalcTextSize(t.size.c_str()).x + pad);
        for (const auto& u : t.users) need = std::max(need, ImGui::CalcTextSize(u.c_str()).x);
        bws[i] = std::min(std::clamp(need + inner_pad * 2 + 2, fs * 10.0f, fs * 17.0f), width - pad * 2);
    }
    auto top_extra = [&](const view::DataBox& b) { return b.kind == view::DataKind::Bind ? line * 0.5f : line * 0.6f; };
    auto box_h = [&](size_t i) {
        const BoxText& t = texts[i];
        float status_h = ImGui::CalcTextSize(t.status.c_str(), nullptr, false, bws[i] - inner_pad * 2).y;
        return top_extra(pic.boxes[i]) + inner_pad * 2 + line * (2 + static_cast<float>(t.users.size())) + pad * 0.5f + status_h;
    };
    std::vector<ImVec2> box_a(m), box_b(m);  // box_a.y: the top of its shape (drum lid, folder tab)
    std::vector<size_t> box_row(m);
    float y = band_top + pad + line + pad;   // under the band's title
    for (size_t r0 = 0, row = 0; r0 < m; ++row) {
        size_t r1 = r0 + 1;
        float row_w = bws[r0];
        while (r1 < m && row_w + gap + bws[r1] <= width - pad * 2) row_w += gap + bws[r1++];
        float row_h = 0;
        for (size_t i = r0; i < r1; ++i) row_h = std::max(row_h, box_h(i));
        float x = origin.x + std::max(pad, (width - row_w) * 0.5f);
        for (size_t i = r0; i < r1; ++i) {
            box_a[i] = ImVec2(x, y);
            box_row[i] = row;
            box_b[i] = ImVec2(x + bws[i], y + box_h(i));
            x += bws[i] + gap;
        }
        y += row_h + line * 1.3f;  // room for a line to turn towards a lower-row box
        r0 = r1;
    }
    if (m == 0) y += line + pad;
    const float band_bottom = y;
    ImGui::SetCursorScreenPos(ImVec2(origin.x, origin.y - pad));
    ImGui::Dummy(ImVec2(width, band_bottom - origin.y + pad * 2));
    app.outline_last_item("volumes");
    if (app.take_scroll_to("volumes")) ImGui::SetScrollHereY(0.1f);
    const bool window_hovered = ImGui::IsWindowHovered();
    std::string tip;
    auto hover = [&](ImVec2 a, ImVec2 b) { return window_hovered && ImGui::IsMouseHoveringRect(a, b); };

    // --- the host band: what is in it stays ---
    ImVec2 band_a(origin.x, band_top), band_b(origin.x + width, band_bottom);
    dl->AddRectFilled(band_a, band_b, with_alpha(kVolume, 34), fs * 0.35f);
    dl->AddRect(band_a, band_b, with_alpha(kVolume, 150), fs * 0.35f, 0, thick);
    if (m == 0) dl->AddText(ImVec2(band_a.x + pad, band_a.y + pad + line + pad), ImGui::GetColorU32(ImGuiCol_TextDisabled),
                            fit_text(T("gui.data.no_boxes"), width - pad * 2).c_str());

    // --- the lines: a column's bottom to each box it mounts ---
    for (size_t i = 0; i < n; ++i) {
        const auto& c = pic.columns[i];
        float x = cx0 + static_cast<float>(i) * (cw + gap);
        for (size_t k = 0; k < c.edges.size(); ++k) {
            const auto& e = c.edges[k];
            const view::DataBox& b = pic.boxes[e.box];
            size_t j = 0;
            for (; j < b.users.size(); ++j)
                if (b.users[j].container_id == c.id && b.users[j].target == e.target) break;
            float nu = static_cast<float>(b.users.size() + 1), bw = bws[e.box];
            ImVec2 s(x + cw * static_cast<float>(k + 1) / static_cast<float>(c.edges.size() + 1), cols_bottom);
            ImVec2 t(box_a[e.box].x + bw * static_cast<float>(j + 1) / nu, box_a[e.box].y + top_extra(b) * 0.5f);
            ImU32 col = texts[e.box].fill;
            if (c.simulated) col = with_alpha(col, 110);
            if (box_row[e.box] == 0) {
                float dy = (t.y - s.y) * 0.5f;
                dl->AddBezierCubic(s, ImVec2(s.x, s.y + dy), ImVec2(t.x, t.y - dy), t, col, thick * 1.3f);
            } else {
                // A box in a lower row: down the gap between first-row boxes nearest to it, so the
                // line never runs behind another box.
                float gx = box_a[0].x - gap * 0.5f;
                for (size_t g = 0; g < m && box_row[g] == 0; ++g) {
                    float cand = box_b[g].x + gap * 0.5f;
                    if (std::fabs(cand - t.x) < std::fabs(gx - t.x)) gx = cand;
                }
                ImVec2 p1(gx, box_a[0].y - line * 0.3f), p2(gx, t.y - line * 0.9f);
                float dy1 = (p1.y - s.y) * 0.5f, dy2 = (t.y - p2.y) * 0.5f;
                dl->AddBezierCubic(s, ImVec2(s.x, s.y + dy1), ImVec2(p1.x, p1.y - dy1), p1, col, thick * 1.3f);
                dl->AddLine(p1, p2, col, thick * 1.3f);
                dl->AddBezierCubic(p2, ImVec2(p2.x, p2.y + dy2), ImVec2(t.x, t.y - dy2), t, col, thick * 1.3f);
            }
            dl->AddCircleFilled(s, thick * 2.0f, col);
            // The target at the line's container end, the path the container sees: one row per
            // edge, so that labels of neighbouring lines never overlap.
            std::string label = e.target + (e.readonly ? " (ro)" : "");
            ImVec2 ls = ImGui::CalcTextSize(label.c_str());
            ImVec2 lp(s.x + thick * 2.5f, s.y + thick * 1.5f + line * 1.05f * static_cast<float>(k));
            lp.x = std::min(lp.x, origin.x + width - ls.x - 2);
            dl->AddRectFilled(ImVec2(lp.x - 2, lp.y), ImVec2(lp.x + ls.x + 2, lp.y + ls.y), ImGui::GetColorU32(ImGuiCol_WindowBg, 0.85f), 3);
            dl->AddText(lp, text_col, label.c_str());
        }
    }

    // The band's title over the lines that cross it.
    {
        std::string title = fit_text(T("gui.data.band"), width - pad * 2);
        ImVec2 tp(band_a.x + pad, band_a.y + pad), ts = ImGui::CalcTextSize(title.c_str());
        dl->AddRectFilled(ImVec2(tp.x - 2, tp.y), ImVec2(tp.x + ts.x + 2, tp.y + ts.y), ImGui::GetColorU32(ImGuiCol_WindowBg, 0.8f), 3);
        dl->AddText(tp, text_col, title.c_str());
    }

    // --- the containers: writable layer over the image, tmpfs chips inside ---
    for (size_t i = 0; i < n; ++i) {
        const auto& c = pic.columns[i];
        ImGui::PushID(c.id.c_str());
        ImVec2 a(cx0 + static_cast<float>(i) * (cw + gap), origin.y), b(a.x + cw, cols_bottom);
        std::string state(to_string(c.state));
        ImU32 frame = state_color(state);
        bool hovered = hover(a, b);
        dl->AddRectFilled(a, b, with_alpha(frame, 28), fs * 0.35f);
        dl->AddRect(a, b, c.selected ? kSelected : frame, fs * 0.35f, 0, c.selected ? thick * 2 : thick);
        if (hovered && ImGui::IsMouseClicked(ImGuiMouseButton_Left)) app.selected_container = c.name;
        // Header: name, and the state (and "simulated": nothing of this is mounted).
        std::string st = T(("gui.state." + state).c_str());
        if (c.simulated) st = std::string(T("gui.data.simulated")) + " · " + st;
        float inner = cw - pad * 2;
        std::string st_fit = fit_text(st, inner * 0.55f);
        float st_w = ImGui::CalcTextSize(st_fit.c_str()).x;
        float hy = a.y + pad + (header_h - line) * 0.5f;
        dl->AddText(ImVec2(a.x + pad, hy), text_col, fit_text(c.name, inner - st_w - pad).c_str());
        dl->AddText(ImVec2(b.x - pad - st_w, hy), c.simulated ? IM_COL32(255, 150, 30, 255) : frame, st_fit.c_str());
        float yy = a.y + pad + header_h;
        for (size_t k = 0; k < c.tmpfs.size(); ++k) {
            const auto& t = c.tmpfs[k];
            ImVec2 ca(a.x + pad * 1.6f, yy + line * 0.15f), cb(b.x - pad * 1.6f, yy + chip_h - line * 0.15f);
            // A memory chip: a body with pins on both sides.
            for (float px = ca.x + pad; px < cb.x - pad * 0.5f; px += pad * 1.4f) {
                dl->AddLine(ImVec2(px, ca.y - line * 0.12f), ImVec2(px, ca.y), kTmpfs, thick);
                dl->AddLine(ImVec2(px, cb.y), ImVec2(px, cb.y + line * 0.12f), kTmpfs, thick);
            }
            dl->AddRectFilled(ca, cb, kTmpfs, fs * 0.15f);
            std::string chip = i18n::trf("gui.data.tmpfs", {t.target}) + (t.readonly ? " (ro)" : "");
            dl->AddText(ImVec2(ca.x + pad, (ca.y + cb.y - line) * 0.5f), kWhite, fit_text(chip, cb.x - ca.x - pad * 2).c_str());
            if (hover(ca, cb))
                tip = i18n::trf("gui.data.tmpfs_tip", {t.target, t.size > 0 ? view::human_bytes(t.size) : std::string(T("gui.data.tmpfs_default"))});
            yy += chip_h;
        }
        yy = b.y - pad - image_h - pad * 0.5f - writable_h;
        // The writable layer: `rm` deletes it.
        ImVec2 wa(a.x + pad, yy), wb(b.x - pad, yy + writable_h);
        dl->AddRectFilled(wa, wb, kWritable, fs * 0.15f);
        dl->AddRectFilled(wa, ImVec2(wb.x, wa.y + line * 0.25f), lighter(kWritable), fs * 0.15f, ImDrawFlags_RoundCornersTop);
        float tx = wa.x + pad, tw = wb.x - wa.x - pad * 2, ty = wa.y + (writable_h - line * 2) * 0.5f + line * 0.1f;
        dl->AddText(ImVec2(tx, ty), kWhite, fit_text(T("gui.data.writable"), tw).c_str());
        dl->AddText(ImVec2(tx, ty + line), kSoftWhite, fit_text(T("gui.data.writable_rm"), tw).c_str());
        if (hover(wa, wb)) tip = i18n::trf("gui.data.writable_tip", {c.name});
        // The image: read-only, shared, not this container's.
        ImVec2 ia(a.x + pad, wb.y + pad * 0.5f), ib(b.x - pad, wb.y + pad * 0.5f + image_h);
        dl->AddRectFilled(ia, ib, kImage, fs * 0.15f);
        ty = ia.y + (image_h - line) * 0.5f;
        dl->AddText(ImVec2(tx, ty), kWhite, fit_text(i18n::trf("gui.data.image", {c.image_title}), tw).c_str());
        if (hover(ia, ib)) tip = i18n::trf("gui.data.image_tip", {c.image_title, c.name, std::to_string(c.image_layers)});
        ImGui::PopID();
    }

    // --- the boxes: volumes as drums, host folders as folders ---
    for (size_t i = 0; i < m; ++i) {
        const view::DataBox& b = pic.boxes[i];
        const BoxText& t = texts[i];
        ImVec2 a = box_a[i], z = box_b[i];
        const float bw = bws[i];
        float ex = top_extra(b);
        if (b.kind == view::DataKind::Bind) {
            // A folder: a tab on its top left, the body below.
            dl->AddRectFilled(ImVec2(a.x, a.y), ImVec2(a.x + bw * 0.4f, a.y + ex + fs * 0.3f), lighter(t.fill), fs * 0.25f,
                              ImDrawFlags_RoundCornersTop);
            dl->AddRectFilled(ImVec2(a.x, a.y + ex), z, t.fill, fs * 0.2f);
        } else {
            // A drum: the body, its rounded bottom, a lighter lid.
            float ry = ex * 0.5f, rx = bw * 0.5f;
            ellipse_filled(dl, ImVec2(a.x + rx, z.y - ry), rx, ry, t.fill);
            dl->AddRectFilled(ImVec2(a.x, a.y + ry), ImVec2(z.x, z.y - ry), t.fill);
            ellipse_filled(dl, ImVec2(a.x + rx, a.y + ry), rx, ry, lighter(t.fill));
        }
        if (b.dangling) dashed_rect(dl, ImVec2(a.x - pad * 0.5f, a.y - pad * 0.5f), ImVec2(z.x + pad * 0.5f, z.y + pad * 0.5f),
                                    text_col, fs * 0.4f, thick);
        float tx = a.x + inner_pad, tw = bw - inner_pad * 2, ty = a.y + ex + inner_pad;
        dl->AddText(ImGui::GetFont(), fs * kind_scale, ImVec2(tx, ty + line * (1 - kind_scale) * 0.5f), kSoftWhite,
                    fit_text(t.kind, tw / kind_scale).c_str());
        ty += line;
        // name ............ size
        float size_w = std::min(ImGui::CalcTextSize(t.size.c_str()).x, tw * 0.45f);
        if (size_w > 0) dl->AddText(ImVec2(tx + tw - size_w, ty), kWhite, fit_text(t.size, size_w).c_str());
        dl->AddText(ImVec2(tx, ty), kWhite, fit_text(t.label, tw - size_w - (size_w > 0 ? pad : 0)).c_str());
        ty += line;
        for (const auto& u : t.users) {
            dl->AddText(ImVec2(tx, ty), kWhite, fit_text(u, tw).c_str());
            ty += line;
        }
        ty += pad * 0.5f;
        dl->AddLine(ImVec2(tx, ty - pad * 0.25f), ImVec2(tx + tw, ty - pad * 0.25f), with_alpha(kWhite, 90), 1.0f);
        dl->AddText(ImGui::GetFont(), fs, ImVec2(tx, ty), kWhite, t.status.c_str(), nullptr, tw);
        if (hover(a, z)) tip = t.tip;
    }
    if (!tip.empty()) show_tip(tip);

    if (pic.hidden_columns > 0)
        ImGui::TextDisabled("%s", i18n::trf("gui.data.hidden", {std::to_string(pic.hidden_columns)}).c_str());
    ImGui::TextDisabled("%s", i18n::trf("gui.data.counts", {std::to_string(pic.volume_count), std::to_string(pic.dangling_count),
                                                             std::to_string(pic.bind_count), std::to_string(pic.tmpfs_count)})
                                  .c_str());
}

}  // namespace isolab::gui
