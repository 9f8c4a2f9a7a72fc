// The occlusion scenario of the C++ host (included by host.cpp after its helpers; tests/embed.rs
// runs it as `host occlusion SCENE.ply` with VKSPLAT_QUAD_VERT and VKSPLAT_QUAD_FRAG naming the
// SPIR-V of quad.vert and quad.frag, compiled by glslc at test time).
//
// The host rasterises a quad into its own depth image with a real graphics pipeline (a depth-
// only render pass), hands that image to vksplat (VksplatHostDepth chained into the render
// descriptor, Vulkan depth 0..1, near 0.5, far 100) and renders into its own colour image,
// ordered by its timeline semaphore; it reads both images back itself and checks, per pass:
// - where the quad does not cover, the image is bit-identical to the standalone path
//   (vksplat_render on a context of its own, no host depth);
// - everywhere, it is bit-identical to the standalone path given the host's depth image as a
//   host-memory array (the same convention);
// - for a quad parallel to the image plane, where it covers, bit-identical to the standalone
//   path with the far clip plane at the quad's depth;
// - where the quad covers, visibly different from the unoccluded frame.
// Passes: a parallel quad (standard Z; then its depth again from a VkBuffer), a tilted quad
// (standard Z), a parallel quad with reversed Z (cleared to 0, GREATER_OR_EQUAL). A host depth
// image of a colour format and an unknown convention are refused.

#include <fstream>

static const float QUAD_NEAR = 0.5f, QUAD_FAR = 100.0f;

// The depth value a Vulkan projection with QUAD_NEAR/QUAD_FAR writes at camera depth z.
static float vulkan_depth(double z, bool reversed) {
  double n = QUAD_NEAR, f = QUAD_FAR;
  double d = f / (f - n) * (1.0 - n / z);
  return (float)(reversed ? 1.0 - d : d);
}

static std::vector<char> read_file(const char *path) {
  std::ifstream in(path, std::ios::binary);
  CHECK(in.good(), "cannot read %s", path);
  return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

static VkShaderModule shader_module(Host &h, const char *env) {
  const char *path = std::getenv(env);
  CHECK(path != nullptr, "%s is not set (the SPIR-V path)", env);
  std::vector<char> code = read_file(path);
  CHECK(code.size() % 4 == 0 && !code.empty(), "%s: %zu bytes", path, code.size());
  std::vector<uint32_t> words(code.size() / 4);
  std::memcpy(words.data(), code.data(), code.size());
  VkShaderModuleCreateInfo info{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  info.codeSize = code.size();
  info.pCode = words.data();
  VkShaderModule m;
  VK(vkCreateShaderModule(h.device, &info, nullptr, &m));
  return m;
}

// The host's rasteriser: a depth-only render pass, its framebuffer and a quad pipeline.
struct Raster {
  Image depth;
  VkImageView view = VK_NULL_HANDLE;
  VkRenderPass pass = VK_NULL_HANDLE;
  VkFramebuffer framebuffer = VK_NULL_HANDLE;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  VkPipeline pipelines[2] = {VK_NULL_HANDLE, VK_NULL_HANDLE};  // standard, reversed Z
};

struct QuadPush {
  float rect[4];
  float depth[2];
};

static Raster make_raster(Host &h) {
  Raster r;
  // The depth image: an attachment the host draws into, and a copy source for vksplat.
  r.depth = make_image(h, VK_FORMAT_D32_SFLOAT,
                       VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT |
                           VK_IMAGE_USAGE_TRANSFER_SRC_BIT);
  VkImageViewCreateInfo v{VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO};
  v.image = r.depth.image;
  v.viewType = VK_IMAGE_VIEW_TYPE_2D;
  v.format = r.depth.format;
  v.subresourceRange = {VK_IMAGE_ASPECT_DEPTH_BIT, 0, 1, 0, 1};
  VK(vkCreateImageView(h.device, &v, nullptr, &r.view));

  VkAttachmentDescription att{};
  att.format = r.depth.format;
  att.samples = VK_SAMPLE_COUNT_1_BIT;
  att.loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR;
  att.storeOp = VK_ATTACHMENT_STORE_OP_STORE;
  att.stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE;
  att.stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE;
  att.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
  att.finalLayout = VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL;
  VkAttachmentReference ref{0, VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL};
  VkSubpassDescription sub{};
  sub.pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS;
  sub.pDepthStencilAttachment = &ref;
  VkRenderPassCreateInfo rp{VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO};
  rp.attachmentCount = 1;
  rp.pAttachments = &att;
  rp.subpassCount = 1;
  rp.pSubpasses = &sub;
  VK(vkCreateRenderPass(h.device, &rp, nullptr, &r.pass));
  VkFramebufferCreateInfo fb{VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO};
  fb.renderPass = r.pass;
  fb.attachmentCount = 1;
  fb.pAttachments = &r.view;
  fb.width = W;
  fb.height = H;
  fb.layers = 1;
  VK(vkCreateFramebuffer(h.device, &fb, nullptr, &r.framebuffer));

  VkPushConstantRange push{VK_SHADER_STAGE_VERTEX_BIT, 0, sizeof(QuadPush)};
  VkPipelineLayoutCreateInfo pl{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  pl.pushConstantRangeCount = 1;
  pl.pPushConstantRanges = &push;
  VK(vkCreatePipelineLayout(h.device, &pl, nullptr, &r.layout));

  VkShaderModule vert = shader_module(h, "VKSPLAT_QUAD_VERT");
  VkShaderModule frag = shader_module(h, "VKSPLAT_QUAD_FRAG");
  VkPipelineShaderStageCreateInfo stages[2] = {
      {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO},
      {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO}};
  stages[0].stage = VK_SHADER_STAGE_VERTEX_BIT;
  stages[0].module = vert;
  stages[0].pName = "main";
  stages[1].stage = VK_SHADER_STAGE_FRAGMENT_BIT;
  stages[1].module = frag;
  stages[1].pName = "main";
  VkPipelineVertexInputStateCreateInfo vi{VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO};
  VkPipelineInputAssemblyStateCreateInfo ia{
      VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO};
  ia.topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST;
  VkViewport viewport{0, 0, (float)W, (float)H, 0, 1};
  VkRect2D scissor{{0, 0}, {W, H}};
  VkPipelineViewportStateCreateInfo vp{VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO};
  vp.viewportCount = 1;
  vp.pViewports = &viewport;
  vp.scissorCount = 1;
  vp.pScissors = &scissor;
  VkPipelineRasterizationStateCreateInfo rs{
      VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO};
  rs.polygonMode = VK_POLYGON_MODE_FILL;
  rs.cullMode = VK_CULL_MODE_NONE;
  rs.lineWidth = 1.0f;
  VkPipelineMultisampleStateCreateInfo ms{VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO};
  ms.rasterizationSamples = VK_SAMPLE_COUNT_1_BIT;
  VkPipelineColorBlendStateCreateInfo cb{VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO};
  for (int reversed = 0; reversed < 2; reversed++) {
    VkPipelineDepthStencilStateCreateInfo ds{
        VK_STRUCTURE_TYPE_PIPELINE_DEPTH_STENCIL_STATE_CREATE_INFO};
    ds.depthTestEnable = VK_TRUE;
    ds.depthWriteEnable = VK_TRUE;
    ds.depthCompareOp = reversed ? VK_COMPARE_OP_GREATER_OR_EQUAL : VK_COMPARE_OP_LESS_OR_EQUAL;
    VkGraphicsPipelineCreateInfo gp{VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO};
    gp.stageCount = 2;
    gp.pStages = stages;
    gp.pVertexInputState = &vi;
    gp.pInputAssemblyState = &ia;
    gp.pViewportState = &vp;
    gp.pRasterizationState = &rs;
    gp.pMultisampleState = &ms;
    gp.pDepthStencilState = &ds;
    gp.pColorBlendState = &cb;
    gp.layout = r.layout;
    gp.renderPass = r.pass;
    gp.subpass = 0;
    VK(vkCreateGraphicsPipelines(h.device, VK_NULL_HANDLE, 1, &gp, nullptr, &r.pipelines[reversed]));
  }
  vkDestroyShaderModule(h.device, vert, nullptr);
  vkDestroyShaderModule(h.device, frag, nullptr);
  return r;
}

static void destroy_raster(Host &h, Raster &r) {
  for (VkPipeline p : r.pipelines) vkDestroyPipeline(h.device, p, nullptr);
  vkDestroyPipelineLayout(h.device, r.layout, nullptr);
  vkDestroyFramebuffer(h.device, r.framebuffer, nullptr);
  vkDestroyRenderPass(h.device, r.pass, nullptr);
  vkDestroyImageView(h.device, r.view, nullptr);
  destroy_image(h, r.depth);
}

static VksplatHostDepth host_depth(bool reversed) {
  VksplatHostDepth hd{};
  hd.s_type = VKSPLAT_STRUCT_HOST_DEPTH;
  hd.s_size = sizeof hd;
  hd.convention = VKSPLAT_HOST_DEPTH_ZERO_TO_ONE;
  hd.flags = reversed ? VKSPLAT_HOST_DEPTH_REVERSED : 0;
  hd.depth_near = QUAD_NEAR;
  hd.depth_far = QUAD_FAR;
  return hd;
}

// The standalone path (its own context and device, host memory) with a host depth array
// and/or a far clip plane (0: none).
static std::vector<float> standalone_occluded(const char *ply, const VksplatCamera &cam,
                                              const VksplatHostDepth *hd, float clip_far) {
  VksplatContext *ctx = nullptr;
  VS(vksplat_context_create(nullptr, &ctx));
  VksplatScene *scene = nullptr;
  VS(vksplat_scene_load(ctx, ply, &scene));
  std::vector<float> rgba(W * H * 4, -1.0f);
  VksplatImage img = host_image(rgba, nullptr);
  VksplatRenderDesc d = render_desc(&cam);
  d.next = hd;
  if (clip_far > 0) {
    d.flags |= VKSPLAT_RENDER_CLIP_FAR;
    d.clip_far = clip_far;
  }
  VS(vksplat_render(ctx, scene, &d, &img));
  vksplat_scene_destroy(scene);
  vksplat_context_destroy(ctx);
  return rgba;
}

static bool pixel_equal(const float *a, const float *b) { return std::memcmp(a, b, 16) == 0; }

static void scenario_occlusion(Host &h, const char *ply) {
  VksplatCamera cam = camera(0.0f);
  std::vector<float> plain = standalone(ply, cam).rgba;
  VksplatVulkanDevice dev = device_desc(h);
  VksplatContext *ctx = nullptr;
  VS(vksplat_context_create_vulkan(nullptr, &dev, &ctx));
  VksplatScene *scene = nullptr;
  VS(vksplat_scene_load(ctx, ply, &scene));
  Raster r = make_raster(h);
  Image color = make_image(h, VK_FORMAT_R32G32B32A32_SFLOAT);
  HostBuffer color_rb = make_buffer(h, W * H * 16);
  HostBuffer depth_rb = make_buffer(h, W * H * 4);
  uint64_t sem = (uint64_t)h.timeline;

  struct Pass {
    const char *name;
    float x1;              // the quad covers NDC x in [-1, x1], the full height
    float z_left, z_right; // camera depth at its left and right edges
    bool reversed;
  };
  const Pass passes[] = {{"parallel", 0.0f, 4.0f, 4.0f, false},
                         {"tilted", 0.2f, 2.5f, 6.0f, false},
                         {"parallel reversed-Z", -0.3f, 3.0f, 3.0f, true}};
  std::vector<VkCommandBuffer> cmds;
  for (const Pass &p : passes) {
    // 1. The host's own frame: clear the depth (the far plane) and draw the quad.
    //    After the previous pass's readback (its reads of both images).
    uint64_t before = h.timeline_value;
    uint64_t drawn = ++h.timeline_value;
    cmds.push_back(submit(h, before, drawn, [&](VkCommandBuffer cmd) {
      VkClearValue clear{};
      clear.depthStencil.depth = p.reversed ? 0.0f : 1.0f;
      VkRenderPassBeginInfo b{VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO};
      b.renderPass = r.pass;
      b.framebuffer = r.framebuffer;
      b.renderArea = {{0, 0}, {W, H}};
      b.clearValueCount = 1;
      b.pClearValues = &clear;
      vkCmdBeginRenderPass(cmd, &b, VK_SUBPASS_CONTENTS_INLINE);
      vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, r.pipelines[p.reversed ? 1 : 0]);
      QuadPush q = {{-1.0f, -1.0f, p.x1, 1.0f},
                    {vulkan_depth(p.z_left, p.reversed), vulkan_depth(p.z_right, p.reversed)}};
      vkCmdPushConstants(cmd, r.layout, VK_SHADER_STAGE_VERTEX_BIT, 0, sizeof q, &q);
      vkCmdDraw(cmd, 6, 1, 0, 0);
      vkCmdEndRenderPass(cmd);
    }));

    // 2. vksplat's frame into the host's colour image, occluded by the host's depth image,
    //    after the host's frame (GPU wait on `drawn`).
    VksplatHostDepth hd = host_depth(p.reversed);
    hd.image = (uint64_t)r.depth.image;
    hd.image_format = r.depth.format;
    hd.image_layout = VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL;
    hd.image_queue_family = VK_QUEUE_FAMILY_IGNORED;
    VksplatRenderDesc rd = render_desc(&cam);
    rd.next = &hd;
    VksplatVulkanTarget t = image_target(&color, VK_IMAGE_LAYOUT_UNDEFINED, nullptr);
    uint64_t splatted = ++h.timeline_value;
    t.wait_count = 1;
    t.wait_semaphores = &sem;
    t.wait_values = &drawn;
    t.signal_count = 1;
    t.signal_semaphores = &sem;
    t.signal_values = &splatted;
    uint64_t frame = 0;
    VS(vksplat_render_vulkan(ctx, scene, &rd, &t, &frame));

    // 3. The host reads both images back itself.
    uint64_t read = ++h.timeline_value;
    cmds.push_back(submit(h, splatted, read, [&](VkCommandBuffer cmd) {
      copy_image_to_buffer(cmd, color, color_rb);
      barrier(cmd, r.depth.image, VK_IMAGE_ASPECT_DEPTH_BIT,
              VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL,
              VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_ACCESS_MEMORY_WRITE_BIT,
              VK_ACCESS_TRANSFER_READ_BIT);
      VkBufferImageCopy region{};
      region.imageSubresource = {VK_IMAGE_ASPECT_DEPTH_BIT, 0, 0, 1};
      region.imageExtent = {W, H, 1};
      vkCmdCopyImageToBuffer(cmd, r.depth.image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                             depth_rb.buffer, 1, &region);
      VkMemoryBarrier m{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
      m.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
      m.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
      vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1,
                           &m, 0, nullptr, 0, nullptr);
    }));
    wait_timeline(h, h.timeline, read);
    const float *got = (const float *)color_rb.mapped;
    const float *depth = (const float *)depth_rb.mapped;

    // Which pixels the quad covers: pixel centres left of its right edge.
    auto covered = [&](uint32_t i) { return (i + 0.5f) / W * 2.0f - 1.0f < p.x1; };
    size_t n_covered = 0, n_changed = 0;
    for (uint32_t j = 0; j < H; j++)
      for (uint32_t i = 0; i < W; i++) {
        size_t k = (size_t)j * W + i;
        float cleared = p.reversed ? 0.0f : 1.0f;
        if (!covered(i)) {
          CHECK(depth[k] == cleared, "%s: pixel (%u, %u) uncovered but its depth is %g", p.name,
                i, j, depth[k]);
          CHECK(pixel_equal(&got[4 * k], &plain[4 * k]),
                "%s: uncovered pixel (%u, %u) differs from the standalone path", p.name, i, j);
          continue;
        }
        CHECK(depth[k] != cleared, "%s: pixel (%u, %u) covered but not drawn", p.name, i, j);
        n_covered++;
        if (std::fabs(got[4 * k] - plain[4 * k]) > 0.05f) n_changed++;
      }
    CHECK(n_covered > W * H / 8, "%s: the quad covers only %zu pixels", p.name, n_covered);
    CHECK(n_changed > n_covered / 10, "%s: only %zu of %zu covered pixels changed", p.name,
          n_changed, n_covered);

    // The standalone path given the host's depth as a host-memory array: the same bits.
    std::vector<float> values(depth, depth + W * H);
    VksplatHostDepth hv = host_depth(p.reversed);
    hv.values = values.data();
    hv.value_count = values.size();
    std::vector<float> want = standalone_occluded(ply, cam, &hv, 0.0f);
    CHECK(std::memcmp(got, want.data(), want.size() * 4) == 0,
          "%s: differs from the standalone path given the same depth in host memory", p.name);
    if (p.z_left == p.z_right) {
      // A quad parallel to the image plane is a far clip plane where it covers.
      std::vector<float> clipped = standalone_occluded(ply, cam, nullptr, p.z_left);
      for (uint32_t j = 0; j < H; j++)
        for (uint32_t i = 0; i < W; i++) {
          size_t k = (size_t)j * W + i;
          CHECK(!covered(i) || pixel_equal(&got[4 * k], &clipped[4 * k]),
                "%s: covered pixel (%u, %u) differs from the far clip plane %g", p.name, i, j,
                p.z_left);
        }
    }
    if (&p == &passes[0]) {
      // The same depth from the host's VkBuffer (its readback of the image): the same frame.
      std::vector<float> first(got, got + W * H * 4);
      VksplatHostDepth hb = host_depth(p.reversed);
      hb.buffer = (uint64_t)depth_rb.buffer;
      hb.buffer_size = depth_rb.size;
      rd.next = &hb;
      uint64_t after_read = read, again = ++h.timeline_value;
      t.wait_values = &after_read;
      t.signal_values = &again;
      VS(vksplat_render_vulkan(ctx, scene, &rd, &t, &frame));
      uint64_t reread = ++h.timeline_value;
      cmds.push_back(submit(h, again, reread,
                            [&](VkCommandBuffer cmd) { copy_image_to_buffer(cmd, color, color_rb); }));
      wait_timeline(h, h.timeline, reread);
      CHECK(std::memcmp(color_rb.mapped, first.data(), first.size() * 4) == 0,
            "%s: the host depth from a VkBuffer differs from the same depth in a VkImage", p.name);
    }
    std::printf("%s: %zu pixels covered, %zu visibly occluded\n", p.name, n_covered, n_changed);
  }

  // A host depth image of a colour format is refused before anything is submitted, naming it.
  VksplatHostDepth bad = host_depth(false);
  bad.image = (uint64_t)color.image;
  bad.image_format = VK_FORMAT_R32G32B32A32_SFLOAT;
  bad.image_layout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
  bad.image_queue_family = VK_QUEUE_FAMILY_IGNORED;
  VksplatRenderDesc rd = render_desc(&cam);
  rd.next = &bad;
  VksplatVulkanTarget t = image_target(&color, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, nullptr);
  uint64_t frame = 0;
  CHECK(vksplat_render_vulkan(ctx, scene, &rd, &t, &frame) == VKSPLAT_ERROR_INVALID_ARGUMENT,
        "a colour image was accepted as host depth");
  CHECK(std::strstr(vksplat_last_error(), "R32G32B32A32_SFLOAT is not supported") != nullptr,
        "%s", vksplat_last_error());
  // An unknown convention.
  bad.convention = 9;
  CHECK(vksplat_render_vulkan(ctx, scene, &rd, &t, &frame) == VKSPLAT_ERROR_INVALID_ARGUMENT,
        "convention 9 was accepted");
  CHECK(std::strstr(vksplat_last_error(), "convention 9 is unknown") != nullptr, "%s",
        vksplat_last_error());

  vksplat_scene_destroy(scene);
  vksplat_context_destroy(ctx);
  for (VkCommandBuffer c : cmds) vkFreeCommandBuffers(h.device, h.pool, 1, &c);
  destroy_buffer(h, color_rb);
  destroy_buffer(h, depth_rb);
  destroy_image(h, color);
  destroy_raster(h, r);
}
