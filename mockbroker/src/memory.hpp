// Giving freed memory back to the operating system. A mock that held
// gigabytes of records keeps them in the allocator's free lists after a
// topic is deleted or the cluster reset; a test machine wants them back.
// Internal to the mock (not installed).
#pragma once

namespace kwire::mockbroker::detail {

/// Returns the allocator's free pages to the system (glibc's malloc_trim;
/// nothing elsewhere). Costs a walk of the heap: call it after large frees
/// only (a deleted topic, a reset, a cleared request log).
void give_back_free_memory() noexcept;

}  // namespace kwire::mockbroker::detail
