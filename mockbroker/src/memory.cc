#include "memory.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace kwire::mockbroker::detail {

void give_back_free_memory() noexcept {
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

}  // namespace kwire::mockbroker::detail
