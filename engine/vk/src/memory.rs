//! Device memory of a context: the one place where buffers and images get and return their
//! memory, with the accounting behind [`Context::memory_stats`] and the optional budget, and
//! the host's allocation callbacks ([`HostAllocator`]).
//!
//! Invariants:
//! - Every allocation goes through [`Context::allocate_memory`] and every free through
//!   [`Context::free_memory`]; the ledger's totals are the sum of the live allocations' sizes
//!   (the bytes the objects need, not the larger blocks gpu-allocator reserves:
//!   [`MemoryStats::reserved_bytes`] reports those; gpu-allocator 0.27 ignores
//!   `AllocatorCreateDesc::allocation_sizes`, so its blocks are always 256 MiB device-local and
//!   64 MiB host-visible, budget or not).
//! - A budget is checked and the bytes are counted under one lock, before the allocation is
//!   made: two threads cannot both pass the check with the last free bytes, and a refused
//!   request leaves nothing allocated.
//! - A buffer's class is its usage (staging buffers are [`MemoryClass::Staging`]) or else the
//!   first dot-separated part of its debug name: `scene.*` and `plugin.*` (a plugin scene's
//!   own buffers) are [`MemoryClass::Scene`], `frame.*` is [`MemoryClass::Frame`], anything
//!   else [`MemoryClass::Other`]. The engine names every buffer so ([`MemoryClass::of_name`]).
//! - Host allocation callbacks, when given, are passed to every create and destroy call the
//!   context makes for its own objects (instance, messenger and device of a standalone
//!   context; command pool, semaphore, query pools, buffers, images, descriptor set layouts,
//!   pipeline layouts, shader modules, pipelines), the same set at create and destroy as
//!   Vulkan requires. gpu-allocator 0.27 passes no callbacks to `vkAllocateMemory` and
//!   `vkFreeMemory` (its `AllocatorCreateDesc` has no field for them), so the driver's
//!   host-side bookkeeping of `VkDeviceMemory` objects does not reach the host's callbacks.

use std::sync::MutexGuard;

use ash::vk;
use gpu_allocator::vulkan::{Allocation, AllocationCreateDesc, AllocationScheme};
use gpu_allocator::MemoryLocation;

use crate::{Context, Result, VkError};

/// What a block of device memory is for, in [`MemoryStats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryClass {
    /// Splat data of scenes (and plugin scenes' own buffers).
    Scene,
    /// Per-frame working buffers (kept for the largest frame so far).
    Frame,
    /// Host-visible staging: uploads, readbacks, the readback slots of frames in flight.
    Staging,
    /// Anything else (e.g. the standalone GPU sort of `vksplat bench`).
    Other,
}

impl MemoryClass {
    /// The class of a device-local object by its debug name (module docs).
    pub fn of_name(name: &str) -> Self {
        match name.split('.').next().unwrap_or("") {
            "scene" | "plugin" => MemoryClass::Scene,
            "frame" => MemoryClass::Frame,
            _ => MemoryClass::Other,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Device memory a context holds, in bytes ([`Context::memory_stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryStats {
    /// Bytes of all live buffers and images (device-local and host-visible).
    pub device_bytes: u64,
    /// The highest `device_bytes` since the context was created.
    pub peak_device_bytes: u64,
    /// `device_bytes` by class.
    pub scene_bytes: u64,
    pub frame_bytes: u64,
    pub staging_bytes: u64,
    pub other_bytes: u64,
    /// The part of `device_bytes` allocated host-visible (staging and readback; on a CPU
    /// device all of it is host memory anyway).
    pub host_visible_bytes: u64,
    /// Bytes of the `VkDeviceMemory` blocks gpu-allocator holds for them (at least
    /// `device_bytes`: it sub-allocates from larger blocks).
    pub reserved_bytes: u64,
    /// Live allocations (buffers and images).
    pub allocations: u64,
    /// The budget `device_bytes` may not exceed, if any.
    pub budget: Option<u64>,
}

/// The running totals behind [`MemoryStats`].
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    by_class: [u64; 4],
    host_visible: u64,
    peak: u64,
    allocations: u64,
    budget: Option<u64>,
}

impl Ledger {
    pub(crate) fn new(budget: Option<u64>) -> Self {
        Ledger {
            budget,
            ..Default::default()
        }
    }

    fn total(&self) -> u64 {
        self.by_class.iter().sum()
    }

    fn describe(&self) -> String {
        format!(
            "scenes {} B, frames {} B, staging {} B, other {} B",
            self.by_class[MemoryClass::Scene.index()],
            self.by_class[MemoryClass::Frame.index()],
            self.by_class[MemoryClass::Staging.index()],
            self.by_class[MemoryClass::Other.index()]
        )
    }
}

/// What [`Context::allocate_memory`] counted, for [`Context::free_memory`].
#[derive(Debug)]
pub(crate) struct Counted {
    class: MemoryClass,
    bytes: u64,
    host_visible: bool,
}

/// A host's `VkAllocationCallbacks` for a context (standalone or borrowed device).
#[derive(Clone, Copy)]
pub struct HostAllocator(vk::AllocationCallbacks<'static>);

// SAFETY: the constructor's contract makes the callbacks and their user data callable from
// any thread for the context's life.
unsafe impl Send for HostAllocator {}
// SAFETY: as for Send; the struct is only read.
unsafe impl Sync for HostAllocator {}

impl std::fmt::Debug for HostAllocator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostAllocator")
            .field("user_data", &self.0.p_user_data)
            .finish_non_exhaustive()
    }
}

impl HostAllocator {
    /// Wraps a host's callbacks. `pfnAllocation`, `pfnReallocation` and `pfnFree` must be
    /// set, and the two internal notifications both or neither (as Vulkan requires).
    ///
    /// # Safety
    ///
    /// The callbacks behave as Vulkan specifies (alignment honoured, thread-safe: they are
    /// called from any thread that uses the context), and they and `pUserData` stay valid
    /// until the context made with them and every object made from it are destroyed.
    pub unsafe fn new(callbacks: vk::AllocationCallbacks<'static>) -> Result<Self> {
        if callbacks.pfn_allocation.is_none()
            || callbacks.pfn_reallocation.is_none()
            || callbacks.pfn_free.is_none()
        {
            return Err(VkError::Invalid(
                "allocation callbacks need pfnAllocation, pfnReallocation and pfnFree".into(),
            ));
        }
        if callbacks.pfn_internal_allocation.is_some() != callbacks.pfn_internal_free.is_some() {
            return Err(VkError::Invalid(
                "allocation callbacks need both pfnInternalAllocation and pfnInternalFree, or \
                 neither"
                    .into(),
            ));
        }
        Ok(HostAllocator(callbacks))
    }

    pub(crate) fn callbacks(&self) -> &vk::AllocationCallbacks<'static> {
        &self.0
    }
}

impl Context {
    /// The host's allocation callbacks for every create/destroy call of the context's own
    /// objects (None: the driver's allocator).
    pub(crate) fn host_callbacks(&self) -> Option<&vk::AllocationCallbacks<'static>> {
        self.host_allocator.as_ref().map(HostAllocator::callbacks)
    }

    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Device memory for an object named `name` of `class`: checked against the budget and
    /// counted, then allocated (module docs).
    pub(crate) fn allocate_memory(
        &self,
        name: &str,
        class: MemoryClass,
        requirements: vk::MemoryRequirements,
        location: MemoryLocation,
        linear: bool,
    ) -> Result<(Allocation, Counted)> {
        let counted = Counted {
            class,
            bytes: requirements.size,
            host_visible: location != MemoryLocation::GpuOnly,
        };
        {
            let mut ledger = self.ledger();
            let total = ledger.total();
            if let Some(budget) = ledger.budget {
                if total.saturating_add(counted.bytes) > budget {
                    return Err(VkError::Budget {
                        name: name.into(),
                        request: counted.bytes,
                        budget,
                        held: total,
                        detail: ledger.describe(),
                    });
                }
            }
            ledger.by_class[class.index()] += counted.bytes;
            if counted.host_visible {
                ledger.host_visible += counted.bytes;
            }
            ledger.allocations += 1;
            ledger.peak = ledger.peak.max(total + counted.bytes);
        }
        let allocation = self
            .allocator
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .allocate(&AllocationCreateDesc {
                name,
                requirements,
                location,
                linear,
                allocation_scheme: AllocationScheme::GpuAllocatorManaged,
            });
        match allocation {
            Ok(a) => Ok((a, counted)),
            Err(e) => {
                self.uncount(&counted);
                Err(VkError::Allocation {
                    name: name.into(),
                    size: requirements.size,
                    message: e.to_string(),
                })
            }
        }
    }

    /// Returns memory from [`Context::allocate_memory`]. The GPU must be done with it.
    pub(crate) fn free_memory(&self, allocation: Allocation, counted: &Counted) {
        let _ = self
            .allocator
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .free(allocation);
        self.uncount(counted);
    }

    fn uncount(&self, counted: &Counted) {
        let mut ledger = self.ledger();
        ledger.by_class[counted.class.index()] -= counted.bytes;
        if counted.host_visible {
            ledger.host_visible -= counted.bytes;
        }
        ledger.allocations -= 1;
    }

    /// The device memory this context holds now and at peak, by class.
    pub fn memory_stats(&self) -> MemoryStats {
        let reserved_bytes = self
            .allocator
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .generate_report()
            .total_reserved_bytes;
        let ledger = self.ledger();
        MemoryStats {
            device_bytes: ledger.total(),
            peak_device_bytes: ledger.peak,
            scene_bytes: ledger.by_class[MemoryClass::Scene.index()],
            frame_bytes: ledger.by_class[MemoryClass::Frame.index()],
            staging_bytes: ledger.by_class[MemoryClass::Staging.index()],
            other_bytes: ledger.by_class[MemoryClass::Other.index()],
            host_visible_bytes: ledger.host_visible,
            reserved_bytes,
            allocations: ledger.allocations,
            budget: ledger.budget,
        }
    }

    /// Sets (Some) or lifts (None) the budget of device bytes (buffers and images) this
    /// context may hold. Memory already held stays; a later allocation that would take the
    /// total beyond the budget fails with [`VkError::Budget`]. A budget of 0 is refused.
    pub fn set_memory_budget(&self, budget: Option<u64>) -> Result<()> {
        if budget == Some(0) {
            return Err(VkError::Invalid("a memory budget of 0 bytes".into()));
        }
        self.ledger().budget = budget;
        Ok(())
    }

    /// Bytes of device memory currently held by live buffers and images.
    pub fn allocated_bytes(&self) -> u64 {
        self.ledger().total()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_name_prefix() {
        assert_eq!(MemoryClass::of_name("scene.means"), MemoryClass::Scene);
        assert_eq!(
            MemoryClass::of_name("plugin.skin.bones"),
            MemoryClass::Scene
        );
        assert_eq!(MemoryClass::of_name("frame.rgba"), MemoryClass::Frame);
        assert_eq!(MemoryClass::of_name("sort.keys0"), MemoryClass::Other);
        assert_eq!(MemoryClass::of_name("scenery"), MemoryClass::Other);
        assert_eq!(MemoryClass::of_name(""), MemoryClass::Other);
    }

    /// # Safety
    /// Never called: the tests only check which callbacks are set.
    unsafe extern "system" fn never_alloc(
        _: *mut std::ffi::c_void,
        _: usize,
        _: usize,
        _: vk::SystemAllocationScope,
    ) -> *mut std::ffi::c_void {
        std::ptr::null_mut()
    }

    /// # Safety
    /// Never called.
    unsafe extern "system" fn never_realloc(
        _: *mut std::ffi::c_void,
        _: *mut std::ffi::c_void,
        _: usize,
        _: usize,
        _: vk::SystemAllocationScope,
    ) -> *mut std::ffi::c_void {
        std::ptr::null_mut()
    }

    /// # Safety
    /// Never called.
    unsafe extern "system" fn never_free(_: *mut std::ffi::c_void, _: *mut std::ffi::c_void) {}

    /// # Safety
    /// Never called.
    unsafe extern "system" fn never_note(
        _: *mut std::ffi::c_void,
        _: usize,
        _: vk::InternalAllocationType,
        _: vk::SystemAllocationScope,
    ) {
    }

    #[test]
    fn incomplete_callbacks_are_refused() {
        // The callbacks are never called: only the constructor's checks run.
        let check = |cb: vk::AllocationCallbacks<'static>| {
            // SAFETY: no context is made with them, so nothing ever calls them.
            unsafe { HostAllocator::new(cb) }.map(|_| ())
        };
        let full = vk::AllocationCallbacks::default()
            .pfn_allocation(Some(never_alloc))
            .pfn_reallocation(Some(never_realloc))
            .pfn_free(Some(never_free));
        assert!(check(full).is_ok());
        let e = check(full.pfn_free(None)).unwrap_err();
        assert!(e.to_string().contains("pfnFree"), "{e}");
        let one_note = full.pfn_internal_allocation(Some(never_note));
        let e = check(one_note).unwrap_err();
        assert!(e.to_string().contains("pfnInternalFree"), "{e}");
        assert!(check(one_note.pfn_internal_free(Some(never_note))).is_ok());
    }
}
