// A game-engine-like host of vksplat (tests/embed.rs builds and runs it): it creates its own
// Vulkan instance (validation and synchronization validation on) and device after asking
// vksplat_vulkan_requirements, hands the device over with vksplat_context_create_vulkan,
// renders into its own images, reads them back itself and compares them with vksplat's
// standalone path (vksplat_render on a context with its own device): bit-identical.
//
// Usage: host SCENARIO SCENE.ply
//   render    one frame into a colour and a depth image, ordered by the host's timeline
//             semaphore (the host clears the image first; vksplat waits for that, the host's
//             readback waits for vksplat); a colour buffer target; standalone async frames;
//             a device lacking a required feature is refused
//   inflight  6 frames, 2 images, no wait-idle anywhere: frame k+1 is submitted while frame
//             k runs; each image is checked after the host waits on vksplat's timeline
//   destroy   the context and scene are destroyed right after a submit (no wait by the
//             host): destroy waits for vksplat's own work, the image is complete, then the
//             host destroys its device
//   record    frames recorded into the host's own command buffers (vksplat_render_record),
//             submitted by the host with vksplat_frames_in_flight frames in flight, one scene
//             and two interleaved instances, equal to the standalone path; a clamped frame
//             reported by vksplat_record_done and the grown next one; instances through
//             vksplat_render_vulkan_instances and vksplat_render_submit_instances
//   occlusion the host rasterises a quad into its own depth image with a graphics pipeline and
//             hands it to vksplat as the host depth (tests/embed_host/occlusion.h)
// Further scenarios add a branch in main().
// Prints "all checks passed" and exits 0, or names the failed check and exits 1.

#include <vulkan/vulkan.h>

#include "vksplat.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

static const uint32_t W = 80;
static const uint32_t H = 64;
static int g_validation_errors = 0;

#define CHECK(cond, ...)                                                          \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "check failed (%s:%d): %s: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                          \
      std::fprintf(stderr, "\n");                                                 \
      std::exit(1);                                                               \
    }                                                                             \
  } while (0)

#define VK(call) CHECK((call) == VK_SUCCESS, "%s", #call)
#define VS(call) CHECK((call) == VKSPLAT_OK, "%s", vksplat_last_error())

static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                 VkDebugUtilsMessageTypeFlagsEXT,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                 void *) {
  if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
    g_validation_errors++;
    std::fprintf(stderr, "host validation error: %s\n", data->pMessage);
  } else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
    std::fprintf(stderr, "host validation warning: %s\n", data->pMessage);
  }
  return VK_FALSE;
}

struct Host {
  VkInstance instance = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;
  uint32_t family = 0;
  VkQueue queue = VK_NULL_HANDLE;
  VkCommandPool pool = VK_NULL_HANDLE;
  VkSemaphore timeline = VK_NULL_HANDLE;
  uint64_t timeline_value = 0;
  std::vector<const char *> extensions;
  std::vector<const char *> features;
};

static void create_instance(Host &h) {
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "vksplat-embed-host";
  app.apiVersion = VK_API_VERSION_1_2;
  const char *layers[] = {"VK_LAYER_KHRONOS_validation"};
  const char *exts[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
  VkValidationFeatureEnableEXT enables[] = {
      VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
  VkValidationFeaturesEXT features{VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT};
  features.enabledValidationFeatureCount = 1;
  features.pEnabledValidationFeatures = enables;
  VkInstanceCreateInfo info{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  info.pNext = &features;
  info.pApplicationInfo = &app;
  info.enabledLayerCount = 1;
  info.ppEnabledLayerNames = layers;
  info.enabledExtensionCount = 1;
  info.ppEnabledExtensionNames = exts;
  VK(vkCreateInstance(&info, nullptr, &h.instance));
  auto create_messenger = (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
      h.instance, "vkCreateDebugUtilsMessengerEXT");
  VkDebugUtilsMessengerCreateInfoEXT m{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
  m.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT |
                      VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT;
  m.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                  VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT;
  m.pfnUserCallback = on_message;
  VK(create_messenger(h.instance, &m, nullptr, &h.messenger));
}

// Creates the device with what vksplat asks for; `drop_feature` leaves one feature out of
// the list handed to vksplat (the refused-device check).
static void create_device(Host &h) {
  VksplatVulkanRequirements req{};
  req.s_type = VKSPLAT_STRUCT_VULKAN_REQUIREMENTS;
  req.s_size = sizeof req;
  VS(vksplat_vulkan_requirements(&req));
  CHECK(req.api_version >= VK_API_VERSION_1_2, "api version %u", req.api_version);
  CHECK(req.queue_flags & VK_QUEUE_COMPUTE_BIT, "queue flags %u", req.queue_flags);
  CHECK(req.extension_count >= 1 && req.feature_count >= 2, "lists %u %u", req.extension_count,
        req.feature_count);

  uint32_t n = 0;
  VK(vkEnumeratePhysicalDevices(h.instance, &n, nullptr));
  CHECK(n > 0, "no physical device");
  std::vector<VkPhysicalDevice> pds(n);
  VK(vkEnumeratePhysicalDevices(h.instance, &n, pds.data()));
  h.physical = pds[0];
  uint32_t nf = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(h.physical, &nf, nullptr);
  std::vector<VkQueueFamilyProperties> fams(nf);
  vkGetPhysicalDeviceQueueFamilyProperties(h.physical, &nf, fams.data());
  // A graphics queue, as an engine would use: its frame and vksplat's share it.
  h.family = UINT32_MAX;
  for (uint32_t i = 0; i < nf; i++)
    if ((fams[i].queueFlags & req.queue_flags) == req.queue_flags &&
        (fams[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) {
      h.family = i;
      break;
    }
  CHECK(h.family != UINT32_MAX, "no graphics+compute queue family");

  VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  for (uint32_t i = 0; i < req.feature_count; i++) {
    std::string name = req.vulkan12_features[i];
    if (name == "bufferDeviceAddress")
      f12.bufferDeviceAddress = VK_TRUE;
    else if (name == "timelineSemaphore")
      f12.timelineSemaphore = VK_TRUE;
    else
      CHECK(false, "the host does not know the feature %s", name.c_str());
    h.features.push_back(req.vulkan12_features[i]);
  }
  for (uint32_t i = 0; i < req.extension_count; i++) h.extensions.push_back(req.extensions[i]);
  float priority = 1.0f;
  VkDeviceQueueCreateInfo q{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  q.queueFamilyIndex = h.family;
  q.queueCount = 1;
  q.pQueuePriorities = &priority;
  VkDeviceCreateInfo info{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  info.pNext = &f12;
  info.queueCreateInfoCount = 1;
  info.pQueueCreateInfos = &q;
  info.enabledExtensionCount = (uint32_t)h.extensions.size();
  info.ppEnabledExtensionNames = h.extensions.data();
  VK(vkCreateDevice(h.physical, &info, nullptr, &h.device));
  vkGetDeviceQueue(h.device, h.family, 0, &h.queue);
  VkCommandPoolCreateInfo p{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  p.queueFamilyIndex = h.family;
  p.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  VK(vkCreateCommandPool(h.device, &p, nullptr, &h.pool));
  VkSemaphoreTypeCreateInfo t{VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO};
  t.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
  VkSemaphoreCreateInfo s{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
  s.pNext = &t;
  VK(vkCreateSemaphore(h.device, &s, nullptr, &h.timeline));
}

static VksplatVulkanDevice device_desc(Host &h) {
  VksplatVulkanDevice d{};
  d.s_type = VKSPLAT_STRUCT_VULKAN_DEVICE;
  d.s_size = sizeof d;
  d.get_instance_proc_addr = (VksplatGetInstanceProcAddr)vkGetInstanceProcAddr;
  d.instance = h.instance;
  d.physical_device = h.physical;
  d.device = h.device;
  d.queue_family = h.family;
  d.queue_index = 0;
  d.api_version = VK_API_VERSION_1_2;
  d.extension_count = (uint32_t)h.extensions.size();
  d.extensions = h.extensions.data();
  d.feature_count = (uint32_t)h.features.size();
  d.vulkan12_features = h.features.data();
  return d;
}

static uint32_t memory_type(Host &h, uint32_t bits, VkMemoryPropertyFlags want) {
  VkPhysicalDeviceMemoryProperties mp;
  vkGetPhysicalDeviceMemoryProperties(h.physical, &mp);
  for (uint32_t i = 0; i < mp.memoryTypeCount; i++)
    if ((bits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want) return i;
  CHECK(false, "no memory type");
  return 0;
}

struct Image {
  VkImage image = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkFormat format;
};

static Image make_image(Host &h, VkFormat format,
                        VkImageUsageFlags usage = VK_IMAGE_USAGE_TRANSFER_DST_BIT |
                                                  VK_IMAGE_USAGE_TRANSFER_SRC_BIT) {
  Image img;
  img.format = format;
  VkImageCreateInfo info{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
  info.imageType = VK_IMAGE_TYPE_2D;
  info.format = format;
  info.extent = {W, H, 1};
  info.mipLevels = 1;
  info.arrayLayers = 1;
  info.samples = VK_SAMPLE_COUNT_1_BIT;
  info.tiling = VK_IMAGE_TILING_OPTIMAL;
  info.usage = usage;
  info.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
  VK(vkCreateImage(h.device, &info, nullptr, &img.image));
  VkMemoryRequirements r;
  vkGetImageMemoryRequirements(h.device, img.image, &r);
  VkMemoryAllocateInfo a{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  a.allocationSize = r.size;
  a.memoryTypeIndex = memory_type(h, r.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  VK(vkAllocateMemory(h.device, &a, nullptr, &img.memory));
  VK(vkBindImageMemory(h.device, img.image, img.memory, 0));
  return img;
}

static void destroy_image(Host &h, Image &img) {
  vkDestroyImage(h.device, img.image, nullptr);
  vkFreeMemory(h.device, img.memory, nullptr);
}

struct HostBuffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkDeviceSize size = 0;
  void *mapped = nullptr;
};

static HostBuffer make_buffer(Host &h, VkDeviceSize size) {
  HostBuffer b;
  b.size = size;
  VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  info.size = size;
  info.usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
  VK(vkCreateBuffer(h.device, &info, nullptr, &b.buffer));
  VkMemoryRequirements r;
  vkGetBufferMemoryRequirements(h.device, b.buffer, &r);
  VkMemoryAllocateInfo a{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  a.allocationSize = r.size;
  a.memoryTypeIndex = memory_type(
      h, r.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
  VK(vkAllocateMemory(h.device, &a, nullptr, &b.memory));
  VK(vkBindBufferMemory(h.device, b.buffer, b.memory, 0));
  VK(vkMapMemory(h.device, b.memory, 0, VK_WHOLE_SIZE, 0, &b.mapped));
  return b;
}

static void destroy_buffer(Host &h, HostBuffer &b) {
  vkDestroyBuffer(h.device, b.buffer, nullptr);
  vkFreeMemory(h.device, b.memory, nullptr);
}

// A one-time command buffer from the host's pool, begun.
static VkCommandBuffer begin_command_buffer(Host &h) {
  VkCommandBufferAllocateInfo a{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  a.commandPool = h.pool;
  a.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  a.commandBufferCount = 1;
  VkCommandBuffer cmd;
  VK(vkAllocateCommandBuffers(h.device, &a, &cmd));
  VkCommandBufferBeginInfo b{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  b.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  VK(vkBeginCommandBuffer(cmd, &b));
  return cmd;
}

// Records, submits and returns a one-time command buffer (the caller frees it after the
// wait), waiting for `wait` and signalling `signal` on the host's timeline (0: none).
template <typename F>
static VkCommandBuffer submit(Host &h, uint64_t wait, uint64_t signal, F record) {
  VkCommandBuffer cmd = begin_command_buffer(h);
  record(cmd);
  VK(vkEndCommandBuffer(cmd));
  VkTimelineSemaphoreSubmitInfo t{VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO};
  VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
  t.waitSemaphoreValueCount = wait ? 1 : 0;
  t.pWaitSemaphoreValues = &wait;
  t.signalSemaphoreValueCount = signal ? 1 : 0;
  t.pSignalSemaphoreValues = &signal;
  VkSubmitInfo s{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  s.pNext = &t;
  s.waitSemaphoreCount = wait ? 1 : 0;
  s.pWaitSemaphores = &h.timeline;
  s.pWaitDstStageMask = &stage;
  s.signalSemaphoreCount = signal ? 1 : 0;
  s.pSignalSemaphores = &h.timeline;
  s.commandBufferCount = 1;
  s.pCommandBuffers = &cmd;
  VK(vkQueueSubmit(h.queue, 1, &s, VK_NULL_HANDLE));
  return cmd;
}

static void wait_timeline(Host &h, VkSemaphore sem, uint64_t value) {
  VkSemaphoreWaitInfo w{VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO};
  w.semaphoreCount = 1;
  w.pSemaphores = &sem;
  w.pValues = &value;
  VK(vkWaitSemaphores(h.device, &w, UINT64_MAX));
}

static void barrier(VkCommandBuffer cmd, VkImage image, VkImageAspectFlags aspect,
                    VkImageLayout from, VkImageLayout to, VkAccessFlags src, VkAccessFlags dst) {
  VkImageMemoryBarrier b{VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER};
  b.srcAccessMask = src;
  b.dstAccessMask = dst;
  b.oldLayout = from;
  b.newLayout = to;
  b.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
  b.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
  b.image = image;
  b.subresourceRange = {aspect, 0, 1, 0, 1};
  vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                       0, 0, nullptr, 0, nullptr, 1, &b);
}

static void copy_image_to_buffer(VkCommandBuffer cmd, Image &img, HostBuffer &buf) {
  VkBufferImageCopy region{};
  region.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
  region.imageExtent = {W, H, 1};
  vkCmdCopyImageToBuffer(cmd, img.image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, buf.buffer, 1,
                         &region);
  VkMemoryBarrier m{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  m.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
  m.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &m,
                       0, nullptr, 0, nullptr);
}

static VksplatCamera camera(float angle) {
  VksplatCamera c{};
  c.s_type = VKSPLAT_STRUCT_CAMERA;
  c.s_size = sizeof c;
  c.width = W;
  c.height = H;
  c.fx = c.fy = 70.0f;
  c.cx = W / 2.0f;
  c.cy = H / 2.0f;
  // A rotation about y by `angle`, the scene in front (z forward).
  float cs = std::cos(angle), sn = std::sin(angle);
  float m[16] = {cs, 0, sn, 0, 0, 1, 0, 0, -sn, 0, cs, 0, 0, 0, 0, 1};
  std::memcpy(c.world_to_camera, m, sizeof m);
  return c;
}

static VksplatRenderDesc render_desc(const VksplatCamera *cam) {
  VksplatRenderDesc d{};
  d.s_type = VKSPLAT_STRUCT_RENDER_DESC;
  d.s_size = sizeof d;
  d.background[0] = 0.1f;
  d.background[1] = 0.2f;
  d.background[2] = 0.3f;
  d.camera = cam;
  return d;
}

// A W x H RGBA32F frame in host memory: colour into `rgba`, depth into `depth` when given.
static VksplatImage host_image(std::vector<float> &rgba, std::vector<float> *depth) {
  VksplatImage img{};
  img.s_type = VKSPLAT_STRUCT_IMAGE;
  img.s_size = sizeof img;
  img.width = W;
  img.height = H;
  img.format = VKSPLAT_FORMAT_RGBA32F;
  img.pixels = rgba.data();
  img.pixels_size = rgba.size() * 4;
  if (depth != nullptr) {
    img.depth = depth->data();
    img.depth_size = depth->size() * 4;
  }
  return img;
}

// The standalone path's frame: a context with its own device, rendering into host memory.
struct Reference {
  std::vector<float> rgba, depth;
};

static Reference standalone(const char *ply, const VksplatCamera &cam) {
  VksplatContext *ctx = nullptr;
  VS(vksplat_context_create(nullptr, &ctx));
  VksplatScene *scene = nullptr;
  VS(vksplat_scene_load(ctx, ply, &scene));
  Reference r;
  r.rgba.resize(W * H * 4);
  r.depth.resize(W * H);
  VksplatImage img = host_image(r.rgba, &r.depth);
  VksplatRenderDesc d = render_desc(&cam);
  VS(vksplat_render(ctx, scene, &d, &img));

  // The standalone context's asynchronous path gives the same frame.
  std::vector<float> rgba(W * H * 4, -1.0f), depth(W * H, -1.0f);
  img.pixels = rgba.data();
  img.depth = depth.data();
  uint64_t frame = 0;
  VS(vksplat_render_submit(ctx, scene, &d, &img, &frame));
  CHECK(frame == 1, "first submitted frame is %llu", (unsigned long long)frame);
  VksplatResult st;
  while ((st = vksplat_frame_poll(ctx, frame)) == VKSPLAT_NOT_READY) {
  }
  CHECK(st == VKSPLAT_OK, "poll %d: %s", st, vksplat_last_error());
  CHECK(std::memcmp(rgba.data(), r.rgba.data(), rgba.size() * 4) == 0,
        "standalone async colour differs from vksplat_render");
  CHECK(std::memcmp(depth.data(), r.depth.data(), depth.size() * 4) == 0,
        "standalone async depth differs from vksplat_render");
  CHECK(vksplat_frame_poll(ctx, 2) == VKSPLAT_ERROR_INVALID_ARGUMENT, "frame 2 never submitted");
  vksplat_scene_destroy(scene);
  vksplat_context_destroy(ctx);
  return r;
}

static void compare(const float *got, const std::vector<float> &want, const char *what) {
  size_t differ = 0;
  for (size_t i = 0; i < want.size(); i++)
    if (std::memcmp(&got[i], &want[i], 4) != 0) differ++;
  CHECK(differ == 0, "%s: %zu of %zu values differ from the standalone path", what, differ,
        want.size());
  // A frame of nothing but background would compare equal too: the scene must show.
  size_t lit = 0;
  for (size_t i = 3; i < want.size() && what[0] == 'c'; i += 4)
    if (want[i] > 0.5f) lit++;
  CHECK(what[0] != 'c' || lit > want.size() / 4 / 50, "%s: only %zu covered pixels", what, lit);
}

static VksplatVulkanTarget image_target(Image *color, VkImageLayout color_from, Image *depth) {
  VksplatVulkanTarget t{};
  t.s_type = VKSPLAT_STRUCT_VULKAN_TARGET;
  t.s_size = sizeof t;
  if (color) {
    t.color_image = (uint64_t)color->image;
    t.color_format = color->format;
    t.color_old_layout = color_from;
    t.color_new_layout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
    t.color_queue_family = VK_QUEUE_FAMILY_IGNORED;
  }
  if (depth) {
    t.depth_image = (uint64_t)depth->image;
    t.depth_format = depth->format;
    t.depth_old_layout = VK_IMAGE_LAYOUT_UNDEFINED;
    t.depth_new_layout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
    t.depth_queue_family = VK_QUEUE_FAMILY_IGNORED;
  }
  return t;
}

static void scenario_render(Host &h, const char *ply) {
  VksplatCamera cam = camera(0.1f);
  Reference ref = standalone(ply, cam);

  // A device whose feature list lacks timelineSemaphore is refused, naming it.
  {
    VksplatVulkanDevice d = device_desc(h);
    const char *only_bda[] = {"bufferDeviceAddress"};
    d.feature_count = 1;
    d.vulkan12_features = only_bda;
    VksplatContext *ctx = nullptr;
    CHECK(vksplat_context_create_vulkan(nullptr, &d, &ctx) == VKSPLAT_ERROR_UNSUPPORTED,
          "a device without timelineSemaphore was accepted");
    CHECK(std::strstr(vksplat_last_error(), "timelineSemaphore") != nullptr, "message: %s",
          vksplat_last_error());
    CHECK(ctx == nullptr, "context set on failure");
  }

  VksplatVulkanDevice d = device_desc(h);
  VksplatContext *ctx = nullptr;
  VS(vksplat_context_create_vulkan(nullptr, &d, &ctx));
  VksplatScene *scene = nullptr;
  VS(vksplat_scene_load(ctx, ply, &scene));
  Image color = make_image(h, VK_FORMAT_R32G32B32A32_SFLOAT);
  Image depth = make_image(h, VK_FORMAT_R32_SFLOAT);
  HostBuffer color_rb = make_buffer(h, W * H * 16);
  HostBuffer depth_rb = make_buffer(h, W * H * 4);
  HostBuffer direct = make_buffer(h, 64 + W * H * 16);

  // The host's own work on the image first (a clear to magenta), then vksplat's frame,
  // ordered by the host's timeline semaphore: value 1 after the clear, 2 after vksplat.
  VkCommandBuffer clear = submit(h, 0, 1, [&](VkCommandBuffer cmd) {
    barrier(cmd, color.image, VK_IMAGE_ASPECT_COLOR_BIT, VK_IMAGE_LAYOUT_UNDEFINED,
            VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0, VK_ACCESS_TRANSFER_WRITE_BIT);
    VkClearColorValue magenta = {{1, 0, 1, 1}};
    VkImageSubresourceRange range = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
    vkCmdClearColorImage(cmd, color.image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &magenta, 1,
                         &range);
  });
  VksplatVulkanTarget t = image_target(&color, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &depth);
  uint64_t wait_sem = (uint64_t)h.timeline, wait_value = 1, signal_value = 2;
  t.wait_count = 1;
  t.wait_semaphores = &wait_sem;
  t.wait_values = &wait_value;
  t.signal_count = 1;
  t.signal_semaphores = &wait_sem;
  t.signal_values = &signal_value;
  VksplatRenderDesc rd = render_desc(&cam);
  uint64_t frame = 0;
  VS(vksplat_render_vulkan(ctx, scene, &rd, &t, &frame));
  CHECK(frame == 1, "frame %llu", (unsigned long long)frame);
  // The host's readback waits on the GPU for value 2; the CPU waits for value 3.
  VkCommandBuffer read = submit(h, 2, 3, [&](VkCommandBuffer cmd) {
    copy_image_to_buffer(cmd, color, color_rb);
    copy_image_to_buffer(cmd, depth, depth_rb);
  });
  wait_timeline(h, h.timeline, 3);
  compare((const float *)color_rb.mapped, ref.rgba, "colour image");
  compare((const float *)depth_rb.mapped, ref.depth, "depth image");
  CHECK(vksplat_frame_poll(ctx, frame) == VKSPLAT_OK, "frame 1 is done: %s", vksplat_last_error());

  // A colour buffer target at an offset, completion through vksplat's timeline on the CPU.
  VksplatVulkanTarget tb{};
  tb.s_type = VKSPLAT_STRUCT_VULKAN_TARGET;
  tb.s_size = sizeof tb;
  tb.color_buffer = (uint64_t)direct.buffer;
  tb.color_buffer_offset = 64;
  tb.color_buffer_size = direct.size;
  VS(vksplat_render_vulkan(ctx, scene, &rd, &tb, &frame));
  CHECK(frame == 2, "frame %llu", (unsigned long long)frame);
  uint64_t sem = 0, value = 0;
  VS(vksplat_frame_timeline(ctx, frame, &sem, &value));
  CHECK(sem != 0 && value > 0, "timeline %llu %llu", (unsigned long long)sem,
        (unsigned long long)value);
  wait_timeline(h, (VkSemaphore)sem, value);
  compare((const float *)((const char *)direct.mapped + 64), ref.rgba, "colour buffer");
  CHECK(vksplat_frame_wait(ctx, frame) == VKSPLAT_OK, "wait: %s", vksplat_last_error());

  // Bad targets are refused before anything is submitted.
  VksplatVulkanTarget bad = image_target(&color, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, nullptr);
  bad.color_format = VK_FORMAT_R8G8B8A8_UNORM;
  CHECK(vksplat_render_vulkan(ctx, scene, &rd, &bad, &frame) == VKSPLAT_ERROR_INVALID_ARGUMENT,
        "an R8G8B8A8 colour image was accepted");
  CHECK(std::strstr(vksplat_last_error(), "format") != nullptr, "%s", vksplat_last_error());
  tb.color_buffer_size = W * H * 16;  // too small at offset 64
  CHECK(vksplat_render_vulkan(ctx, scene, &rd, &tb, &frame) == VKSPLAT_ERROR_INVALID_ARGUMENT,
        "a short buffer was accepted");
  bad = image_target(&color, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, nullptr);
  bad.color_queue_family = h.family + 7;
  CHECK(vksplat_render_vulkan(ctx, scene, &rd, &bad, &frame) == VKSPLAT_ERROR_UNSUPPORTED,
        "a foreign queue family was accepted");
  CHECK(frame == 2, "a refused frame got a number");

  vksplat_scene_destroy(scene);
  vksplat_context_destroy(ctx);
  vkFreeCommandBuffers(h.device, h.pool, 1, &clear);
  vkFreeCommandBuffers(h.device, h.pool, 1, &read);
  destroy_buffer(h, direct);
  destroy_buffer(h, color_rb);
  destroy_buffer(h, depth_rb);
  destroy_image(h, color);
  destroy_image(h, depth);
}

static void scenario_inflight(Host &h, const char *ply) {
  const int FRAMES = 6;
  std::vector<Reference> refs;
  for (int k = 0; k < 2; k++) refs.push_back(standalone(ply, camera(0.15f * k)));
  VksplatVulkanDevice d = device_desc(h);
  VksplatContext *ctx = nullptr;
  VS(vksplat_context_create_vulkan(nullptr, &d, &ctx));
  VksplatScene *scene = nullptr;
  VS(vksplat_scene_load(ctx, ply, &scene));
  Image images[2] = {make_image(h, VK_FORMAT_R32G32B32A32_SFLOAT),
                     make_image(h, VK_FORMAT_R32G32B32A32_SFLOAT)};
  HostBuffer rb[2] = {make_buffer(h, W * H * 16), make_buffer(h, W * H * 16)};
  VkCommandBuffer reads[FRAMES];
  bool seen_pending = false;
  uint64_t host_value = 0;
  for (int k = 0; k < FRAMES; k++) {
    int i = k % 2;
    VksplatCamera cam = camera(0.15f * i);
    VksplatRenderDesc rd = render_desc(&cam);
    // The image was last read by the host's copy of frame k-2: vksplat waits for that.
    VksplatVulkanTarget t = image_target(&images[i],
                                         k < 2 ? VK_IMAGE_LAYOUT_UNDEFINED
                                               : VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                                         nullptr);
    uint64_t sem = (uint64_t)h.timeline, wait_value = host_value;
    uint64_t frame = 0;
    if (host_value > 0) {
      t.wait_count = 1;
      t.wait_semaphores = &sem;
      t.wait_values = &wait_value;
    }
    VS(vksplat_render_vulkan(ctx, scene, &rd, &t, &frame));
    CHECK(frame == (uint64_t)k + 1, "frame %llu", (unsigned long long)frame);
    VksplatResult st = vksplat_frame_poll(ctx, frame);
    CHECK(st == VKSPLAT_OK || st == VKSPLAT_NOT_READY, "poll %d: %s", st, vksplat_last_error());
    seen_pending |= st == VKSPLAT_NOT_READY;
    // The host's readback of this frame waits on vksplat's timeline on the GPU.
    uint64_t vs_sem = 0, vs_value = 0;
    VS(vksplat_frame_timeline(ctx, frame, &vs_sem, &vs_value));
    VkCommandBuffer cmd;
    {
      VkCommandBufferAllocateInfo a{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
      a.commandPool = h.pool;
      a.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
      a.commandBufferCount = 1;
      VK(vkAllocateCommandBuffers(h.device, &a, &cmd));
      VkCommandBufferBeginInfo b{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
      VK(vkBeginCommandBuffer(cmd, &b));
      copy_image_to_buffer(cmd, images[i], rb[i]);
      VK(vkEndCommandBuffer(cmd));
      VkSemaphore vs = (VkSemaphore)vs_sem;
      uint64_t signal = ++host_value;
      VkTimelineSemaphoreSubmitInfo ti{VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO};
      ti.waitSemaphoreValueCount = 1;
      ti.pWaitSemaphoreValues = &vs_value;
      ti.signalSemaphoreValueCount = 1;
      ti.pSignalSemaphoreValues = &signal;
      VkPipelineStageFlags stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
      VkSubmitInfo s{VK_STRUCTURE_TYPE_SUBMIT_INFO};
      s.pNext = &ti;
      s.waitSemaphoreCount = 1;
      s.pWaitSemaphores = &vs;
      s.pWaitDstStageMask = &stage;
      s.signalSemaphoreCount = 1;
      s.pSignalSemaphores = &h.timeline;
      s.commandBufferCount = 1;
      s.pCommandBuffers = &cmd;
      VK(vkQueueSubmit(h.queue, 1, &s, VK_NULL_HANDLE));
    }
    reads[k] = cmd;
    // Check frame k-1's readback (finished by now or soon) while frame k runs.
    if (k >= 1) {
      wait_timeline(h, h.timeline, (uint64_t)k);
      compare((const float *)rb[(k - 1) % 2].mapped, refs[(k - 1) % 2].rgba, "colour in flight");
    }
  }
  wait_timeline(h, h.timeline, host_value);
  compare((const float *)rb[(FRAMES - 1) % 2].mapped, refs[(FRAMES - 1) % 2].rgba, "last colour");
  for (uint64_t f = 1; f <= FRAMES; f++) {
    VksplatResult st = vksplat_frame_wait(ctx, f);
    CHECK(st == VKSPLAT_OK, "frame %llu: %d %s", (unsigned long long)f, st, vksplat_last_error());
  }
  std::printf("frames in flight: a poll right after submit saw a running frame: %s\n",
              seen_pending ? "yes" : "no");
  vksplat_scene_destroy(scene);
  vksplat_context_destroy(ctx);
  for (int k = 0; k < FRAMES; k++) vkFreeCommandBuffers(h.device, h.pool, 1, &reads[k]);
  for (int i = 0; i < 2; i++) {
    destroy_image(h, images[i]);
    destroy_buffer(h, rb[i]);
  }
}

static void scenario_destroy(Host &h, const char *ply) {
  VksplatCamera cam = camera(0.05f);
  Reference ref = standalone(ply, cam);
  VksplatVulkanDevice d = device_desc(h);
  VksplatContext *ctx = nullptr;
  VS(vksplat_context_create_vulkan(nullptr, &d, &ctx));
  VksplatScene *scene = nullptr;
  VS(vksplat_scene_load(ctx, ply, &scene));
  Image color = make_image(h, VK_FORMAT_R32G32B32A32_SFLOAT);
  HostBuffer rb = make_buffer(h, W * H * 16);
  VksplatVulkanTarget t = image_target(&color, VK_IMAGE_LAYOUT_UNDEFINED, nullptr);
  VksplatRenderDesc rd = render_desc(&cam);
  uint64_t frame = 0;
  VS(vksplat_render_vulkan(ctx, scene, &rd, &t, &frame));
  // No wait by the host: destroying the scene and the context waits for vksplat's own
  // submissions (never the host's), and frees only vksplat's objects.
  vksplat_scene_destroy(scene);
  vksplat_context_destroy(ctx);
  // The frame is complete: the host reads it after its own submission, queue-ordered.
  VkCommandBuffer read = submit(h, 0, 1, [&](VkCommandBuffer cmd) {
    barrier(cmd, color.image, VK_IMAGE_ASPECT_COLOR_BIT, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
            VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_ACCESS_MEMORY_WRITE_BIT,
            VK_ACCESS_TRANSFER_READ_BIT);
    copy_image_to_buffer(cmd, color, rb);
  });
  wait_timeline(h, h.timeline, 1);
  compare((const float *)rb.mapped, ref.rgba, "colour after destroy");
  // The host's device still works after vksplat is gone.
  VK(vkDeviceWaitIdle(h.device));
  vkFreeCommandBuffers(h.device, h.pool, 1, &read);
  destroy_buffer(h, rb);
  destroy_image(h, color);
}

// ---- Recorded frames (vksplat_render_record) and instances on the GPU-output paths.

// Two instances of one scene: as it is, and turned about y, moved right and back, at
// opacity 0.8, so that the objects interleave in depth. `out[0]` alone is the plain scene.
static void two_instances(VksplatScene *scene, VksplatSceneInstance out[2]) {
  for (int k = 0; k < 2; k++) {
    VksplatSceneInstance &i = out[k];
    i = VksplatSceneInstance{};
    i.s_type = VKSPLAT_STRUCT_SCENE_INSTANCE;
    i.s_size = sizeof i;
    i.scene = scene;
    i.opacity = k == 0 ? 1.0f : 0.8f;
    float c = std::cos(0.4f * k), s = std::sin(0.4f * k);
    float t[16] = {c, 0, s, 0.3f * k, 0, 1, 0, 0, -s, 0, c, 0.5f * k, 0, 0, 0, 1};
    std::memcpy(i.transform, t, sizeof t);
  }
}

// A scene whose near camera (camera_back(0)) needs more intersections than the smallest
// capacity (65,536) and shows what a clamped frame drops: 3500 thin opaque splats along
// the image's diagonal "/" at depth 3 (each one's bounding box covers all 20 tiles: 70,000
// intersections, though it colours only pixels near the diagonal), then 300 small dots at
// depth 5 in the top-left corner, last in depth order, so that clamping drops them.
static VksplatScene *big_scene(VksplatContext *ctx) {
  const size_t NEAR = 3500, N = NEAR + 300;
  std::vector<float> means(N * 3), rotations(N * 4), log_scales(N * 3), opacity(N, 2.0f),
      sh(N * 3);
  uint32_t state = 7;
  auto rnd = [&]() {
    state = state * 1664525u + 1013904223u;
    return (float)(state >> 8) / 16777216.0f;
  };
  for (size_t i = 0; i < N; i++) {
    bool line = i < NEAR;
    float z = line ? 3.0f + 0.5f * rnd() : 5.0f;
    // Pixels: the centre ± 2 for the line, x 4..28 and y 4..20 for the dots.
    float px = line ? 40.0f + 4.0f * (rnd() - 0.5f) : 4.0f + 24.0f * rnd();
    float py = line ? 32.0f + 4.0f * (rnd() - 0.5f) : 4.0f + 16.0f * rnd();
    means[3 * i] = (px - W / 2.0f) / 70.0f * z;
    means[3 * i + 1] = (py - H / 2.0f) / 70.0f * z;
    means[3 * i + 2] = z;
    // The line: long axis x turned by -45 degrees about z (along "/" in the image).
    rotations[4 * i] = line ? 0.9238795f : 1.0f;
    rotations[4 * i + 3] = line ? -0.3826834f : 0.0f;
    log_scales[3 * i] = line ? std::log(3.0f) : std::log(0.02f);
    log_scales[3 * i + 1] = std::log(0.02f);
    log_scales[3 * i + 2] = std::log(0.02f);
    for (int c = 0; c < 3; c++) sh[3 * i + c] = rnd() - 0.5f;
  }
  VksplatSceneDesc d{};
  d.s_type = VKSPLAT_STRUCT_SCENE_DESC;
  d.s_size = sizeof d;
  d.count = N;
  d.sh_degree = 0;
  d.flags = VKSPLAT_SCENE_COPY;
  d.means = means.data();
  d.rotations = rotations.data();
  d.log_scales = log_scales.data();
  d.opacity_logits = opacity.data();
  d.sh = sh.data();
  VksplatScene *scene = nullptr;
  VS(vksplat_scene_create(ctx, &d, &scene));
  return scene;
}

// The camera of camera(0) moved back by `back` along z.
static VksplatCamera camera_back(float back) {
  VksplatCamera c = camera(0.0f);
  c.world_to_camera[11] = back;
  return c;
}

// A standalone frame into host memory: `count` instances (1: vksplat_render of the scene).
static Reference host_frame(VksplatContext *ctx, VksplatScene *scene, uint32_t count,
                            const VksplatCamera &cam) {
  Reference r;
  r.rgba.resize(W * H * 4);
  r.depth.resize(W * H);
  VksplatImage img = host_image(r.rgba, &r.depth);
  VksplatRenderDesc d = render_desc(&cam);
  if (count == 1) {
    VS(vksplat_render(ctx, scene, &d, &img));
  } else {
    VksplatSceneInstance inst[2];
    two_instances(scene, inst);
    const VksplatSceneInstance *ptrs[2] = {&inst[0], &inst[1]};
    VS(vksplat_render_instances(ctx, ptrs, count, &d, &img));
  }
  return r;
}

static void submit_with_fence(Host &h, VkCommandBuffer cmd, VkFence fence) {
  VK(vkEndCommandBuffer(cmd));
  VkSubmitInfo s{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  s.commandBufferCount = 1;
  s.pCommandBuffers = &cmd;
  VK(vkQueueSubmit(h.queue, 1, &s, fence));
}

// Frames recorded into the host's own command buffers, submitted by the host with
// vksplat_frames_in_flight frames in flight (no wait-idle), alternating one scene and two
// interleaved instances; each equals the standalone path bit for bit. Then the intersection
// capacity: a recorded frame that needs more than it has is clamped and reported by
// vksplat_record_done, and the next recorded frame has grown room. Instances also through
// vksplat_render_vulkan_instances and vksplat_render_submit_instances.
static void scenario_record(Host &h, const char *ply) {
  VksplatCamera cam = camera(0.1f);
  VksplatCamera far_cam = camera_back(200.0f), near_cam = camera_back(0.0f);
  Reference refs[3];
  Reference near_ref;
  VksplatContext *sctx = nullptr;
  VS(vksplat_context_create(nullptr, &sctx));
  {
    VksplatScene *scene = nullptr;
    VS(vksplat_scene_load(sctx, ply, &scene));
    refs[1] = host_frame(sctx, scene, 1, cam);
    refs[2] = host_frame(sctx, scene, 2, cam);
    VksplatScene *big = big_scene(sctx);
    near_ref = host_frame(sctx, big, 1, near_cam);
    // The standalone asynchronous path takes instances too.
    VksplatSceneInstance inst[2];
    two_instances(scene, inst);
    const VksplatSceneInstance *ptrs[2] = {&inst[0], &inst[1]};
    std::vector<float> rgba(W * H * 4, -1.0f), depth(W * H, -1.0f);
    VksplatImage img = host_image(rgba, &depth);
    VksplatRenderDesc rd = render_desc(&cam);
    uint64_t frame = 0;
    VS(vksplat_render_submit_instances(sctx, ptrs, 2, &rd, &img, &frame));
    CHECK(vksplat_frame_wait(sctx, frame) == VKSPLAT_OK, "wait: %s", vksplat_last_error());
    compare(rgba.data(), refs[2].rgba, "colour of submitted instances");
    compare(depth.data(), refs[2].depth, "depth of submitted instances");
    // A context with its own device cannot record into a host's command buffer (refused
    // before the command buffer, never valid here, is used).
    uint64_t recorded = 0;
    CHECK(vksplat_render_record(sctx, reinterpret_cast<void *>(uintptr_t{1}), ptrs, 1, &rd,
                                nullptr, &recorded) == VKSPLAT_ERROR_UNSUPPORTED,
          "a standalone context recorded into a host's command buffer");
    CHECK(std::strstr(vksplat_last_error(), "owns its device") != nullptr, "%s",
          vksplat_last_error());
    vksplat_scene_destroy(big);
    vksplat_scene_destroy(scene);
    vksplat_context_destroy(sctx);
  }
  // The two instances overlap: the joint frame is not the single scene's.
  CHECK(std::memcmp(refs[1].rgba.data(), refs[2].rgba.data(), W * H * 16) != 0,
        "the second instance changed nothing");

  VksplatVulkanDevice d = device_desc(h);
  VksplatContext *ctx = nullptr;
  VS(vksplat_context_create_vulkan(nullptr, &d, &ctx));
  VksplatScene *scene = nullptr;
  VS(vksplat_scene_load(ctx, ply, &scene));
  VksplatScene *big = big_scene(ctx);
  uint32_t inflight = 0;
  VS(vksplat_frames_in_flight(ctx, &inflight));
  CHECK(inflight >= 2, "frames in flight %u", inflight);
  VksplatSceneInstance inst[2];
  two_instances(scene, inst);
  const VksplatSceneInstance *ptrs[2] = {&inst[0], &inst[1]};
  VksplatRenderDesc rd = render_desc(&cam);

  std::vector<Image> colors, depths;
  std::vector<HostBuffer> color_rb, depth_rb;
  std::vector<VkFence> fences(inflight);
  std::vector<VkCommandBuffer> cmds(inflight, VK_NULL_HANDLE);
  for (uint32_t i = 0; i < inflight; i++) {
    colors.push_back(make_image(h, VK_FORMAT_R32G32B32A32_SFLOAT));
    depths.push_back(make_image(h, VK_FORMAT_R32_SFLOAT));
    color_rb.push_back(make_buffer(h, W * H * 16));
    depth_rb.push_back(make_buffer(h, W * H * 4));
    VkFenceCreateInfo f{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VK(vkCreateFence(h.device, &f, nullptr, &fences[i]));
  }

  // Instances through vksplat_render_vulkan_instances (vksplat submits).
  {
    VksplatVulkanTarget t = image_target(&colors[0], VK_IMAGE_LAYOUT_UNDEFINED, &depths[0]);
    uint64_t frame = 0;
    VS(vksplat_render_vulkan_instances(ctx, ptrs, 2, &rd, &t, &frame));
    CHECK(vksplat_frame_wait(ctx, frame) == VKSPLAT_OK, "wait: %s", vksplat_last_error());
    VkCommandBuffer read = submit(h, 0, 1, [&](VkCommandBuffer cmd) {
      copy_image_to_buffer(cmd, colors[0], color_rb[0]);
      copy_image_to_buffer(cmd, depths[0], depth_rb[0]);
    });
    wait_timeline(h, h.timeline, 1);
    compare((const float *)color_rb[0].mapped, refs[2].rgba, "colour of vulkan instances");
    compare((const float *)depth_rb[0].mapped, refs[2].depth, "depth of vulkan instances");
    vkFreeCommandBuffers(h.device, h.pool, 1, &read);
  }

  // Refused before anything is recorded: semaphores in the target, a frame never recorded.
  {
    VkCommandBuffer cmd = begin_command_buffer(h);
    VksplatVulkanTarget t = image_target(&colors[0], VK_IMAGE_LAYOUT_UNDEFINED, nullptr);
    uint64_t sem = (uint64_t)h.timeline, value = 1, frame = 0;
    t.wait_count = 1;
    t.wait_semaphores = &sem;
    t.wait_values = &value;
    CHECK(vksplat_render_record(ctx, cmd, ptrs, 1, &rd, &t, &frame) ==
              VKSPLAT_ERROR_INVALID_ARGUMENT,
          "a recorded frame with semaphores was accepted");
    CHECK(std::strstr(vksplat_last_error(), "semaphores") != nullptr, "%s", vksplat_last_error());
    CHECK(vksplat_record_done(ctx, 1) == VKSPLAT_ERROR_INVALID_ARGUMENT,
          "frame 1 was never recorded");
    CHECK(frame == 0, "a refused frame got a number");
    VK(vkEndCommandBuffer(cmd));
    vkFreeCommandBuffers(h.device, h.pool, 1, &cmd);
  }

  // The frame loop: slot i = k mod inflight; the host waits for the slot's last frame
  // (frame k + 1 − inflight) before it records frame k + 1 into the slot.
  const int FRAMES = 6;
  std::vector<uint32_t> count_of(inflight);
  std::vector<uint64_t> frame_of(inflight);
  auto finish = [&](uint32_t i) {
    VK(vkWaitForFences(h.device, 1, &fences[i], VK_TRUE, UINT64_MAX));
    VK(vkResetFences(h.device, 1, &fences[i]));
    compare((const float *)color_rb[i].mapped, refs[count_of[i]].rgba, "recorded colour");
    compare((const float *)depth_rb[i].mapped, refs[count_of[i]].depth, "recorded depth");
    VksplatResult st = vksplat_record_done(ctx, frame_of[i]);
    CHECK(st == VKSPLAT_OK, "record_done %d: %s", st, vksplat_last_error());
    vkFreeCommandBuffers(h.device, h.pool, 1, &cmds[i]);
    cmds[i] = VK_NULL_HANDLE;
  };
  for (int k = 0; k < FRAMES; k++) {
    uint32_t i = (uint32_t)k % inflight;
    if (cmds[i] != VK_NULL_HANDLE) finish(i);
    cmds[i] = begin_command_buffer(h);
    // The previous frame left the slot's images in TRANSFER_SRC (vulkan instances above
    // for slot 0).
    VksplatVulkanTarget t = image_target(
        &colors[i], (k == 0 || k >= (int)inflight) ? VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL
                                                     : VK_IMAGE_LAYOUT_UNDEFINED,
        &depths[i]);
    // Two frames of the scene, two of the instances, two of the scene: a new splat count
    // (a sizing pass, the working buffers replaced while the previous frame may run) at
    // frames 1, 3 and 5; frames 2, 4 and 6 only record.
    count_of[i] = (k / 2) % 2 == 0 ? 1 : 2;
    uint64_t frame = 0;
    auto start = std::chrono::steady_clock::now();
    VS(vksplat_render_record(ctx, cmds[i], ptrs, count_of[i], &rd, &t, &frame));
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                    .count();
    std::printf("vksplat_render_record of frame %d (%s): %.3f ms\n", k + 1,
                k % 2 == 0 ? "new splat count, sizing pass" : "recording only", ms);
    CHECK(frame == (uint64_t)k + 1, "recorded frame %llu", (unsigned long long)frame);
    frame_of[i] = frame;
    // The host's own commands after vksplat's, in the same command buffer.
    copy_image_to_buffer(cmds[i], colors[i], color_rb[i]);
    copy_image_to_buffer(cmds[i], depths[i], depth_rb[i]);
    submit_with_fence(h, cmds[i], fences[i]);
  }
  for (int k = FRAMES; k < FRAMES + (int)inflight; k++) {
    uint32_t i = (uint32_t)k % inflight;
    if (cmds[i] != VK_NULL_HANDLE) finish(i);
  }

  // Capacity: frame 7 (far, a sizing pass for the new scene: few intersections), frame 8
  // (near: more than the capacity, clamped), frame 9 (near: grown, complete).
  uint64_t frames[3];
  VksplatCamera cams[3] = {far_cam, near_cam, near_cam};
  for (int k = 0; k < 3; k++) {
    uint32_t i = (uint32_t)k % inflight;
    auto wait_slot = [&](uint32_t slot) {
      if (cmds[slot] == VK_NULL_HANDLE) return;
      VK(vkWaitForFences(h.device, 1, &fences[slot], VK_TRUE, UINT64_MAX));
      VK(vkResetFences(h.device, 1, &fences[slot]));
      vkFreeCommandBuffers(h.device, h.pool, 1, &cmds[slot]);
      cmds[slot] = VK_NULL_HANDLE;
    };
    // Before frame 9 the host waits for frames 7 and 8.
    if (k == 2) {
      wait_slot(0);
      wait_slot(1 % inflight);
    }
    wait_slot(i);
    if (k == 2) {
      // The host reports frame 8 done: it was clamped, and the lists grow now.
      VksplatResult st = vksplat_record_done(ctx, frames[1]);
      CHECK(st == VKSPLAT_INCOMPLETE, "the overflowing frame reported %d: %s", st,
            vksplat_last_error());
      CHECK(std::memcmp(color_rb[1].mapped, near_ref.rgba.data(), W * H * 16) != 0,
            "the clamped frame equals the complete one");
      CHECK(vksplat_record_done(ctx, frames[0]) == VKSPLAT_OK, "frame 7 was complete");
    }
    cmds[i] = begin_command_buffer(h);
    VksplatSceneInstance b{};
    b.s_type = VKSPLAT_STRUCT_SCENE_INSTANCE;
    b.s_size = sizeof b;
    b.scene = big;
    b.opacity = 1.0f;
    for (int j = 0; j < 4; j++) b.transform[5 * j] = 1.0f;
    const VksplatSceneInstance *bp = &b;
    VksplatRenderDesc bd = render_desc(&cams[k]);
    VksplatVulkanTarget t =
        image_target(&colors[i], VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, nullptr);
    VS(vksplat_render_record(ctx, cmds[i], &bp, 1, &bd, &t, &frames[k]));
    CHECK(frames[k] == (uint64_t)FRAMES + 1 + k, "recorded frame %llu",
          (unsigned long long)frames[k]);
    copy_image_to_buffer(cmds[i], colors[i], color_rb[i]);
    submit_with_fence(h, cmds[i], fences[i]);
  }
  uint32_t last = 2 % inflight;
  VK(vkWaitForFences(h.device, 1, &fences[last], VK_TRUE, UINT64_MAX));
  compare((const float *)color_rb[last].mapped, near_ref.rgba, "colour after the lists grew");
  CHECK(vksplat_record_done(ctx, frames[2]) == VKSPLAT_OK, "frame 9: %s", vksplat_last_error());

  // Every recorded frame has finished (the fences): scenes and context may go.
  for (uint32_t i = 0; i < inflight; i++)
    if (cmds[i] != VK_NULL_HANDLE) {
      VK(vkWaitForFences(h.device, 1, &fences[i], VK_TRUE, UINT64_MAX));
      vkFreeCommandBuffers(h.device, h.pool, 1, &cmds[i]);
    }
  vksplat_scene_destroy(big);
  vksplat_scene_destroy(scene);
  vksplat_context_destroy(ctx);
  for (uint32_t i = 0; i < inflight; i++) {
    vkDestroyFence(h.device, fences[i], nullptr);
    destroy_image(h, colors[i]);
    destroy_image(h, depths[i]);
    destroy_buffer(h, color_rb[i]);
    destroy_buffer(h, depth_rb[i]);
  }
}

#include "occlusion.h"

int main(int argc, char **argv) {
  CHECK(argc == 3, "usage: host SCENARIO SCENE.ply");
  std::string scenario = argv[1];
  const char *ply = argv[2];
  Host h;
  create_instance(h);
  create_device(h);
  if (scenario == "render")
    scenario_render(h, ply);
  else if (scenario == "inflight")
    scenario_inflight(h, ply);
  else if (scenario == "destroy")
    scenario_destroy(h, ply);
  else if (scenario == "record")
    scenario_record(h, ply);
  else if (scenario == "occlusion")
    scenario_occlusion(h, ply);
  else
    CHECK(false, "unknown scenario %s", scenario.c_str());
  vkDestroySemaphore(h.device, h.timeline, nullptr);
  vkDestroyCommandPool(h.device, h.pool, nullptr);
  vkDestroyDevice(h.device, nullptr);
  auto destroy_messenger = (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
      h.instance, "vkDestroyDebugUtilsMessengerEXT");
  destroy_messenger(h.instance, h.messenger, nullptr);
  vkDestroyInstance(h.instance, nullptr);
  CHECK(g_validation_errors == 0, "%d validation errors", g_validation_errors);
  std::printf("all checks passed\n");
  return 0;
}
