//! Instance, physical-device choice and logical device.
//!
//! Every way of finding no usable device is [`VkError::NoDevice`] (or [`VkError::Loader`] when
//! libvulkan itself is missing) with a message that lists what was found and, when no driver
//! loaded, the driver-manifest variables to check: a farm tells "this node has no driver"
//! apart from "this job failed" by that alone.
//!
//! No surface or window extension is ever requested: vksplat is headless. The only device
//! extension required is `VK_KHR_push_descriptor` (bindings are pushed per dispatch, so no
//! descriptor pools or set lifetimes exist anywhere in the engine); the Vulkan 1.2 features
//! `bufferDeviceAddress` and `timelineSemaphore` are required too ([`requirements`]).
//!
//! A context either owns its instance and device ([`Context::new`]) or borrows a host's
//! ([`Context::from_borrowed`], a game engine embedding vksplat). A borrowed context never
//! destroys the host's handles and never waits for the whole device: it waits only on its own
//! timeline semaphore (every submission signals the next value), at destroy included.

use std::ffi::{c_void, CStr, CString};
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ash::vk;
use gpu_allocator::vulkan::{Allocator, AllocatorCreateDesc};

use crate::memory::{HostAllocator, Ledger};
use crate::{CallExt, Result, VkError};

const VALIDATION_LAYER: &CStr = c"VK_LAYER_KHRONOS_validation";

/// How to choose the physical device (`--device auto|cpu|INDEX|NAME`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// Prefer a discrete GPU, then integrated, virtual, and CPU last.
    #[default]
    Auto,
    /// A CPU implementation (Mesa lavapipe).
    Cpu,
    /// A hardware GPU only (discrete first): CPU/software implementations such as lavapipe,
    /// llvmpipe or SwiftShader are refused, so a farm job never silently renders on the CPU.
    Gpu,
    /// Index into the list of usable devices (as `vksplat devices` prints it).
    Index(usize),
    /// Case-insensitive substring of the device name.
    Name(String),
}

impl DeviceChoice {
    pub fn parse(s: &str) -> Self {
        match s {
            "auto" | "" => DeviceChoice::Auto,
            "cpu" => DeviceChoice::Cpu,
            "gpu" => DeviceChoice::Gpu,
            _ => match s.parse::<usize>() {
                Ok(i) => DeviceChoice::Index(i),
                Err(_) => DeviceChoice::Name(s.to_string()),
            },
        }
    }
}

/// Settings for [`Context::new`].
#[derive(Clone, Debug, Default)]
pub struct ContextDesc {
    pub device: DeviceChoice,
    /// Enable `VK_LAYER_KHRONOS_validation` and count its errors
    /// ([`Context::validation_errors`]). Also enabled by `VKSPLAT_VALIDATION=1`.
    pub validation: bool,
    /// The host's allocation callbacks for every Vulkan object the context creates, its
    /// instance and device included (None: the driver's).
    pub host_allocator: Option<HostAllocator>,
    /// The most device bytes the context may hold ([`Context::set_memory_budget`]).
    pub memory_budget: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    Discrete,
    Integrated,
    Virtual,
    Cpu,
    Other,
}

impl DeviceKind {
    fn from_vk(t: vk::PhysicalDeviceType) -> Self {
        match t {
            vk::PhysicalDeviceType::DISCRETE_GPU => DeviceKind::Discrete,
            vk::PhysicalDeviceType::INTEGRATED_GPU => DeviceKind::Integrated,
            vk::PhysicalDeviceType::VIRTUAL_GPU => DeviceKind::Virtual,
            vk::PhysicalDeviceType::CPU => DeviceKind::Cpu,
            _ => DeviceKind::Other,
        }
    }

    fn preference(self) -> u32 {
        match self {
            DeviceKind::Discrete => 0,
            DeviceKind::Integrated => 1,
            DeviceKind::Virtual => 2,
            DeviceKind::Other => 3,
            DeviceKind::Cpu => 4,
        }
    }
}

/// What the engine knows about a physical device.
#[derive(Clone, Debug)]
pub struct DeviceInfo {
    pub index: usize,
    pub name: String,
    pub kind: DeviceKind,
    pub api_version: (u32, u32, u32),
    pub subgroup_size: u32,
    pub max_storage_buffer_range: u64,
    /// Most texels a texel buffer view may cover (maxTexelBufferElements).
    pub max_texel_buffer_elements: u64,
    /// Largest single allocation (VkPhysicalDeviceMaintenance3Properties).
    pub max_memory_allocation_size: u64,
    /// Size of the largest device-local memory heap.
    pub device_local_bytes: u64,
    pub max_compute_workgroup_count: [u32; 3],
    pub max_shared_memory: u32,
    pub timestamp_period_ns: f32,
    /// Why the engine cannot use it, if it cannot.
    pub unusable: Option<String>,
}

impl DeviceInfo {
    /// A CPU or software implementation (lavapipe/llvmpipe, SwiftShader, softpipe): by the
    /// type the driver reports, or by name for drivers that report another type.
    pub fn is_software(&self) -> bool {
        let name = self.name.to_lowercase();
        self.kind == DeviceKind::Cpu
            || ["llvmpipe", "lavapipe", "swiftshader", "softpipe"]
                .iter()
                .any(|s| name.contains(s))
    }
}

/// What a host's device must offer and enable before it is handed to
/// [`Context::from_borrowed`].
#[derive(Clone, Debug)]
pub struct Requirements {
    /// Lowest Vulkan API version (instance and device).
    pub api_version: u32,
    /// Device extensions that must be enabled.
    pub device_extensions: Vec<&'static CStr>,
    /// Vulkan 1.2 features (`VkPhysicalDeviceVulkan12Features` member names) that must be
    /// enabled.
    pub vulkan12_features: Vec<&'static str>,
    /// Queue capabilities the queue handed over must have.
    pub queue_flags: vk::QueueFlags,
}

/// What the engine needs of a device (both for its own device and a borrowed one).
pub fn requirements() -> Requirements {
    Requirements {
        api_version: vk::API_VERSION_1_2,
        device_extensions: vec![ash::khr::push_descriptor::NAME],
        vulkan12_features: vec!["bufferDeviceAddress", "timelineSemaphore"],
        queue_flags: vk::QueueFlags::COMPUTE,
    }
}

/// A host's Vulkan objects for [`Context::from_borrowed`]: the instance, physical device,
/// device and one queue, with what the host enabled on them.
#[derive(Clone, Debug)]
pub struct BorrowedDevice {
    /// The host's `vkGetInstanceProcAddr` (every other function is loaded through it).
    pub get_instance_proc_addr: vk::PFN_vkGetInstanceProcAddr,
    pub instance: vk::Instance,
    pub physical_device: vk::PhysicalDevice,
    pub device: vk::Device,
    pub queue_family: u32,
    pub queue_index: u32,
    /// The API version the host created its instance with (`VkApplicationInfo::apiVersion`).
    pub api_version: u32,
    /// Device extensions the host enabled.
    pub enabled_extensions: Vec<CString>,
    /// Vulkan 1.2 features the host enabled, by their member names (as in [`Requirements`]).
    pub enabled_vulkan12_features: Vec<String>,
    /// The host's allocation callbacks, passed to every object vksplat creates on the device.
    pub host_allocator: Option<HostAllocator>,
    /// The most device bytes the context may hold ([`Context::set_memory_budget`]).
    pub memory_budget: Option<u64>,
}

/// The instance, one device and its compute queue.
pub struct Context {
    /// None for a borrowed device (the host owns the loader).
    _entry: Option<ash::Entry>,
    /// The host owns the instance and device: never destroyed here.
    borrowed: bool,
    pub(crate) queue_family: u32,
    /// Signalled by every submission with the next value (`submitted`).
    pub(crate) timeline: vk::Semaphore,
    /// The value of the last submission.
    pub(crate) submitted: AtomicU64,
    /// A value the timeline is known to have reached (a cache of waits and polls).
    pub(crate) completed: AtomicU64,
    pub(crate) instance: ash::Instance,
    debug: Option<(ash::ext::debug_utils::Instance, vk::DebugUtilsMessengerEXT)>,
    pub(crate) debug_device: Option<ash::ext::debug_utils::Device>,
    pub(crate) device: ash::Device,
    pub(crate) physical_device: vk::PhysicalDevice,
    pub(crate) push_descriptor: ash::khr::push_descriptor::Device,
    pub(crate) queue: Mutex<vk::Queue>,
    pub(crate) command_pool: Mutex<vk::CommandPool>,
    pub(crate) allocator: ManuallyDrop<Mutex<Allocator>>,
    info: DeviceInfo,
    /// Boxed so its address is stable for the debug callback's user data.
    validation_errors: Box<AtomicU64>,
    /// Device memory held, by class, and the budget (`memory`).
    pub(crate) ledger: Mutex<Ledger>,
    /// Passed to every create/destroy of the context's own objects.
    pub(crate) host_allocator: Option<HostAllocator>,
}

// SAFETY: the raw Vulkan handles are only used through `&self` methods that lock the queue,
// pool and allocator mutexes where Vulkan requires external synchronisation.
unsafe impl Send for Context {}
// SAFETY: as for Send: shared use goes through `&self` methods that lock where Vulkan requires
// external synchronisation.
unsafe impl Sync for Context {}

fn version_triple(v: u32) -> (u32, u32, u32) {
    (
        vk::api_version_major(v),
        vk::api_version_minor(v),
        vk::api_version_patch(v),
    )
}

/// # Safety
/// Called by the Vulkan loader with valid pointers; `user_data` is the context's
/// `validation_errors` counter, which outlives the messenger.
unsafe extern "system" fn debug_callback(
    severity: vk::DebugUtilsMessageSeverityFlagsEXT,
    _types: vk::DebugUtilsMessageTypeFlagsEXT,
    data: *const vk::DebugUtilsMessengerCallbackDataEXT<'_>,
    user_data: *mut c_void,
) -> vk::Bool32 {
    // SAFETY: the loader passes a valid (or null) callback-data pointer whose message, when
    // not null, is NUL-terminated and lives for this call.
    let message = unsafe {
        if data.is_null() || (*data).p_message.is_null() {
            "<no message>".into()
        } else {
            CStr::from_ptr((*data).p_message).to_string_lossy()
        }
    };
    let kind = if severity.contains(vk::DebugUtilsMessageSeverityFlagsEXT::ERROR) {
        if !user_data.is_null() {
            // SAFETY: user_data is the context's boxed counter, which outlives the messenger.
            unsafe { (*(user_data as *const AtomicU64)).fetch_add(1, Ordering::SeqCst) };
        }
        "error"
    } else if severity.contains(vk::DebugUtilsMessageSeverityFlagsEXT::WARNING) {
        "warning"
    } else {
        return vk::FALSE;
    };
    // One write, errors ignored: `eprintln!` would panic on a closed stderr, and a panic
    // cannot unwind out of this `extern "system"` callback (it would abort the process).
    let line = format!("vulkan validation {kind}: {}\n", message.replace('\n', " "));
    let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
    vk::FALSE
}

impl Context {
    /// Lists every physical device with the reason it is unusable, if any.
    pub fn list_devices() -> Result<Vec<DeviceInfo>> {
        // SAFETY: loading the loader library; a missing library is an error, not UB.
        let entry = unsafe { ash::Entry::load() }.map_err(|e| VkError::Loader(e.to_string()))?;
        let instance = create_instance(&entry, false, None)?;
        let result = (|| {
            let devices = physical_devices(&instance)?;
            Ok(devices
                .iter()
                .enumerate()
                .map(|(i, &pd)| describe(&instance, pd, i))
                .collect())
        })();
        // SAFETY: nothing created from the instance is alive.
        unsafe { instance.destroy_instance(None) };
        result
    }

    /// Creates the instance and the chosen device.
    pub fn new(desc: &ContextDesc) -> Result<Arc<Context>> {
        check_budget(desc.memory_budget)?;
        let cb = desc.host_allocator.as_ref().map(HostAllocator::callbacks);
        let validation = desc.validation
            || std::env::var("VKSPLAT_VALIDATION")
                .map(|v| v == "1")
                .unwrap_or(false);
        // SAFETY: loading the loader library.
        let entry = unsafe { ash::Entry::load() }.map_err(|e| VkError::Loader(e.to_string()))?;
        if validation {
            // SAFETY: plain enumeration call.
            let layers = unsafe { entry.enumerate_instance_layer_properties() }
                .call("vkEnumerateInstanceLayerProperties")?;
            let found = layers.iter().any(|l| {
                l.layer_name_as_c_str()
                    .map(|n| n == VALIDATION_LAYER)
                    .unwrap_or(false)
            });
            if !found {
                return Err(VkError::Invalid(
                    "validation requested but VK_LAYER_KHRONOS_validation is not installed \
                     (apt-get install vulkan-validationlayers)"
                        .into(),
                ));
            }
        }
        let instance = create_instance(&entry, validation, cb)?;
        let validation_errors = Box::new(AtomicU64::new(0));
        // Everything below destroys what it created on failure (`unwind`).
        let mut unwind = Unwind {
            cb: cb.copied(),
            instance: instance.clone(),
            messenger: None,
            device: None,
            pool: vk::CommandPool::null(),
        };

        let build = || -> Result<(DeviceInfo, vk::PhysicalDevice, u32)> {
            let pds = physical_devices(&instance)?;
            let infos: Vec<DeviceInfo> = pds
                .iter()
                .enumerate()
                .map(|(i, &pd)| describe(&instance, pd, i))
                .collect();
            let chosen = choose(&infos, &desc.device)?;
            let pd = pds[chosen.index];
            let family = compute_queue_family(&instance, pd).ok_or_else(|| {
                VkError::NoDevice(format!("{} has no compute queue", chosen.name))
            })?;
            Ok((chosen.clone(), pd, family))
        };
        let (info, physical_device, queue_family) = build()?;

        let debug = if validation {
            let loader = ash::ext::debug_utils::Instance::new(&entry, &instance);
            let info = vk::DebugUtilsMessengerCreateInfoEXT::default()
                .message_severity(
                    vk::DebugUtilsMessageSeverityFlagsEXT::ERROR
                        | vk::DebugUtilsMessageSeverityFlagsEXT::WARNING,
                )
                .message_type(
                    vk::DebugUtilsMessageTypeFlagsEXT::VALIDATION
                        | vk::DebugUtilsMessageTypeFlagsEXT::GENERAL
                        | vk::DebugUtilsMessageTypeFlagsEXT::PERFORMANCE,
                )
                .pfn_user_callback(Some(debug_callback))
                .user_data(&*validation_errors as *const AtomicU64 as *mut c_void);
            // SAFETY: the counter outlives the messenger (destroyed in Drop first).
            let messenger = unsafe { loader.create_debug_utils_messenger(&info, cb) }
                .call("vkCreateDebugUtilsMessengerEXT")?;
            unwind.messenger = Some((loader.clone(), messenger));
            Some((loader, messenger))
        } else {
            None
        };

        let priorities = [1.0f32];
        let queue_info = [vk::DeviceQueueCreateInfo::default()
            .queue_family_index(queue_family)
            .queue_priorities(&priorities)];
        let extensions = [ash::khr::push_descriptor::NAME.as_ptr()];
        // Buffer device addresses let the shaders reach arrays larger than one storage-buffer
        // binding (128 MiB on lavapipe).
        let mut features12 = vk::PhysicalDeviceVulkan12Features::default()
            .buffer_device_address(true)
            .timeline_semaphore(true);
        let device_info = vk::DeviceCreateInfo::default()
            .queue_create_infos(&queue_info)
            .enabled_extension_names(&extensions)
            .push_next(&mut features12);
        // SAFETY: physical device from this instance; create info points at live locals.
        let device = unsafe { instance.create_device(physical_device, &device_info, cb) }
            .call("vkCreateDevice")?;
        unwind.device = Some(device.clone());
        // SAFETY: queue 0 of a family we created.
        let queue = unsafe { device.get_device_queue(queue_family, 0) };
        let pool_info = vk::CommandPoolCreateInfo::default()
            .queue_family_index(queue_family)
            .flags(vk::CommandPoolCreateFlags::RESET_COMMAND_BUFFER);
        // SAFETY: valid device.
        let command_pool =
            unsafe { device.create_command_pool(&pool_info, cb) }.call("vkCreateCommandPool")?;
        unwind.pool = command_pool;
        // Declared after `unwind`, so dropped (its memory freed) before the device on failure.
        let allocator = Allocator::new(&AllocatorCreateDesc {
            instance: instance.clone(),
            device: device.clone(),
            physical_device,
            debug_settings: Default::default(),
            buffer_device_address: true,
            allocation_sizes: Default::default(),
        })
        .map_err(|e| VkError::Allocation {
            name: "allocator".into(),
            size: 0,
            message: e.to_string(),
        })?;
        let timeline = create_timeline(&device, cb)?;
        let push_descriptor = ash::khr::push_descriptor::Device::new(&instance, &device);
        let debug_device = debug
            .as_ref()
            .map(|_| ash::ext::debug_utils::Device::new(&instance, &device));
        log::info!(
            "vksplat: using Vulkan device {} ({:?})",
            info.name,
            info.kind
        );
        std::mem::forget(unwind);
        Ok(Arc::new(Context {
            _entry: Some(entry),
            borrowed: false,
            queue_family,
            timeline,
            submitted: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            instance,
            debug,
            debug_device,
            device,
            physical_device,
            push_descriptor,
            queue: Mutex::new(queue),
            command_pool: Mutex::new(command_pool),
            allocator: ManuallyDrop::new(Mutex::new(allocator)),
            info,
            validation_errors,
            ledger: Mutex::new(Ledger::new(desc.memory_budget)),
            host_allocator: desc.host_allocator,
        }))
    }

    /// Checks that a host's device enables everything [`requirements`] lists; the error names
    /// every missing piece.
    pub fn check_borrowed(b: &BorrowedDevice) -> Result<()> {
        let req = requirements();
        let mut missing = Vec::new();
        if b.api_version < req.api_version {
            missing.push(format!(
                "API version {}.{} (the instance was created for {}.{})",
                vk::api_version_major(req.api_version),
                vk::api_version_minor(req.api_version),
                vk::api_version_major(b.api_version),
                vk::api_version_minor(b.api_version)
            ));
        }
        for ext in &req.device_extensions {
            if !b.enabled_extensions.iter().any(|e| e.as_c_str() == *ext) {
                missing.push(format!("device extension {}", ext.to_string_lossy()));
            }
        }
        for f in &req.vulkan12_features {
            if !b.enabled_vulkan12_features.iter().any(|e| e == f) {
                missing.push(format!("feature {f}"));
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(VkError::Invalid(format!(
                "the host's device does not enable what vksplat needs: {} (see \
                 vksplat_vulkan_requirements)",
                missing.join(", ")
            )))
        }
    }

    /// A context on a host's instance, device and queue. The engine creates only its own
    /// objects on it (command pool, allocator, buffers, pipelines, a timeline semaphore) and
    /// destroys only those, after waiting for its own submissions; the host's handles are
    /// never destroyed, and the device is never waited idle.
    ///
    /// # Safety
    ///
    /// The handles in `b` are valid and belong together (the physical device enumerated from
    /// the instance, the device created from it with at least `queue_index + 1` queues of
    /// `queue_family`, `get_instance_proc_addr` the instance's loader entry), the device was
    /// created with the extensions and features `b` lists, and all of them outlive the
    /// returned context and every object made from it. The queue is externally synchronised:
    /// the host must not use it from another thread while a vksplat call runs.
    pub unsafe fn from_borrowed(b: &BorrowedDevice) -> Result<Arc<Context>> {
        Self::check_borrowed(b)?;
        check_budget(b.memory_budget)?;
        let cb = b.host_allocator.as_ref().map(HostAllocator::callbacks);
        let static_fn = ash::StaticFn {
            get_instance_proc_addr: b.get_instance_proc_addr,
        };
        // SAFETY: the caller guarantees a live instance and its loader entry point.
        let instance = unsafe { ash::Instance::load(&static_fn, b.instance) };
        let info = describe(&instance, b.physical_device, 0);
        if let Some(why) = &info.unusable {
            return Err(VkError::NoDevice(format!(
                "the host's device {} is unusable: {why}",
                info.name
            )));
        }
        // SAFETY: physical device from this instance.
        let families =
            unsafe { instance.get_physical_device_queue_family_properties(b.physical_device) };
        match families.get(b.queue_family as usize) {
            Some(f) if f.queue_flags.contains(vk::QueueFlags::COMPUTE) => {
                if b.queue_index >= f.queue_count {
                    return Err(VkError::Invalid(format!(
                        "queue index {} of family {} does not exist (the family has {} queues)",
                        b.queue_index, b.queue_family, f.queue_count
                    )));
                }
            }
            Some(_) => {
                return Err(VkError::Invalid(format!(
                    "queue family {} has no compute capability",
                    b.queue_family
                )))
            }
            None => {
                return Err(VkError::Invalid(format!(
                    "queue family {} does not exist ({} families)",
                    b.queue_family,
                    families.len()
                )))
            }
        }
        // SAFETY: the caller guarantees the device was created from this instance.
        let device = unsafe { ash::Device::load(instance.fp_v1_0(), b.device) };
        // SAFETY: the caller guarantees the queue exists (its index was checked above).
        let queue = unsafe { device.get_device_queue(b.queue_family, b.queue_index) };
        let pool_info = vk::CommandPoolCreateInfo::default()
            .queue_family_index(b.queue_family)
            .flags(vk::CommandPoolCreateFlags::RESET_COMMAND_BUFFER);
        // SAFETY: valid device.
        let command_pool =
            unsafe { device.create_command_pool(&pool_info, cb) }.call("vkCreateCommandPool")?;
        let destroy_pool = |device: &ash::Device| {
            // SAFETY: the pool was created above and holds no command buffer yet.
            unsafe { device.destroy_command_pool(command_pool, cb) }
        };
        let timeline = match create_timeline(&device, cb) {
            Ok(t) => t,
            Err(e) => {
                destroy_pool(&device);
                return Err(e);
            }
        };
        let allocator = match Allocator::new(&AllocatorCreateDesc {
            instance: instance.clone(),
            device: device.clone(),
            physical_device: b.physical_device,
            debug_settings: Default::default(),
            buffer_device_address: true,
            allocation_sizes: Default::default(),
        }) {
            Ok(a) => a,
            Err(e) => {
                destroy_pool(&device);
                // SAFETY: created above, never submitted.
                unsafe { device.destroy_semaphore(timeline, cb) };
                return Err(VkError::Allocation {
                    name: "allocator".into(),
                    size: 0,
                    message: e.to_string(),
                });
            }
        };
        let push_descriptor = ash::khr::push_descriptor::Device::new(&instance, &device);
        log::info!(
            "vksplat: using the host's Vulkan device {} ({:?}), queue family {} index {}",
            info.name,
            info.kind,
            b.queue_family,
            b.queue_index
        );
        Ok(Arc::new(Context {
            _entry: None,
            borrowed: true,
            queue_family: b.queue_family,
            timeline,
            submitted: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            instance,
            debug: None,
            debug_device: None,
            device,
            physical_device: b.physical_device,
            push_descriptor,
            queue: Mutex::new(queue),
            command_pool: Mutex::new(command_pool),
            allocator: ManuallyDrop::new(Mutex::new(allocator)),
            info,
            validation_errors: Box::new(AtomicU64::new(0)),
            ledger: Mutex::new(Ledger::new(b.memory_budget)),
            host_allocator: b.host_allocator,
        }))
    }

    /// Whether the instance and device are a host's ([`Context::from_borrowed`]).
    pub fn is_borrowed(&self) -> bool {
        self.borrowed
    }

    /// The queue family of the context's queue.
    pub fn queue_family(&self) -> u32 {
        self.queue_family
    }

    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    /// Number of validation-layer errors reported so far (0 when validation is off).
    pub fn validation_errors(&self) -> u64 {
        self.validation_errors.load(Ordering::SeqCst)
    }

    pub fn validation_enabled(&self) -> bool {
        self.debug.is_some()
    }

    /// Give a Vulkan object a debug name (no-op without validation).
    pub(crate) fn set_name<H: vk::Handle>(&self, handle: H, name: &str) {
        if let Some(dd) = &self.debug_device {
            let Ok(cname) = CString::new(name) else {
                return;
            };
            let info = vk::DebugUtilsObjectNameInfoEXT::default()
                .object_handle(handle)
                .object_name(&cname);
            // SAFETY: handle belongs to this device; naming failure is harmless.
            let _ = unsafe { dd.set_debug_utils_object_name(&info) };
        }
    }

    /// Blocks until every submission of this context has completed (its own timeline, not
    /// the whole device: a borrowed device's other work is not waited for).
    pub fn wait_idle(&self) -> Result<()> {
        self.wait_for(self.submitted.load(Ordering::SeqCst))
    }

    /// The context's timeline semaphore: submission k signals value k. A host may wait on it
    /// (on the GPU or the CPU) for a frame; it must not signal it.
    pub fn timeline_semaphore(&self) -> vk::Semaphore {
        self.timeline
    }

    /// The value of the last submission (0 before the first).
    pub fn last_submitted(&self) -> u64 {
        self.submitted.load(Ordering::SeqCst)
    }

    /// The highest submission known to have completed (asks the device).
    pub fn completed_value(&self) -> Result<u64> {
        // SAFETY: the semaphore is this context's timeline, alive while the context is.
        let v = unsafe { self.device.get_semaphore_counter_value(self.timeline) }
            .call("vkGetSemaphoreCounterValue")?;
        self.completed.fetch_max(v, Ordering::SeqCst);
        Ok(v)
    }

    /// Blocks until submission `value` has completed.
    pub fn wait_for(&self, value: u64) -> Result<()> {
        if self.completed.load(Ordering::SeqCst) >= value {
            return Ok(());
        }
        let semaphores = [self.timeline];
        let values = [value];
        let info = vk::SemaphoreWaitInfo::default()
            .semaphores(&semaphores)
            .values(&values);
        // SAFETY: the semaphore is this context's timeline; waiting needs no queue lock.
        unsafe { self.device.wait_semaphores(&info, u64::MAX) }.call("vkWaitSemaphores")?;
        self.completed.fetch_max(value, Ordering::SeqCst);
        Ok(())
    }
}

/// What [`Context::new`] has created so far: destroyed in reverse order, with the callbacks
/// they were created with, when a later step fails (forgotten on success), so a failed
/// creation leaks nothing, from the host's allocator included.
struct Unwind {
    cb: Option<vk::AllocationCallbacks<'static>>,
    instance: ash::Instance,
    messenger: Option<(ash::ext::debug_utils::Instance, vk::DebugUtilsMessengerEXT)>,
    device: Option<ash::Device>,
    pool: vk::CommandPool,
}

impl Drop for Unwind {
    fn drop(&mut self) {
        let cb = self.cb.as_ref();
        // SAFETY: each object was created by `Context::new` with `cb`, nothing was submitted
        // yet, and the failed creation hands none of them out.
        unsafe {
            if let Some(device) = &self.device {
                if self.pool != vk::CommandPool::null() {
                    device.destroy_command_pool(self.pool, cb);
                }
                device.destroy_device(cb);
            }
            if let Some((loader, messenger)) = &self.messenger {
                loader.destroy_debug_utils_messenger(*messenger, cb);
            }
            self.instance.destroy_instance(cb);
        }
    }
}

/// A budget of 0 bytes would refuse every object: an error, not a context that cannot render.
fn check_budget(budget: Option<u64>) -> Result<()> {
    if budget == Some(0) {
        return Err(VkError::Invalid("a memory budget of 0 bytes".into()));
    }
    Ok(())
}

/// A timeline semaphore starting at 0.
fn create_timeline(
    device: &ash::Device,
    cb: Option<&vk::AllocationCallbacks<'static>>,
) -> Result<vk::Semaphore> {
    let mut kind = vk::SemaphoreTypeCreateInfo::default()
        .semaphore_type(vk::SemaphoreType::TIMELINE)
        .initial_value(0);
    let info = vk::SemaphoreCreateInfo::default().push_next(&mut kind);
    // SAFETY: valid device with the timelineSemaphore feature enabled.
    unsafe { device.create_semaphore(&info, cb) }.call("vkCreateSemaphore")
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: every Buffer/Pipeline/Submission holds an Arc<Context>, so none is alive
        // here; the context's own submissions are waited for (its timeline) before its
        // objects are destroyed, in reverse creation order. A borrowed device and instance
        // stay the host's.
        unsafe {
            if self.wait_idle().is_err() && !self.borrowed {
                let _ = self.device.device_wait_idle();
            }
            ManuallyDrop::drop(&mut self.allocator);
            let cb = self.host_allocator.as_ref().map(HostAllocator::callbacks);
            let pool = *self
                .command_pool
                .get_mut()
                .unwrap_or_else(|e| e.into_inner());
            self.device.destroy_command_pool(pool, cb);
            self.device.destroy_semaphore(self.timeline, cb);
            if self.borrowed {
                return;
            }
            self.device.destroy_device(cb);
            if let Some((loader, messenger)) = self.debug.take() {
                loader.destroy_debug_utils_messenger(messenger, cb);
            }
            self.instance.destroy_instance(cb);
        }
    }
}

fn create_instance(
    entry: &ash::Entry,
    validation: bool,
    cb: Option<&vk::AllocationCallbacks<'static>>,
) -> Result<ash::Instance> {
    let app_name = c"vksplat";
    let app = vk::ApplicationInfo::default()
        .application_name(app_name)
        .engine_name(app_name)
        .api_version(vk::API_VERSION_1_2);
    let layers = [VALIDATION_LAYER.as_ptr()];
    let extensions = [ash::ext::debug_utils::NAME.as_ptr()];
    let mut info = vk::InstanceCreateInfo::default().application_info(&app);
    if validation {
        info = info
            .enabled_layer_names(&layers)
            .enabled_extension_names(&extensions);
    }
    // SAFETY: create info points at live locals.
    match unsafe { entry.create_instance(&info, cb) } {
        Ok(i) => Ok(i),
        Err(vk::Result::ERROR_INCOMPATIBLE_DRIVER) => Err(VkError::NoDevice(format!(
            "the Vulkan loader found no driver; {}",
            driver_hint()
        ))),
        // The loader answers a driver manifest that is not valid JSON with
        // OUT_OF_HOST_MEMORY, and a driver whose library fails to initialise with
        // INITIALIZATION_FAILED: both mean "no usable driver here", not a render failure.
        Err(
            e @ (vk::Result::ERROR_OUT_OF_HOST_MEMORY | vk::Result::ERROR_INITIALIZATION_FAILED),
        ) => Err(VkError::NoDevice(format!(
            "vkCreateInstance failed with {e:?}, which the Vulkan loader also reports for a \
                 malformed driver manifest (JSON) or a driver that does not initialise; {}",
            driver_hint()
        ))),
        Err(e) => Err(VkError::Call {
            call: "vkCreateInstance",
            result: e,
        }),
    }
}

fn physical_devices(instance: &ash::Instance) -> Result<Vec<vk::PhysicalDevice>> {
    // SAFETY: the caller's instance is valid.
    match unsafe { instance.enumerate_physical_devices() } {
        Ok(list) => Ok(list),
        // A driver that loads but cannot start (missing device node, broken install).
        Err(vk::Result::ERROR_INITIALIZATION_FAILED) => Err(VkError::NoDevice(format!(
            "the Vulkan driver failed to initialise (vkEnumeratePhysicalDevices: \
             ERROR_INITIALIZATION_FAILED); {}",
            driver_hint()
        ))),
        Err(e) => Err(VkError::Call {
            call: "vkEnumeratePhysicalDevices",
            result: e,
        }),
    }
}

/// The driver-manifest variables the loader honours, with their values when set, as advice
/// for a machine where no driver could be loaded.
fn driver_hint() -> String {
    let set: Vec<String> = ["VK_DRIVER_FILES", "VK_ICD_FILENAMES", "VK_ADD_DRIVER_FILES"]
        .iter()
        .filter_map(|name| {
            let value = std::env::var_os(name)?;
            (!value.is_empty()).then(|| format!("{name}={}", value.to_string_lossy()))
        })
        .collect();
    if set.is_empty() {
        "install a Vulkan driver (mesa-vulkan-drivers provides a CPU one)".into()
    } else {
        format!(
            "check {}: each entry must be an existing driver manifest (JSON) whose \
             library_path names a loadable Vulkan driver",
            set.join(", ")
        )
    }
}

fn compute_queue_family(instance: &ash::Instance, pd: vk::PhysicalDevice) -> Option<u32> {
    // SAFETY: pd comes from this instance.
    let families = unsafe { instance.get_physical_device_queue_family_properties(pd) };
    // Prefer a compute-capable family; graphics families always support compute too.
    families
        .iter()
        .position(|f| f.queue_flags.contains(vk::QueueFlags::COMPUTE) && f.queue_count > 0)
        .map(|i| i as u32)
}

fn describe(instance: &ash::Instance, pd: vk::PhysicalDevice, index: usize) -> DeviceInfo {
    let mut subgroup = vk::PhysicalDeviceSubgroupProperties::default();
    let mut maint3 = vk::PhysicalDeviceMaintenance3Properties::default();
    let mut props2 = vk::PhysicalDeviceProperties2::default()
        .push_next(&mut subgroup)
        .push_next(&mut maint3);
    // SAFETY: pd comes from this instance; Vulkan 1.1+ entry point (instance is 1.2).
    unsafe { instance.get_physical_device_properties2(pd, &mut props2) };
    let props = props2.properties;
    let name = props
        .device_name_as_c_str()
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "<unnamed>".into());
    // SAFETY: as above.
    let exts = unsafe { instance.enumerate_device_extension_properties(pd) }.unwrap_or_default();
    let has_push = exts.iter().any(|e| {
        e.extension_name_as_c_str()
            .map(|n| n == ash::khr::push_descriptor::NAME)
            .unwrap_or(false)
    });
    // SAFETY: as above.
    let memory = unsafe { instance.get_physical_device_memory_properties(pd) };
    let device_local_bytes = memory.memory_heaps[..memory.memory_heap_count as usize]
        .iter()
        .filter(|h| h.flags.contains(vk::MemoryHeapFlags::DEVICE_LOCAL))
        .map(|h| h.size)
        .max()
        .unwrap_or(0);
    let mut features12 = vk::PhysicalDeviceVulkan12Features::default();
    let mut features2 = vk::PhysicalDeviceFeatures2::default().push_next(&mut features12);
    // SAFETY: pd comes from this instance; Vulkan 1.1+ entry point.
    unsafe { instance.get_physical_device_features2(pd, &mut features2) };
    let has_bda = features12.buffer_device_address == vk::TRUE;
    let has_timeline = features12.timeline_semaphore == vk::TRUE;
    let mut unusable = None;
    if props.api_version < vk::API_VERSION_1_2 {
        unusable = Some("needs Vulkan 1.2".to_string());
    } else if !has_bda {
        unusable = Some("lacks bufferDeviceAddress".to_string());
    } else if !has_timeline {
        unusable = Some("lacks timelineSemaphore".to_string());
    } else if !has_push {
        unusable = Some("lacks VK_KHR_push_descriptor".to_string());
    } else if compute_queue_family(instance, pd).is_none() {
        unusable = Some("has no compute queue".to_string());
    }
    DeviceInfo {
        index,
        name,
        kind: DeviceKind::from_vk(props.device_type),
        api_version: version_triple(props.api_version),
        subgroup_size: subgroup.subgroup_size,
        max_storage_buffer_range: props.limits.max_storage_buffer_range as u64,
        max_texel_buffer_elements: props.limits.max_texel_buffer_elements as u64,
        max_memory_allocation_size: maint3.max_memory_allocation_size,
        device_local_bytes,
        max_compute_workgroup_count: props.limits.max_compute_work_group_count,
        max_shared_memory: props.limits.max_compute_shared_memory_size,
        timestamp_period_ns: props.limits.timestamp_period,
        unusable,
    }
}

fn summary(infos: &[DeviceInfo]) -> String {
    if infos.is_empty() {
        return format!(
            "the Vulkan loader reports no physical devices; {}",
            driver_hint()
        );
    }
    let list: Vec<String> = infos
        .iter()
        .map(|d| {
            format!(
                "[{}] {} ({:?}){}",
                d.index,
                d.name,
                d.kind,
                d.unusable
                    .as_ref()
                    .map(|u| format!(": unusable, {u}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    format!("found {}", list.join("; "))
}

fn choose<'a>(infos: &'a [DeviceInfo], choice: &DeviceChoice) -> Result<&'a DeviceInfo> {
    let usable = || infos.iter().filter(|d| d.unusable.is_none());
    let found = match choice {
        DeviceChoice::Auto => usable().min_by_key(|d| (d.kind.preference(), d.index)),
        DeviceChoice::Cpu => usable().find(|d| d.kind == DeviceKind::Cpu),
        DeviceChoice::Gpu => usable()
            .filter(|d| !d.is_software())
            .min_by_key(|d| (d.kind.preference(), d.index)),
        DeviceChoice::Index(i) => usable().find(|d| d.index == *i),
        DeviceChoice::Name(n) => {
            let n = n.to_lowercase();
            usable().find(|d| d.name.to_lowercase().contains(&n))
        }
    };
    found.ok_or_else(|| {
        let wanted = match choice {
            DeviceChoice::Auto => "any device".to_string(),
            DeviceChoice::Cpu => "a CPU device (lavapipe)".to_string(),
            DeviceChoice::Gpu => "a hardware GPU (--device gpu refuses CPU and software \
                                  devices such as lavapipe/llvmpipe and SwiftShader)"
                .to_string(),
            DeviceChoice::Index(i) => format!("device index {i}"),
            DeviceChoice::Name(n) => format!("a device named like '{n}'"),
        };
        VkError::NoDevice(format!("wanted {wanted}; {}", summary(infos)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(index: usize, name: &str, kind: DeviceKind, unusable: Option<&str>) -> DeviceInfo {
        DeviceInfo {
            index,
            name: name.into(),
            kind,
            api_version: (1, 3, 0),
            subgroup_size: 8,
            max_storage_buffer_range: 1 << 27,
            max_texel_buffer_elements: 1 << 27,
            max_memory_allocation_size: 1 << 30,
            device_local_bytes: 1 << 30,
            max_compute_workgroup_count: [65535; 3],
            max_shared_memory: 32768,
            timestamp_period_ns: 1.0,
            unusable: unusable.map(String::from),
        }
    }

    #[test]
    fn parse_names_gpu() {
        assert_eq!(DeviceChoice::parse("gpu"), DeviceChoice::Gpu);
        assert_eq!(DeviceChoice::parse("cpu"), DeviceChoice::Cpu);
        assert_eq!(DeviceChoice::parse("2"), DeviceChoice::Index(2));
        assert_eq!(DeviceChoice::parse("RTX"), DeviceChoice::Name("RTX".into()));
    }

    #[test]
    fn gpu_refuses_software_devices() {
        let lavapipe = device(0, "llvmpipe (LLVM 19.1.7, 256 bits)", DeviceKind::Cpu, None);
        // SwiftShader reports CPU, but a software driver that claims another type is caught
        // by its name.
        let swiftshader = device(1, "SwiftShader Device (Subzero)", DeviceKind::Other, None);
        let list = [lavapipe.clone(), swiftshader];
        let err = choose(&list, &DeviceChoice::Gpu).unwrap_err();
        let VkError::NoDevice(msg) = &err else {
            panic!("{err:?}")
        };
        assert!(msg.contains("hardware GPU"), "{msg}");
        assert!(
            msg.contains("[0] llvmpipe") && msg.contains("[1] SwiftShader"),
            "{msg}"
        );
        // auto still takes a software device when nothing else is there.
        assert!(choose(&list, &DeviceChoice::Auto).is_ok());
        assert_eq!(choose(&list[..1], &DeviceChoice::Auto).unwrap().index, 0);

        let list = [
            lavapipe,
            device(1, "Intel(R) UHD Graphics", DeviceKind::Integrated, None),
            device(
                2,
                "NVIDIA H100",
                DeviceKind::Discrete,
                Some("lacks bufferDeviceAddress"),
            ),
            device(3, "AMD Radeon", DeviceKind::Discrete, None),
        ];
        // The usable discrete GPU first, never the unusable one.
        assert_eq!(choose(&list, &DeviceChoice::Gpu).unwrap().index, 3);
        assert_eq!(choose(&list[..2], &DeviceChoice::Gpu).unwrap().index, 1);
    }

    #[test]
    fn no_device_names_the_driver_variables() {
        let err = choose(&[], &DeviceChoice::Auto).unwrap_err();
        assert!(err.to_string().contains("no physical devices"), "{err}");
    }
}
