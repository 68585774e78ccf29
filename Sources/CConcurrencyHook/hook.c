#include "CConcurrencyHook.h"

// Declared by the Swift concurrency runtime as a function pointer; only its address is used here.
extern const void *swift_task_enqueueGlobal_hook;

bool c_concurrency_install_enqueue_global_hook(const void *hook) {
    const void *none = 0;
    return __atomic_compare_exchange_n(
        &swift_task_enqueueGlobal_hook, &none, hook, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
