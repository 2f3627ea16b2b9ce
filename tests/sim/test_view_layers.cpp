// The layer stack of the "Images & layers" tab: history steps matched to layers, settings-only
// steps between them, the writable layer on top (no disk: images are built in memory).
#include <doctest/doctest.h>

#include "sim/view/layers_model.hpp"

using namespace isolab;
using namespace isolab::view;
using nlohmann::json;

namespace {

const std::string kA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const std::string kB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const std::string kC = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

std::string dir_of(const std::string& diff_id) { return "/root/images/layers/" + diff_id.substr(7); }

// An image like isolab/web: busybox's ADD + CMD, then LABEL, COPY, EXPOSE, STOPSIGNAL, CMD.
Image web_image() {
    Image img;
    img.id = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    img.repo_tags = {"isolab/web:latest"};
    img.config = json::parse(R"({
        "created": "2024-05-01T12:00:03.123456789Z",
        "rootfs": {"type": "layers", "diff_ids": [")" + kA + R"(", ")" + kB + R"("]},
        "history": [
          {"created": "2024-05-01T11:00:00Z", "created_by": "isolab: ADD busybox-static (/bin/busybox) in /"},
          {"created": "2024-05-01T11:00:00Z", "created_by": "isolab: CMD [\"sh\"]", "empty_layer": true},
          {"created": "2024-05-01T12:00:00Z", "created_by": "LABEL org.opencontainers.image.title=\"IsoLab web\"", "empty_layer": true},
          {"created": "2024-05-01T12:00:01Z", "created_by": "COPY index.html /var/www/index.html"},
          {"created": "2024-05-01T12:00:02Z", "created_by": "EXPOSE 80", "empty_layer": true},
          {"created": "2024-05-01T12:00:03Z", "created_by": "CMD [\"httpd\",\"-f\"]", "empty_layer": true}
        ]})");
    img.layer_dirs = {dir_of(kA), dir_of(kB)};
    return img;
}

}  // namespace

TEST_CASE("view: layers: history entries are matched to layers in order, settings-only steps interleaved") {
    Image img = web_image();
    std::map<std::string, int64_t> sizes = {{dir_of(kA), 2000000}, {dir_of(kB), 1234}};
    LayerStack s = build_layer_stack(img, sizes);
    REQUIRE(s.slabs.size() == 6);
    CHECK(s.title == "isolab/web:latest");
    CHECK(s.short_id == "0123456789ab");
    CHECK(s.layer_count == 2);
    CHECK(s.settings_count == 4);
    CHECK(s.image_size == 2001234);
    CHECK_FALSE(s.has_writable);

    // Lowest first: the busybox layer, its CMD, the LABEL, the COPY layer, EXPOSE, CMD.
    CHECK(s.slabs[0].kind == SlabKind::Layer);
    CHECK(s.slabs[0].diff_id == kA);
    CHECK(s.slabs[0].short_id == "aaaaaaaaaaaa");
    CHECK(s.slabs[0].size == 2000000);
    CHECK(s.slabs[0].step == "ADD busybox-static (/bin/busybox) in /");
    CHECK(s.slabs[1].kind == SlabKind::Settings);
    CHECK(s.slabs[1].step == "CMD [\"sh\"]");
    CHECK(s.slabs[1].size == 0);
    CHECK(s.slabs[2].kind == SlabKind::Settings);
    CHECK(s.slabs[3].kind == SlabKind::Layer);
    CHECK(s.slabs[3].diff_id == kB);
    CHECK(s.slabs[3].dir == dir_of(kB));
    CHECK(s.slabs[3].step == "COPY index.html /var/www/index.html");
    CHECK(s.slabs[3].created == "2024-05-01T12:00:01Z");
    CHECK(s.slabs[4].step == "EXPOSE 80");
    CHECK(s.slabs[5].kind == SlabKind::Settings);
    for (const auto& slab : s.slabs) {
        CHECK_FALSE(slab.no_history);
        CHECK_FALSE(slab.missing_layer);
    }
}

TEST_CASE("view: layers: the writable layer goes on top of the read-only ones") {
    Image img = web_image();
    WritableLayer w;
    w.container = "web";
    w.dir = "/root/containers/abc/upper";
    w.size = 4096;
    w.changes = 3;
    LayerStack s = build_layer_stack(img, {}, &w);
    REQUIRE(s.slabs.size() == 7);
    CHECK(s.has_writable);
    CHECK(s.slabs.back().kind == SlabKind::Writable);
    CHECK(s.slabs.back().step == "web");
    CHECK(s.slabs.back().size == 4096);
    CHECK(s.slabs.back().changes == 3);
    // Not measured yet: -1, and the image size counts only what is known.
    CHECK(s.slabs[0].size == -1);
    CHECK(s.image_size == 0);
    CHECK(s.layer_count == 2);  // the writable layer is not part of the image
}

TEST_CASE("view: layers: a config without history still shows every layer, a short one marks the rest") {
    Image img = web_image();
    img.config.erase("history");
    LayerStack none = build_layer_stack(img, {});
    REQUIRE(none.slabs.size() == 2);
    CHECK(none.slabs[0].no_history);
    CHECK(none.slabs[1].no_history);
    CHECK(none.slabs[1].diff_id == kB);

    // History names three layers, rootfs has two: the third is marked, not invented.
    Image more = web_image();
    more.config["history"].push_back(json::parse(R"({"created_by": "RUN rm /bin/vi"})"));
    LayerStack s = build_layer_stack(more, {});
    REQUIRE(s.slabs.size() == 7);
    CHECK(s.slabs.back().missing_layer);
    CHECK(s.slabs.back().diff_id.empty());
    CHECK(s.slabs.back().step == "RUN rm /bin/vi");
    CHECK(s.layer_count == 2);

    // History names one layer, rootfs has three: the extra ones come after, without a step.
    Image fewer = web_image();
    fewer.config["rootfs"]["diff_ids"].push_back(kC);
    fewer.layer_dirs.push_back(dir_of(kC));
    fewer.config["history"] = json::parse(R"([{"created_by": "ADD x /"}])");
    LayerStack f = build_layer_stack(fewer, {});
    REQUIRE(f.slabs.size() == 3);
    CHECK(f.slabs[0].step == "ADD x /");
    CHECK_FALSE(f.slabs[0].no_history);
    CHECK(f.slabs[1].no_history);
    CHECK(f.slabs[2].diff_id == kC);
}

TEST_CASE("view: layers: the diff_id comes from the directory when rootfs has none") {
    Image img = web_image();
    img.config.erase("rootfs");
    LayerStack s = build_layer_stack(img, {});
    CHECK(s.slabs[0].diff_id == kA);
    CHECK(s.slabs[3].diff_id == kB);
}

TEST_CASE("view: layers: steps, ids and times as a learner reads them") {
    CHECK(step_text("/bin/sh -c #(nop)  CMD [\"sh\"]") == "CMD [\"sh\"]");
    CHECK(step_text("/bin/sh -c #(nop) ADD file:abc in / ") == "ADD file:abc in / ");
    CHECK(step_text("/bin/sh -c apk add curl") == "RUN apk add curl");
    CHECK(step_text("isolab: CMD [\"sh\"]") == "CMD [\"sh\"]");
    CHECK(step_text("COPY a /b") == "COPY a /b");
    CHECK(step_text("") == "");
    CHECK(short_id("sha256:0123456789abcdef") == "0123456789ab");
    CHECK(short_id("abc") == "abc");
    CHECK(short_time("2024-05-01T12:00:03.123Z") == "2024-05-01 12:00");
    CHECK(short_time("yesterday") == "yesterday");
}

TEST_CASE("view: layers: the image list and which image is shown first") {
    WorldSnapshot w;
    Image web = web_image();
    Image busybox;
    busybox.id = "sha256:bbbb000000000000000000000000000000000000000000000000000000000000";
    busybox.repo_tags = {"busybox:latest"};
    busybox.layer_dirs = {dir_of(kA)};
    w.images = {busybox, web};
    ContainerView c;
    c.rec.id = "c0ffee0000000000000000000000000000000000000000000000000000000000";
    c.rec.name = "site";
    c.rec.image_id = web.id;
    w.containers = {c};

    auto rows = image_rows(w, {{dir_of(kA), 100}});
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].tags == "busybox:latest");
    CHECK(rows[0].size == 100);
    CHECK(rows[0].layers == 1);
    CHECK(rows[0].containers == 0);
    CHECK(rows[1].size == -1);  // the COPY layer is not measured yet
    CHECK(rows[1].containers == 1);
    CHECK(rows[1].created == "2024-05-01 12:00");

    CHECK(pick_image(w, "", "") == busybox.id);           // the first
    CHECK(pick_image(w, "", "site") == web.id);           // the selected container's image
    CHECK(pick_image(w, busybox.id, "site") == busybox.id);  // what the learner clicked wins
    CHECK(pick_image(w, "sha256:gone", "nobody") == busybox.id);
    CHECK(pick_image(WorldSnapshot{}, "", "") == "");

    // busybox here has no config at all (null): its layer is still drawn, nothing throws.
    LayerStack bs = build_layer_stack(busybox, {});
    REQUIRE(bs.slabs.size() == 1);
    CHECK(bs.slabs[0].no_history);
    CHECK(bs.slabs[0].diff_id == kA);
    CHECK(bs.title == "busybox:latest");
}
